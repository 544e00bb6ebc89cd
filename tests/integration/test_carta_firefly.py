"""CARTA and Firefly sessions start as the upstream images expect, proven with stand-in images that
keep their start-up contracts (entrypoint, flags, port, URL prefix, token, readiness, memory sizing)."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Callable
from typing import Any

import pytest

from canfar_desktop.core.kinds import CARTA_IDLE_TIMEOUT_S
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService

from .science_fixtures import need_images


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_carta_session_starts_with_canfars_flags_behind_its_prefix_and_token(
        make_service: Callable[..., SessionService], science_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    s = service.wait_ready(service.launch(service.prepare_launch("carta", science_images["carta"], "carta-proof")),
                           timeout=60)
    s = service.get(s.id)
    assert s.state in (State.RUNNING, State.SUSPENDED)
    prefix = f"/session/carta/{s.id}"
    _, port = service.endpoint(s)
    assert get(port, f"{prefix}/")[0] == 200, "the readiness path needs no token"
    assert get(port, f"{prefix}/api/status")[0] == 403, "the backend needs the token"
    status, body = get(port, f"{prefix}/api/status", {"Authorization": f"Bearer {s.secret}"})
    assert status == 200, body
    info = json.loads(body)
    assert info["scripting"] and info["idle_timeout"] == CARTA_IDLE_TIMEOUT_S, "CANFAR's flags"
    assert info["prefix"] == prefix and info["top_level_folder"] == "/arc" and info["starting_folder"] == "/arc/projects"
    assert info["port"] == 3002 and info["uid"] == service.settings.uid
    assert service.open_url(s).endswith(f"{prefix}/?token={s.secret}")
    container = docker_engine.containers.get(s.container_id).attrs
    assert container["Config"]["Entrypoint"] == [] and container["Path"] == "carta"


def test_carta_command_handed_to_the_entrypoint_would_fail(
        make_service: Callable[..., SessionService], science_images: dict[str, str], docker_engine: Any) -> None:
    """Why the entrypoint is cleared: with upstream's `carta` entrypoint kept, `carta carta --no_browser …`
    takes "carta" for the starting folder and stops, as the real backend does."""
    service = make_service()
    req = service.prepare_launch("carta", science_images["carta"], "carta-appended")
    plan = service.dry_run(req)
    container = docker_engine.containers.run(science_images["carta"], plan["command"], detach=True,
                                             user=f"{service.settings.uid}:{service.settings.gid}")
    try:
        assert container.wait(timeout=60)["StatusCode"] == 1
        assert b"Starting folder 'carta' does not exist" in container.logs()
    finally:
        container.remove(force=True)


def test_firefly_session_starts_from_its_entrypoint_with_a_memory_limit_and_admin_password(
        make_service: Callable[..., SessionService], science_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    s = service.wait_ready(service.launch(service.prepare_launch("firefly", science_images["firefly"],
                                                                 "firefly-proof")), timeout=60)
    s = service.get(s.id)
    _, port = service.endpoint(s)
    assert service.open_url(s).endswith(f"/firefly/?canfar_token={s.secret}")  # its gate asks for the secret
    assert get(port, "/firefly/status")[0] == 401
    gate = {"X-Canfar-Secret": s.secret}
    status, body = get(port, "/firefly/status", gate)
    info = json.loads(body)
    assert status == 200 and info["limit_mb"] == 4096 and info["heap_mb"] == 3276, info
    assert info["admin_protected"] and info["uid"] == service.settings.uid
    assert get(port, "/firefly/admin", gate)[0] == 401
    auth = base64.b64encode(f"admin:{s.secret}".encode()).decode()
    assert get(port, "/firefly/admin", {**gate, "Authorization": f"Basic {auth}"})[0] == 200
    container = docker_engine.containers.get(s.container_id).attrs
    assert container["Config"]["Entrypoint"] == ["/opt/firefly-standin/launch-firefly"], "the image's own start-up"
