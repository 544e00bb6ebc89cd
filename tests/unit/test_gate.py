"""The gate in front of sessions without a login: its container plan, the links and probes that reach
it, and the gate program itself run here against a small app (the firewall is proven on the engine in
tests/integration/test_gate.py)."""

from __future__ import annotations

import http.client
import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from canfar_desktop.core.gate import (
    GATE_PORT,
    PROBE_PATH,
    behind_gate,
    gate_name,
    gate_plan,
    gated_probe,
    gated_url,
    needs_gate,
)
from canfar_desktop.core.kinds import ALL_KINDS, KINDS, Probe
from canfar_desktop.core.plan import (
    L_GATE,
    L_GATE_OF,
    L_HELPER,
    L_HOST_PORT,
    L_ID,
    L_OWNER,
    ContainerPlan,
    LaunchRequest,
    build_plan,
)

from .test_fuzz import STORAGE

GATE = Path(__file__).resolve().parents[2] / "resources" / "images" / "gate" / "canfar-gate"
SECRET = "0123456789abcdef" * 3


def plan_of(kind: str, port: int | None = None) -> ContainerPlan:
    req = LaunchRequest(kind, "img:1", "web", host_port=port)
    return build_plan(req, KINDS[kind], session_id="abcd1234", secret=SECRET, user="ada", uid=1000, gid=1000,
                      storage=STORAGE, host_cpus=4, host_ram_gb=16, now=datetime(2026, 1, 1, tzinfo=UTC),
                      lifetime=timedelta(days=4))


def test_only_apps_without_a_login_of_their_own_get_a_gate() -> None:
    assert {k for k, kind in ALL_KINDS.items() if needs_gate(kind)} == {"contributed", "firefly"}


def test_the_gate_publishes_where_the_session_would_have_and_holds_only_what_it_needs() -> None:
    plan = plan_of("firefly", 41000)
    gate = gate_plan(plan, KINDS["firefly"], SECRET)
    assert gate.container_name == gate_name("abcd1234") and gate.image == "canfar-desktop/gate:latest"
    assert gate.ports == {f"{GATE_PORT}/tcp": ("127.0.0.1", 41000)}
    assert gate.cap_drop == ["ALL"] and sorted(gate.cap_add) == ["NET_ADMIN", "NET_RAW", "SETGID", "SETUID"]
    assert "no-new-privileges:true" in gate.security_opt and gate.pids_limit <= 64 and gate.mounts == []
    assert gate.environment["CANFAR_GATE_UPSTREAM"] == "8080"
    assert gate.environment["CANFAR_GATE_PROBE"] == "/firefly/healthz"
    assert gate.environment["CANFAR_GATE_SECRET"] == SECRET
    assert SECRET not in str(gate.labels) and L_ID not in gate.labels, "never listed as a session, no secret"
    assert gate.labels[L_GATE_OF] == "abcd1234" and gate.labels[L_HELPER] == "gate" and gate.labels[L_OWNER] == "ada"
    session = behind_gate(plan, "f00d", 41000)
    assert session.network == "container:f00d" and session.ports == {}
    assert session.labels[L_GATE] == gate.container_name and session.labels[L_HOST_PORT] == "41000"
    assert not set(gate_name("abcd1234")) & set("-"), "apart from canfar-<name>-<id>, whatever the name"


def test_links_carry_the_secret_and_probes_need_none() -> None:
    assert gated_url("/", "s e/cret") == "/?canfar_token=s+e%2Fcret"
    assert gated_url("/firefly/?a=1", "x") == "/firefly/?a=1&canfar_token=x"
    assert gated_url("/", "") == "/"
    assert gated_probe(Probe("/firefly/healthz", (200,))) == Probe(PROBE_PATH, (200,))


class App(http.server.BaseHTTPRequestHandler):
    """The app behind the gate: says what it was sent."""

    def do_GET(self) -> None:
        body = (f"path={self.path}\ncookie={self.headers.get('Cookie')}\n"
                f"secret-header={self.headers.get('X-Canfar-Secret')}\n").encode()
        self.send_response(200 if self.path != "/healthz" else 204)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gate() -> Iterator[int]:
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    env = {**os.environ, "CANFAR_GATE_PORT": str(port), "CANFAR_GATE_UPSTREAM": str(app.server_address[1]),
           "CANFAR_GATE_PROBE": "/healthz", "CANFAR_GATE_SESSION": "abcd1234", "CANFAR_GATE_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, str(GATE)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("gate ready"), "the gate did not start"
        yield port
    finally:
        proc.kill()
        proc.wait()
        app.shutdown()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read().decode()
    finally:
        conn.close()


def test_the_gate_lets_through_only_the_secret_and_keeps_it_from_the_app(gate: int) -> None:
    status, _, body = get(gate, "/page")
    assert status == 401 and "needs its link" in body and "path=" not in body
    assert get(gate, "/page?canfar_token=wrong")[0] == 401
    assert get(gate, "/page", {"Cookie": "canfar-gate-abcd1234=wrong"})[0] == 401
    assert get(gate, "/page", {"Cookie": f"canfar-gate-other={SECRET}"})[0] == 401, "another session's cookie"

    status, headers, _ = get(gate, f"/page?a=1&canfar_token={SECRET}")
    assert status == 303 and headers["Location"] == "/page?a=1"
    assert headers["Set-Cookie"] == f"canfar-gate-abcd1234={SECRET}; Path=/; HttpOnly; SameSite=Strict"

    status, _, body = get(gate, "/page?a=1", {"Cookie": f"theme=dark; canfar-gate-abcd1234={SECRET}"})
    assert status == 200 and "path=/page?a=1" in body
    assert "cookie=theme=dark\n" in body and SECRET not in body, "the app never sees the gate's secret"
    status, _, body = get(gate, "/other", {"X-Canfar-Secret": SECRET})
    assert status == 200 and "secret-header=None" in body and SECRET not in body


def test_the_probe_says_only_whether_the_app_answers(gate: int) -> None:
    assert get(gate, PROBE_PATH) == (204, {"Content-Length": "0", "Connection": "close",
                                           "Cache-Control": "no-store"}, "")
    assert get(gate, PROBE_PATH + "?x=/page")[0] == 204, "the probe path is fixed by the launch, not the caller"


@pytest.mark.parametrize("secret", ["", "short"])
def test_a_gate_without_a_real_secret_refuses_to_start(secret: str) -> None:
    env = {**os.environ, "CANFAR_GATE_PORT": str(free_port()), "CANFAR_GATE_UPSTREAM": "1",
           "CANFAR_GATE_SECRET": secret}
    done = subprocess.run([sys.executable, str(GATE)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "CANFAR_GATE_SECRET is missing or too short" in done.stderr
    assert "gate ready" not in done.stdout
