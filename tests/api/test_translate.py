"""Unit tests of the pure parts of the API: sessions in the platform's shapes, request parsing, the token."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from canfar_desktop.api.params import ApiError, parse_create
from canfar_desktop.api.server import Address, export_lines
from canfar_desktop.api.token import TokenStore
from canfar_desktop.api.translate import (
    Usage,
    context_json,
    events_text,
    images_json,
    local_image,
    platform_status,
    session_json,
    stats_json,
    status_filter,
)
from canfar_desktop.core.events import EngineEvent
from canfar_desktop.core.host import HostInfo, ImageInfo
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.record import replace
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
HOST = HostInfo(name="local", engine_version="27", api_version="1.47", cpus=4, memory_bytes=16 * 1024**3,
                os="Debian", gpus_possible=False, docker_root="/var/lib/docker")


def session(**changes: object) -> Session:
    base = Session(id="abcd1234", name="x", kind="notebook", image="canfar-desktop/notebook:latest", owner="ann",
                   host="local", container_id="c" * 64, container_name="canfar-x-abcd1234", created=T0,
                   expiry=T0 + timedelta(days=4), resources=Resources(), status="running", state=State.RUNNING)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "status", "word"), [
    (State.LAUNCHING, "created", "Pending"),
    (State.RUNNING, "running", "Running"),
    (State.SUSPENDED, "running", "Running"),
    (State.TERMINATING, "removing", "Terminating"),
    (State.TERMINATED, "exited", "Completed"),
    (State.FAILED, "exited", "Failed"),
    (State.EXPIRED, "exited", "Failed"),
    (State.EXPIRED, "running", "Terminating"),
])
def test_states_become_the_platform_status_words(state: State, status: str, word: str) -> None:
    assert platform_status(session(state=state, status=status)) == word


def test_status_filter_accepts_legacy_words() -> None:
    assert status_filter("succeeded") == "Completed"
    assert status_filter("Error") == "Failed"
    assert status_filter("running") == "Running"
    assert status_filter(None) is None


def test_fixed_session_json_has_the_platform_fields() -> None:
    s = session(resources=Resources(mode="fixed", cores=1, ram_gb=2), memory_limit=2 * 1024**3)
    data = session_json(s, 1000, 1000, url="http://127.0.0.1:1/x?token=t",
                        usage=Usage(cpu_cores=0.25, memory_bytes=512 * 10**6))
    assert data["id"] == "abcd1234" and data["userid"] == "ann" and data["type"] == "notebook"
    assert data["status"] == "Running" and data["startTime"] == "2026-01-02T03:04:05Z"
    assert data["expiryTime"] == "2026-01-06T03:04:05Z"
    assert data["requestedCPUCores"] == "1" and data["requestedRAM"] == "2.15" and data["isFixedResources"] is True
    assert data["ramInUse"] == "0.51" and data["cpuCoresInUse"] == "0.250"
    assert data["runAsUID"] == "1000" and data["connectURL"].endswith("token=t")


def test_flexible_session_leaves_out_what_is_not_known() -> None:
    data = session_json(session(state=State.LAUNCHING, status="created"), 1000, 1000)
    assert data["isFixedResources"] is False
    for absent in ("requestedRAM", "requestedCPUCores", "connectURL", "ramInUse", "cpuCoresInUse"):
        assert absent not in data


def test_events_table_splits_into_five_columns_as_the_client_reads_it() -> None:
    events = [EngineEvent(T0, "create", "image  with   spaces", "c", "abcd1234"),
              EngineEvent(T0, "start", "", "c", "abcd1234"),
              EngineEvent(T0, "die", "exit code 3", "c", "abcd1234")]
    lines = events_text(events).strip().split("\n")
    assert lines[0].split()[:2] == ["TYPE", "REASON"]
    rows = [re.split(r"\s{2,}", line) for line in lines[1:]]
    assert all(len(r) == 5 for r in rows)
    assert rows[0][:3] == ["Normal", "Created", "image with spaces"]
    assert rows[2][:3] == ["Warning", "Died", "exit code 3"]
    assert events_text([]) == "<none>\n"


def test_stats_and_context_come_from_the_host() -> None:
    active = [session(resources=Resources(mode="fixed", cores=2, ram_gb=8)), session()]
    stats = stats_json([HOST], [*active, session(state=State.TERMINATED, status="exited")])
    assert stats["cores"]["requestedCPUCores"] == 3.0 and stats["cores"]["cpuCoresAvailable"] == 4.0
    assert stats["ram"]["requestedRAM"] == "12.88G"  # 12 GiB in decimal GB
    context = context_json(HOST, Resources(cores=2, ram_gb=16), 3)
    assert context["cores"]["options"] == [1, 2, 3, 4] and context["cores"]["default"] == 2
    assert context["memoryGB"]["options"][-1] == 16 and context["gpus"]["options"] == []
    assert context["maxInteractiveSessions"] == 3


def test_images_list_labelled_images_with_headless() -> None:
    images = [ImageInfo("canfar-desktop/notebook:latest", frozenset({"notebook"}), 1, "", "", "sha256:ab"),
              ImageInfo("debian:12", frozenset(), 1, "", "")]
    assert images_json(images) == [{"id": "canfar-desktop/notebook:latest", "types": ["notebook", "headless"],
                                    "digest": "sha256:ab"}]
    assert images_json(images, "desktop") == []


def test_client_prefix_maps_back_to_the_local_image() -> None:
    local = ["canfar-desktop/notebook:latest"]
    assert local_image("images.canfar.net/canfar-desktop/notebook:latest", local) == "canfar-desktop/notebook:latest"
    assert local_image("canfar-desktop/notebook", local) == "canfar-desktop/notebook:latest"
    assert local_image("images.canfar.net/skaha/astroml:latest", local) == "images.canfar.net/skaha/astroml:latest"


def test_create_parameters_in_the_platform_order() -> None:
    def parse(**params: str) -> object:
        return parse_create({k: [v] for k, v in params.items()}, HOST, Resources())

    args = parse(name="job", image="x/y")
    assert args.kind == "headless" and args.resources.mode == "flexible"  # type: ignore[attr-defined]
    args = parse(name="job", image="x/y", cmd="python3", args="-c print(1)  x")
    assert args.command == ("python3", "-c", "print(1)", "x")  # type: ignore[attr-defined]
    args = parse(name="nb", image="x/y", type="notebook", cores="2", cmd="ignored")
    assert args.resources.mode == "fixed" and args.resources.cores == 2 and args.command == ()  # type: ignore[attr-defined]
    for params, text in [({"image": "x/y"}, "Missing parameter 'name'"),
                         ({"name": "a b", "image": "x/y"}, "name can only contain alpha-numeric chars and '-'"),
                         ({"name": "a", "image": "x/y", "cores": "5"}, "Unavailable option for 'cores': 5"),
                         ({"name": "a", "image": "x/y", "gpus": "1"}, "Unavailable option for 'gpus': 1"),
                         ({"name": "a" * 40, "image": "x/y"}, "40 characters")]:
        with pytest.raises(ApiError) as err:
            parse(**params)
        assert err.value.status == 400 and text in err.value.text


def test_token_is_private_long_and_rotates(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "state" / "api-token")
    token = store.get()
    assert len(token) >= 43 and store.get() == token  # 256 bits of url-safe base64
    assert stat.S_IMODE((tmp_path / "state" / "api-token").stat().st_mode) == 0o600
    assert store.matches(token) and not store.matches("") and not store.matches(token + "x")
    other = TokenStore(tmp_path / "state" / "api-token")  # another process rotates: this one notices
    new = other.rotate()
    assert new != token and store.get() == new and not store.matches(token)
    assert export_lines(Address(7654), new) == (f"export CANFAR_URL=http://127.0.0.1:7654/skaha/v1\n"
                                                f"export CANFAR_TOKEN={new}\n")


def test_the_cli_does_not_import_the_http_stack() -> None:
    code = ("import sys, canfar_desktop.cli, canfar_desktop.api.token, canfar_desktop.api.server; "
            "print([m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
