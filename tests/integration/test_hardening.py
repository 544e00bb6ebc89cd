"""Isolation and resources on the real engine: process limits, memory left for the host, the uid an
app running as root gives sessions, secrets kept out of `create`'s output, and http:// engines.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.plan import HOST_HEADROOM_SHARE, PIDS_LIMIT
from canfar_desktop.core.platform import is_root
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import AppPaths, HostConfig, Resources, save_settings

from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]
REPO = Path(__file__).resolve().parents[2]
ENGINE_SOCKET = "/var/run/docker.sock"


def launch(service: SessionService, image: str, name: str, kind: str = "contributed", host: str | None = None,
           resources: Resources | None = None) -> Session:
    return service.launch(service.prepare_launch(kind, image, name, resources, host=host))


def running(service: SessionService, s: Session) -> Session:
    wait_for(lambda: service.get(s.id, s.host).status == "running", 60, f"{s.name} to run")
    return service.get(s.id, s.host)


def test_a_session_cannot_start_unlimited_processes(make_service: Callable[..., SessionService],
                                                    session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    s = running(service, launch(service, session_images["contributed"], "pids"))
    container = docker_engine.containers.get(s.container_id)
    assert container.attrs["HostConfig"]["PidsLimit"] == PIDS_LIMIT
    code, out = container.exec_run(["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null"
                                                " || cat /sys/fs/cgroup/pids.max"])
    assert code == 0 and out.decode().strip() == str(PIDS_LIMIT), "the kernel enforces the limit in the session"


def test_a_flexible_session_leaves_memory_to_the_host(make_service: Callable[..., SessionService],
                                                      session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    total = int(docker_engine.info()["MemTotal"])
    s = running(service, launch(service, session_images["contributed"], "flex"))
    limit = int(docker_engine.containers.get(s.container_id).attrs["HostConfig"]["Memory"])
    assert 0 < limit <= total * (1 - HOST_HEADROOM_SHARE) + 2**20, \
        f"a flexible session may take {limit / 2**30:.1f} GB of the host's {total / 2**30:.1f} GB"
    assert service.dry_run(service.prepare_launch("contributed", session_images["contributed"], "flex2"))[
        "mem_limit"] == limit, "the dry run shows the same limit"


def test_as_root_sessions_run_as_an_id_no_account_has(make_service: Callable[..., SessionService],
                                                      session_images: dict[str, str], docker_engine: Any) -> None:
    """uid 1000 may be someone's account on the host, who could then read the session's secret."""
    if not is_root():
        pytest.fail("this test checks the app running as root; run it as root", pytrace=False)
    service = make_service()
    accounts = {int(line.split(":")[2]) for line in Path("/etc/passwd").read_text().splitlines() if line.count(":") >= 2}
    s = running(service, launch(service, session_images["contributed"], "as-root"))
    container = docker_engine.containers.get(s.container_id)
    uid, gid = (int(part) for part in container.attrs["Config"]["User"].split(":"))
    assert uid not in accounts and uid == service.settings.uid, f"sessions run as uid {uid}, an account on the host"
    assert gid == service.settings.gid >= 1
    code, out = container.exec_run(["id", "-u"])
    assert code == 0 and int(out.decode()) == uid


def test_create_prints_the_url_without_its_secret(make_service: Callable[..., SessionService], paths: AppPaths,
                                                  session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)  # the CLI below reads the same user and /arc
    image = session_images["notebook"]

    def create(*extra: str) -> tuple[Session, dict[str, Any], str]:
        done = subprocess.run([*CLI, "create", "notebook", image, "--wait", "-o", "json", *extra], cwd=REPO,
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        return service.get(data["id"]), data, done.stdout + done.stderr

    s, data, output = create()
    assert s.secret and s.secret not in output, "create printed the session secret"
    assert data["url"] == service.open_url(s).replace(s.secret, "********")
    shown, data, output = create("--show-secret")
    assert data["url"] == service.open_url(shown) and shown.secret in output


@pytest.fixture
def engine_over_http() -> Iterator[str]:
    """The machine's engine at http://127.0.0.1:PORT (a relay to its socket), as `DOCKER_HOST=http://…` gives it."""
    if not Path(ENGINE_SOCKET).exists():
        pytest.fail(f"{ENGINE_SOCKET} is missing: this test relays the local engine's socket", pytrace=False)
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(ENGINE_SOCKET)
            threading.Thread(target=pump, args=(client, engine), daemon=True).start()
            threading.Thread(target=pump, args=(engine, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


def test_an_http_engine_url_is_a_remote_host(engine_over_http: str, make_service: Callable[..., SessionService],
                                            session_images: dict[str, str], docker_engine: Any) -> None:
    """Its paths are not this computer's: /arc and /scratch are volumes there, never local bind mounts."""
    service = make_service(hosts=[HostConfig(), HostConfig(name="over-http", url=engine_over_http)])
    s = launch(service, session_images["contributed"], "via-http", host="over-http")
    try:
        mounts = {m["Destination"]: m for m in docker_engine.containers.get(s.container_id).attrs["Mounts"]}
        assert {d: m["Type"] for d, m in mounts.items()} == {
            f"/arc/home/{service.settings.user}": "volume", "/arc/projects": "volume", "/scratch": "volume"}, \
            "local folders were sent as bind mounts to a host reached over the network"
        assert service.storage_description("over-http").startswith("/arc is kept in Docker volumes on over-http")
    finally:
        service.delete(s)
        try:
            docker_engine.volumes.get(f"canfar-arc-home-{service.settings.user}").remove()
        except Exception:  # noqa: BLE001 - best effort: a volume of this test's own user
            pass


def test_a_network_engine_off_this_computer_needs_tls(make_service: Callable[..., SessionService]) -> None:
    for url in ("http://192.0.2.1:2375", "https://192.0.2.1:2376", "tcp://192.0.2.1:2375"):
        service = make_service(hosts=[HostConfig(), HostConfig(name="far", url=url)])
        with pytest.raises(ValidationError, match="no TLS CA configured"):
            service.host_info("far")  # refused before anything is sent in the clear
