"""Sessions whose app has no login of their own answer only to their secret, from anywhere on the host."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from canfar_desktop.core.gate import GATE_PORT, PARAM, gate_name
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.plan import SESSION_NETWORK
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.watch import reconcile

from ..helpers import wait_for
from .science_fixtures import need_images


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()


def request(port: int, path: str, headers: dict[str, str] | None = None) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        return Answer(conn.getresponse())
    finally:
        conn.close()


def reachable(address: str, port: int) -> bool:
    """Whether a TCP connection from this computer (any local user could make it) is accepted."""
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((address, port)) == 0


def gate_address(docker_engine: Any, session_id: str) -> str:
    networks = docker_engine.api.inspect_container(gate_name(session_id))["NetworkSettings"]["Networks"]
    assert list(networks) == [SESSION_NETWORK], networks
    return str(networks[SESSION_NETWORK]["IPAddress"])


@pytest.mark.parametrize("kind", ["contributed", "firefly"])
def test_a_session_without_a_login_answers_only_with_its_secret(
        kind: str, make_service: Callable[..., SessionService], science_images: dict[str, str],
        docker_engine: Any) -> None:
    service = make_service()
    image = science_images[kind]
    s = service.wait_ready(service.launch(service.prepare_launch(kind, image, f"gated-{kind}")), 90)
    assert s.state == State.RUNNING and s.gated and s.host_port
    url = urlsplit(service.open_url(service.get(s.id)))
    assert f"{PARAM}=" in url.query, "the session's link carries its secret"
    page = url.path or "/"

    # without the secret: refused, at the published port and at the session's own address
    refused = request(s.host_port, page)
    assert refused.status == 401, f"{kind} answered {refused.status} without the secret"
    address = gate_address(docker_engine, s.id)
    app_port = 5000 if kind == "contributed" else 8080
    assert not reachable(address, app_port), "the app's own port is reachable past the gate"
    assert reachable(address, GATE_PORT)
    assert request(s.host_port, f"{page}?{PARAM}=wrong").status == 401

    # the link: a cookie and the same page without the secret in its address, then the app itself
    first = request(s.host_port, f"{url.path}?{url.query}")
    assert first.status == 303, first.status
    assert first.headers["Location"] == page
    set_cookie = first.headers["Set-Cookie"] or ""
    cookie = set_cookie.split(";")[0]
    assert cookie.startswith(f"canfar-gate-{s.id}=") and "HttpOnly" in set_cookie
    answer = request(s.host_port, page, {"Cookie": cookie})
    assert answer.status == 200, answer.status
    assert (b"Arc browser" if kind == "contributed" else b"Firefly") in answer.body
    assert request(s.host_port, page, {"X-Canfar-Secret": cookie.split("=", 1)[1]}).status == 200

    assert not [n.name for n in docker_engine.networks.list() if n.name.startswith("container:")], \
        "a session behind a gate joins the gate's network; no network is made for it"

    # deleting the session removes its gate too
    service.delete(s)
    wait_for(lambda: not docker_engine.containers.list(all=True, filters={"name": gate_name(s.id)}), 20,
             "the gate to be removed with its session")


def test_a_session_the_engine_started_before_its_gate_is_started_again(
        make_service: Callable[..., SessionService], session_images: dict[str, str], docker_engine: Any) -> None:
    """An engine restart brings containers back in no order; a session started before its gate is refused
    ("cannot join network … of a non running container") and stays down unless the app starts it again."""
    service = make_service()
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "gated-restart")), 60)
    docker_engine.api.stop(s.container_id, timeout=2)
    docker_engine.api.stop(gate_name(s.id), timeout=2)
    with pytest.raises(Exception, match="non running container"):
        docker_engine.api.start(s.container_id)  # what the engine does when it restores the session first
    assert service.get(s.id).state == State.FAILED
    reconcile(service)
    wait_for(lambda: service.get(s.id).state == State.RUNNING, 60, "the session to run again behind its gate")
    assert request(s.host_port, "/").status == 401, "the session came back without its gate"
    service.delete(s)
