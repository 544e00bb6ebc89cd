"""Sharing a session, tried from another network namespace (another device on the network): reachable
over TLS with the share's secret and the fingerprint the app shows, refused without it, unreachable after
the secret is renewed (old link), after Stop, and after its time is up; never on 127.0.0.1 or elsewhere."""

from __future__ import annotations

import base64
import json
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, save_settings
from canfar_desktop.core.share import COOKIE, LOGIN_PATH, ShareManager, landing_of

from ..helpers import wait_for

CLIENT = r"""
import hashlib, http.client, json, ssl, sys
address, port, path, cookie = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the certificate is compared by its fingerprint, as a person would
try:
    conn = http.client.HTTPSConnection(address, port, context=context, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    der = conn.sock.getpeercert(binary_form=True)
    r = conn.getresponse()
    digest = hashlib.sha256(der).hexdigest().upper()
    print(json.dumps({"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()},
                      "body": r.read(4000).decode(errors="replace"),
                      "fingerprint": ":".join(digest[i:i + 2] for i in range(0, 64, 2))}))
except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
    print(json.dumps({"error": type(exc).__name__ + ": " + str(exc)}))
"""


@dataclass
class Namespace:
    name: str
    host_address: str  # this computer's end of the link (what a share listens on)
    device_address: str

    def get(self, address: str, port: int, path: str = "/", cookie: str = "") -> dict[str, Any]:
        """An HTTPS request made from inside the namespace, as another device would."""
        done = subprocess.run(["ip", "netns", "exec", self.name, sys.executable, "-c", CLIENT, address, str(port),
                               path, cookie], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result


def secret_bits(secret: str) -> int:
    return len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) * 8


def through_gate(device: Namespace, port: int, path: str, cookie: str) -> dict[str, Any]:
    """Open a shared page as a browser does: the session's gate answers its link with a cookie and the
    same page without the secret, which the browser then asks for with both cookies."""
    first = device.get(device.host_address, port, path, cookie)
    if first.get("status") != 303 or "set-cookie" not in first.get("headers", {}):
        return first
    gate_cookie = first["headers"]["set-cookie"].split(";")[0]
    assert gate_cookie.startswith("canfar-gate-"), first
    return device.get(device.host_address, port, first["headers"]["location"], f"{cookie}; {gate_cookie}")


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.fail(f"ip {' '.join(args)} failed: {done.stderr.strip()}", pytrace=False)


@pytest.fixture
def device() -> Iterator[Namespace]:
    """A network namespace linked to this computer by a veth pair: another device on a small network."""
    if shutil.which("ip") is None:
        pytest.fail("the ip command (iproute2) is missing; run ./scripts/setup.sh", pytrace=False)
    tag = secrets.token_hex(3)
    name, here, there = f"cd-share-{tag}", f"cdsh{tag}", f"cdsd{tag}"
    used = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout
    third = next(n for n in range(200, 255) if f"10.{n}.0." not in used)
    ns = Namespace(name, f"10.{third}.0.1", f"10.{third}.0.2")
    _ip("netns", "add", name)
    try:
        _ip("link", "add", here, "type", "veth", "peer", "name", there)
        _ip("link", "set", there, "netns", name)
        _ip("addr", "add", f"{ns.host_address}/30", "dev", here)
        _ip("link", "set", here, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{ns.device_address}/30", "dev", there)
        _ip("netns", "exec", name, "ip", "link", "set", there, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield ns
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_a_shared_session_from_another_device(make_service: Callable[..., SessionService], device: Namespace,
                                              session_images: dict[str, str]) -> None:
    service = make_service()
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "shared-web")), 60)
    ended: list[str] = []
    manager = ShareManager(service.endpoint, lambda x: landing_of(service.open_url(x)),
                           lambda share: None if share.active else ended.append(share.session.id))
    share = manager.start(s, timedelta(minutes=5), device.host_address)
    assert secret_bits(share.secret) >= 192 and share.link.endswith(share.secret), "the README promises 192 bits"
    assert share.link.startswith(f"https://{device.host_address}:{share.port}{LOGIN_PATH}")
    port = share.port

    # Without the secret: refused, whatever the path.
    for path, cookie in (("/", ""), (f"{LOGIN_PATH}not-the-secret", ""), ("/", f"{COOKIE}=wrong")):
        answer = device.get(device.host_address, port, path, cookie)
        assert answer.get("status") == 403, answer
        assert "contributed" not in answer["body"].lower()

    # The link: TLS with the certificate the app shows, a cookie, then the session's own page.
    login = device.get(device.host_address, port, share.link.split(str(port), 1)[1])
    assert login["fingerprint"] == share.fingerprint
    assert login["status"] == 303 and login["headers"]["location"] == landing_of(service.open_url(s))
    cookie = login["headers"]["set-cookie"].split(";")[0]
    assert "Secure" in login["headers"]["set-cookie"] and "HttpOnly" in login["headers"]["set-cookie"]
    page = through_gate(device, port, login["headers"]["location"], cookie)
    assert page["status"] == 200, page
    direct = subprocess.run(["curl", "-s", "-H", f"X-Canfar-Secret: {s.secret}", f"http://127.0.0.1:{s.host_port}/"],
                            capture_output=True, text=True, timeout=30).stdout
    assert page["body"][:200] == direct[:200], "the page is the session's own"

    # Nothing of it on 127.0.0.1 (nor on any other address): the listener is on the chosen one only.
    local = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", f"https://127.0.0.1:{port}/"],
                           capture_output=True, text=True, timeout=30).stdout
    assert local == "000"

    # A new secret: the old link and cookie are refused; the new link works.
    old_link = share.link
    manager.revoke(s)
    assert secret_bits(share.secret) >= 192 and share.secret not in old_link
    assert device.get(device.host_address, port, "/", cookie)["status"] == 403
    assert device.get(device.host_address, port, old_link.split(str(port), 1)[1])["status"] == 403
    relogin = device.get(device.host_address, port, share.link.split(str(port), 1)[1])
    assert relogin["status"] == 303

    # Stop: unreachable.
    manager.stop(s)
    assert ended == [s.id] and manager.get(s) is None
    assert "error" in device.get(device.host_address, port, "/", relogin["headers"]["set-cookie"].split(";")[0])

    # A share ends by itself when its time is up.
    short = manager.start(s, timedelta(seconds=3), device.host_address)
    new_cookie = device.get(device.host_address, short.port, short.link.split(str(short.port), 1)[1])
    assert new_cookie["status"] == 303
    wait_for(lambda: manager.get(s) is None, 30, "the share to end by itself")
    assert "error" in device.get(device.host_address, short.port, "/", new_cookie["headers"]["set-cookie"].split(";")[0])
    assert ended == [s.id, s.id]


