"""Sessions on the real Docker engine with the project's own images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.errors import EngineUnavailable, LaunchError
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.plan import L_GATE_OF
from canfar_desktop.core.probe import rfb_banner
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import HostConfig, Resources

from ..helpers import http_get, wait_for


def run_in(docker_engine: Any, s: Session, script: str) -> str:
    container = docker_engine.containers.get(s.container_id)
    code, out = container.exec_run(["sh", "-c", script], user=container.attrs["Config"]["User"], demux=False)
    assert code == 0, f"{script!r} failed in the session: {out.decode(errors='replace')}"
    return str(out.decode().strip())


def launch(service: SessionService, kind: str, image: str, name: str, **kw: Any) -> Session:
    req = service.prepare_launch(kind, image, name, kw.pop("resources", None), env=kw.pop("env", ()))
    if kw:
        from canfar_desktop.core.record import replace

        req = replace(req, **kw)
    return service.launch(req)


def test_notebook_runs_and_its_api_needs_the_secret(make_service: Callable[..., SessionService],
                                                     session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    started = time.monotonic()
    s = service.wait_ready(launch(service, "notebook", session_images["notebook"], "nb-api"), timeout=120)
    assert s.state == State.RUNNING, s.reason
    print(f"notebook Running {time.monotonic() - started:.1f} s after launch")
    assert s.host_port is not None and len(bytes.fromhex(s.secret)) * 8 >= 192, "a 192-bit secret"
    base = f"/session/notebook/{s.id}"
    assert http_get(s.host_port, f"{base}/api/status")[0] == 403, "no token: refused"
    assert http_get(s.host_port, f"{base}/api/status?token=wrong")[0] == 403, "wrong token: refused"
    status, body = http_get(s.host_port, f"{base}/api/status?token={s.secret}")
    assert status == 200 and "connections" in json.loads(body)
    url = service.open_url(s)
    assert url.startswith(f"http://127.0.0.1:{s.host_port}{base}/lab/tree/arc/home/{service.settings.user}?token=")
    # the container runs as the user's uid, with a name, and without privileges
    assert run_in(docker_engine, s, "id -u; id -un; echo $HOME") == \
        f"{service.settings.uid}\n{service.settings.user}\n/arc/home/{service.settings.user}"
    inspect = docker_engine.api.inspect_container(s.container_id)
    mode = inspect["HostConfig"]["NetworkMode"]  # its own namespace, or the spare it joined (core/spare.py)
    publisher = docker_engine.api.inspect_container(mode.removeprefix("container:")) \
        if mode.startswith("container:") else inspect
    bindings = publisher["HostConfig"]["PortBindings"]["8888/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"], "published on loopback only"
    assert inspect["HostConfig"]["Privileged"] is False
    assert inspect["Config"]["User"] == f"{service.settings.uid}:{service.settings.gid}"
    assert s.secret not in json.dumps(inspect["Config"]["Labels"])
    assert service.settings.user and "OMP_NUM_THREADS=2" in inspect["Config"]["Env"]
    # the secret never shows in the logs we hand out
    assert not any(s.secret in line for line in service.tail_logs(s, 200))


def test_arc_home_survives_delete_and_scratch_does_not(make_service: Callable[..., SessionService],
                                                        session_images: dict[str, str], docker_engine: Any,
                                                        paths: Any, tmp_path: Path) -> None:
    service = make_service()
    first = service.wait_ready(launch(service, "contributed", session_images["contributed"], "keep-1"), 60)
    run_in(docker_engine, first, "echo precious > $HOME/result.txt; echo temp > /scratch/tmp.txt; "
                                 "echo shared > /arc/projects/p.txt")
    scratch = paths.scratch_dir / first.id
    assert (scratch / "tmp.txt").read_text() == "temp\n"
    service.delete(first.id)
    assert not scratch.exists(), "/scratch is removed with its session"
    assert wait_for(lambda: first.id not in [s.id for s in service.sessions(probe=False)], 10, "container gone")
    home = tmp_path / "arc" / "home" / service.settings.user
    assert (home / "result.txt").read_text() == "precious\n", "/arc/home survives delete"
    second = service.wait_ready(launch(service, "contributed", session_images["contributed"], "keep-2"), 60)
    assert run_in(docker_engine, second, "cat $HOME/result.txt /arc/projects/p.txt; ls -A /scratch") == "precious\nshared"


def test_limit_holds_for_five_concurrent_cli_launches(make_service: Callable[..., SessionService],
                                                       session_images: dict[str, str], tmp_path: Path) -> None:
    service = make_service(session_limit=3)
    env = dict(os.environ)
    cli = [sys.executable, "-m", "canfar_desktop"]
    for key, value in (("user", service.settings.user), ("arc_root", str(tmp_path / "arc")), ("session_limit", "3")):
        subprocess.run([*cli, "config", "set", key, value], check=True, env=env, capture_output=True)

    def create(i: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, "create", "contributed", session_images["contributed"], "-n", f"burst-{i}"],
                              env=env, capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(create, range(5)))
    ok = [r for r in results if r.returncode == 0]
    refused = [r for r in results if r.returncode != 0]
    assert len(ok) == 3, [r.stderr for r in results]
    assert len(refused) == 2
    for r in refused:
        assert r.stderr.strip() == (f"error: User {service.settings.user} has reached the maximum of 3 active sessions: "
                                    "delete a session (canfar-desktop delete ID) or raise the limit in settings")
    assert len([s for s in service.sessions(probe=False) if s.active]) == 3


def test_renew_moves_the_expiry(make_service: Callable[..., SessionService], session_images: dict[str, str]) -> None:
    service = make_service(session_lifetime_hours=1)
    s = launch(service, "contributed", session_images["contributed"], "renew-me")
    assert s.expiry is not None and s.created is not None
    assert abs((s.expiry - s.created) - timedelta(hours=1)) < timedelta(seconds=2)
    service.settings.session_lifetime_hours = 3
    renewed = service.renew(s.id)
    assert renewed.expiry is not None
    assert renewed.expiry - s.expiry > timedelta(hours=1, minutes=59)
    # another process (the CLI) sees the same expiry
    again = SessionService(service.settings, service.paths).get(s.id)
    assert again.expiry == renewed.expiry


def test_short_lifetime_expires_and_stops(make_service: Callable[..., SessionService],
                                          session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service(session_lifetime_hours=6 / 3600)  # six seconds
    s = service.wait_ready(launch(service, "contributed", session_images["contributed"], "short"), 60)
    assert s.state == State.RUNNING

    def expired() -> bool:
        sessions = service.sessions()
        service.enforce_expiry(sessions)
        current = service.get(s.id)
        return current.state == State.EXPIRED and current.status == "exited"

    assert wait_for(expired, 40, "session Expired and stopped")
    assert docker_engine.containers.get(s.container_id).status == "exited"
    assert "expired at" in service.get(s.id).reason
    # renew brings an expired session back
    service.settings.session_lifetime_hours = 1
    service.renew(s.id)
    assert wait_for(lambda: service.get(s.id).state == State.RUNNING, 30, "renewed session Running again")


@pytest.mark.parametrize("renewer", ["thread", "cli"])
def test_renew_while_the_expiry_stop_is_under_way_waits_for_it(make_service: Callable[..., SessionService],
                                                                 session_images: dict[str, str], docker_engine: Any,
                                                                 paths: Any, monkeypatch: pytest.MonkeyPatch,
                                                                 renewer: str) -> None:
    """Renew pressed on the "expired" notice (or run from the CLI, another process) while the app is still
    stopping the session, its gate last: the renewal waits for the stop, then starts the gate and the session."""
    import threading

    from canfar_desktop.core import gate
    from canfar_desktop.core.settings import save_settings

    service = make_service(session_lifetime_hours=4 / 3600)
    s = service.wait_ready(launch(service, "contributed", session_images["contributed"], "racing"), 60)
    assert s.gated
    gate_reached, go_on = threading.Event(), threading.Event()
    real_stop_gate = gate.stop_gate

    def held_stop_gate(dh: Any, session_id: str) -> None:
        gate_reached.set()
        go_on.wait(30)
        real_stop_gate(dh, session_id)

    monkeypatch.setattr(gate, "stop_gate", held_stop_gate)
    wait_for(lambda: service.get(s.id).state == State.EXPIRED, 30, "session past its expiry")
    with ThreadPoolExecutor(2) as pool:
        stopping = pool.submit(service.enforce_expiry, service.sessions())
        assert gate_reached.wait(30), "the expiry's stop never reached the session's gate"
        service.settings.session_lifetime_hours = 1
        if renewer == "cli":
            save_settings(paths, service.settings)
            cli = subprocess.Popen([sys.executable, "-m", "canfar_desktop", "renew", s.id], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            renewing = pool.submit(cli.communicate, timeout=90)
        else:
            renewing = pool.submit(service.renew, s.id)
        try:
            renewing.result(timeout=3)  # a renewal that does not wait finishes here, before the gate stops
        except TimeoutError:
            pass
        go_on.set()
        stopping.result(timeout=60)
        renewing.result(timeout=90)
    if renewer == "cli":
        assert cli.returncode == 0, renewing.result()
    assert docker_engine.containers.get(gate.gate_name(s.id)).status == "running", "the renewal left the gate stopped"
    assert wait_for(lambda: service.get(s.id).state == State.RUNNING, 30, "renewed session Running again")


def test_process_exit_shows_failed_with_reason(make_service: Callable[..., SessionService],
                                               session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, "contributed", session_images["contributed"], "broken",
               command=("sh", "-c", "echo 'cannot read config.yaml' >&2; exit 3"))
    with pytest.raises(LaunchError) as info:
        service.wait_ready(s, 30)
    assert "process exited with code 3" in info.value.message and "cannot read config.yaml" in info.value.message
    failed = service.get(s.id)
    assert failed.state == State.FAILED and failed.reason == "process exited with code 3: cannot read config.yaml"


def test_out_of_memory_shows_failed(make_service: Callable[..., SessionService], session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, "contributed", session_images["contributed"], "hungry",
               resources=Resources(mode="fixed", cores=1, ram_gb=0.25),
               command=("python3", "-c", "x = [bytearray(64 * 1024 * 1024) for _ in range(32)]"))
    assert wait_for(lambda: service.get(s.id).state == State.FAILED, 60, "OOM-killed session Failed")
    failed = service.get(s.id)
    assert failed.oom_killed and failed.reason == "out of memory (limit 256 MB)"


def gates(service: SessionService) -> set[str]:
    return {str(h["Id"]) for h in service.host("local").helpers() if L_GATE_OF in (h.get("Labels") or {})}


def test_port_already_taken_is_a_clear_failure(make_service: Callable[..., SessionService],
                                               session_images: dict[str, str]) -> None:
    import socket

    from canfar_desktop.core import diagnostics

    service = make_service()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(LaunchError) as info:
            launch(service, "notebook", session_images["notebook"], "port-taken", host_port=port)
        assert "already in use" in info.value.message and "delete" in info.value.hint
        # behind a gate the gate publishes the port: refused, it is removed and nothing is left to delete
        gates_before = gates(service)
        with pytest.raises(LaunchError) as gated:
            launch(service, "contributed", session_images["contributed"], "port-taken-gated", host_port=port)
        assert "already in use" in gated.value.message and "pick another port" in gated.value.hint
    failed = [s for s in service.sessions(probe=False) if s.name.startswith("port-taken")]
    assert [s.name for s in failed] == ["port-taken"] and failed[0].state == State.FAILED
    assert gates(service) == gates_before, "the refused gate was left behind"
    check = diagnostics.check_start(service, service.get(failed[0].id))
    assert check.level == "fail" and check.figure == f"port {port} on 127.0.0.1 is taken"


@pytest.mark.parametrize("url", ["unix:///nonexistent/docker.sock", "stale-socket"])
def test_stopped_engine_is_a_clear_error(make_service: Callable[..., SessionService], tmp_path: Path, url: str) -> None:
    if url == "stale-socket":  # a socket file nobody listens on: what a stopped dockerd leaves behind
        import socket

        path = tmp_path / "docker.sock"
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
        url = f"unix://{path}"
    service = make_service(hosts=[HostConfig(name="local", url=url)])
    with pytest.raises(EngineUnavailable) as info:
        service.sessions()
    assert info.value.message == f"Docker is not running at {url}"
    assert "start" in info.value.hint


def test_desktop_serves_novnc_and_its_websocket_needs_the_secret(make_service: Callable[..., SessionService],
                                                                  session_images: dict[str, str]) -> None:
    service = make_service()
    s = service.wait_ready(launch(service, "desktop", session_images["desktop"], "desk"), 60)
    assert s.state == State.RUNNING and s.host_port
    status, body = http_get(s.host_port, "/vnc.html")
    assert status == 200 and b"noVNC" in body
    banner = rfb_banner("127.0.0.1", s.host_port, f"/websockify?token={s.secret}")
    assert banner.startswith(b"RFB 003.00"), banner
    with pytest.raises(ConnectionError):
        rfb_banner("127.0.0.1", s.host_port, "/websockify?token=guess")


def test_cli_end_to_end(make_service: Callable[..., SessionService], session_images: dict[str, str],
                        tmp_path: Path) -> None:
    service = make_service()
    cli = [sys.executable, "-m", "canfar_desktop"]
    for key, value in (("user", service.settings.user), ("arc_root", str(tmp_path / "arc"))):
        subprocess.run([*cli, "config", "set", key, value], check=True, capture_output=True)
    created = subprocess.run([*cli, "create", "notebook", "-n", "cli-nb", "--wait", "--show-secret", "-o", "json"],
                             capture_output=True, text=True, timeout=180)
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert data["status"] == "Running" and data["url"].startswith("http://127.0.0.1:")
    assert data["image"] == session_images["notebook"], "the newest labelled image on the host is the default"
    ps = subprocess.run([*cli, "ps"], capture_output=True, text=True, check=True)
    row = next(line for line in ps.stdout.splitlines() if line.startswith(data["id"]))
    assert "cli-nb" in row and "Running" in row
    info = subprocess.run([*cli, "info", data["id"]], capture_output=True, text=True, check=True)
    secret = data["url"].rsplit("token=", 1)[1]
    assert len(secret) == 48, "create --show-secret prints the whole URL"
    assert secret not in info.stdout and "token=********" in info.stdout, "info redacts the secret"
    deleted = subprocess.run([*cli, "delete", "-f", data["id"]], capture_output=True, text=True)
    assert deleted.returncode == 0 and f"{data['id']} deleted" in deleted.stdout
    gone = subprocess.run([*cli, "info", data["id"]], capture_output=True, text=True)
    assert gone.returncode == 4 and "No session" in gone.stderr


def test_dry_run_creates_nothing(make_service: Callable[..., SessionService], session_images: dict[str, str],
                                 docker_engine: Any) -> None:
    service = make_service()
    mine = {"label": f"net.canfar.desktop.owner={service.settings.user}"}
    plan = service.dry_run(service.prepare_launch("carta", "images.canfar.net/skaha/carta:5.1.0", "viewer"))
    assert plan["command"][0] == "carta" and plan["ports"] == {"3002/tcp": ("127.0.0.1", None)}
    assert docker_engine.containers.list(all=True, filters=mine) == []
    assert not service.paths.scratch_dir.exists(), "no folders made either"


def test_missing_image_pull_failure_is_clear(make_service: Callable[..., SessionService]) -> None:
    from canfar_desktop.core.errors import ImageError

    service = make_service()
    with pytest.raises(ImageError) as info:
        launch(service, "notebook", "registry.invalid/nobody/nothing:1", "pull-fail")
    assert info.value.message.startswith("Could not pull registry.invalid/nobody/nothing:1")
    assert "image name" in info.value.hint
    assert service.sessions(probe=False) == []
