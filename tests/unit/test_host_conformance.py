"""Every host kind answers every call of the SessionHost protocol with the protocol's parameters.

LocalEngine serves its fast reads itself and hands the rest to the SDK host through __getattr__, so
a method missing from both, or one whose parameters drifted, would only fail when first called."""

from __future__ import annotations

import inspect

import pytest

from canfar_desktop.core.backends.docker_engine import DockerHost
from canfar_desktop.core.backends.docker_remote import RemoteDockerHost
from canfar_desktop.core.backends.local_engine import LocalEngine
from canfar_desktop.core.backends.skaha import SkahaHost
from canfar_desktop.core.host import SessionHost


def protocol_methods() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(SessionHost).items()
            if callable(member) and not name.startswith("_")}


def parameters(sig: inspect.Signature) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in sig.parameters.values() if p.name != "self"]


def resolve(cls: type, name: str) -> object:
    """Where a call lands: the class itself, or (for LocalEngine) the SDK host it delegates to."""
    if hasattr(cls, name):
        return getattr(cls, name)
    if cls is LocalEngine and hasattr(DockerHost, name):
        return getattr(DockerHost, name)
    raise AssertionError(f"{cls.__name__} has no {name}")


def test_the_protocol_is_not_empty() -> None:
    assert {"summaries", "inspect", "create", "events", "logs", "stats", "top", "images", "info"} <= \
        set(protocol_methods())


@pytest.mark.parametrize("cls", [LocalEngine, DockerHost, RemoteDockerHost, SkahaHost])
def test_every_call_exists_with_the_protocols_parameters(cls: type) -> None:
    drift = []
    for name, wanted in protocol_methods().items():
        member = resolve(cls, name)
        if isinstance(member, property):
            continue
        got = inspect.signature(member)
        if parameters(got) != parameters(wanted):
            drift.append(f"{cls.__name__}.{name}{got} is not {name}{wanted}")
    assert drift == []