def test_shares_refuse_loopback_and_ended_sessions(make_service: Callable[..., SessionService],
                                                    session_images: dict[str, str]) -> None:
    from canfar_desktop.core.errors import StateError, ValidationError

    service = make_service()
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "not-shared")), 60)
    manager = ShareManager(service.endpoint, lambda x: landing_of(service.open_url(x)))
    for address in ("127.0.0.1", "0.0.0.0", ""):
        with pytest.raises(ValidationError):
            manager.start(s, timedelta(minutes=5), address)
    service.delete(s)
    with pytest.raises(StateError):
        manager.start(s.with_state(State.TERMINATED, ""), timedelta(minutes=5), "10.0.0.1")


def test_share_on_the_command_line(make_service: Callable[..., SessionService], paths: AppPaths, device: Namespace,
                                   session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "cli-shared")), 60)
    cli = [sys.executable, "-m", "canfar_desktop", "share", s.id]
    for extra, words in ((["--for", "soon"], "is not a duration"), (["--address", "127.0.0.1"], "cannot be shared"),
                         (["--for", "8d"], "between a second and seven days")):
        done = subprocess.run([*cli, *extra], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and words in done.stderr, done

    proc = subprocess.Popen([*cli, "--for", "10m", "--address", device.host_address, "--qr"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    errors: list[str] = []  # read as it comes: a full pipe would stop the command, and a failure shows it
    threading.Thread(target=lambda: [errors.append(line) for line in proc.stderr or []], daemon=True).start()
    try:
        printed = [lines.get(timeout=60) for _ in range(5)]
        assert printed[0].startswith(f"Session {s.id} is shared until "), printed
        link, fingerprint = printed[2].strip(), printed[4].strip()
        port = int(link.split(":")[2].split("/")[0])
        login = device.get(device.host_address, port, link.split(str(port), 1)[1])
        assert login["status"] == 303 and login["fingerprint"] == fingerprint, login
        cookie = login["headers"]["set-cookie"].split(";")[0]
        assert through_gate(device, port, login["headers"]["location"], cookie)["status"] == 200
        assert device.get(device.host_address, port, "/")["status"] == 403
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"share did not stop within 30 s of Ctrl+C; its stderr: {''.join(errors)[-3000:]}") from None
        assert code == 0, errors
        assert "error" in device.get(device.host_address, port, "/", cookie), "the share ends with the command"
    finally:
        proc.kill()

    # a share ends with its session
    proc = subprocess.Popen([*cli, "--address", device.host_address], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith(f"Session {s.id} is shared")
        service.delete(s)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and f"Session {s.id} ended; so did its share." in out, out
    finally:
        proc.kill()
