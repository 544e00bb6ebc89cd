"""Sessions live on a bridge with inter-container traffic off: no container on the host reaches one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canfar_desktop.core.gate import gate_name
from canfar_desktop.core.plan import SESSION_NETWORK
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session

from ..helpers import wait_for

PROBE = ("python3 -c \"import socket,sys; s=socket.socket(); s.settimeout(2); "
         "print(s.connect_ex((sys.argv[1], 5000)))\" {ip}")


def address(docker_engine: Any, s: Session) -> str:
    """A session's address on the sessions' network: its gate's, whose namespace it shares, if it has one."""
    owner = gate_name(s.id) if s.gated else s.container_id
    networks = docker_engine.api.inspect_container(owner)["NetworkSettings"]["Networks"]
    assert list(networks) == [SESSION_NETWORK], networks
    return str(networks[SESSION_NETWORK]["IPAddress"])


def test_no_container_reaches_a_session(make_service: Callable[..., SessionService],
                                        session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    image = session_images["contributed"]
    a = service.wait_ready(service.launch(service.prepare_launch("contributed", image, "iso-a")), 60)
    b = service.wait_ready(service.launch(service.prepare_launch("contributed", image, "iso-b")), 60)
    network = docker_engine.api.inspect_network(SESSION_NETWORK)
    assert network["Options"].get("com.docker.network.bridge.enable_icc") == "false"
    target = address(docker_engine, b)
    # the session answers on its own address from inside itself...
    own = docker_engine.containers.get(b.container_id).exec_run(["sh", "-c", PROBE.format(ip=target)])
    assert own.output.decode().strip() == "0", own.output
    # ...but not from another session on the same network
    other = docker_engine.containers.get(a.container_id).exec_run(["sh", "-c", PROBE.format(ip=target)])
    assert other.output.decode().strip() != "0", "a session reached another session"
    # nor from a container on the engine's default bridge
    outsider = docker_engine.containers.run(image, ["sh", "-c", PROBE.format(ip=target)], detach=True,
                                            labels={"net.canfar.desktop.test": "outsider"})
    try:
        wait_for(lambda: outsider.reload() or outsider.status == "exited", 30, "the outsider's probe")
        assert outsider.logs().decode().strip() not in ("", "0"), "a container on the default bridge reached it"
    finally:
        outsider.remove(force=True)


def test_a_network_that_lets_containers_talk_is_refused(make_service: Callable[..., SessionService],
                                                        docker_engine: Any) -> None:
    import secrets

    import pytest

    from canfar_desktop.core.errors import CanfarError

    name = "canfar-test-open-" + secrets.token_hex(3)
    docker_engine.networks.create(name, driver="bridge")  # inter-container traffic on, the engine's default
    try:
        with pytest.raises(CanfarError, match="lets containers reach each other") as found:
            make_service().host("local").ensure_network(name)
        assert f"docker network rm {name}" in found.value.hint
    finally:
        docker_engine.networks.get(name).remove()
