"""The platform client over real sockets (no engine): verified TLS, an X.509 client certificate or a bearer
token, and what a person reads when the certificate is expired, the token refused, or nothing answers."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.backends.skaha import SkahaHost
from canfar_desktop.core.credentials import CredentialError
from canfar_desktop.core.errors import EngineUnavailable
from canfar_desktop.core.secret_store import save_token
from canfar_desktop.core.settings import AppPaths, HostConfig

from ..certs import Authority

TOKEN = "good-token-0123456789"
CONTEXT = {"cores": {"options": [1, 2, 4]}, "memoryGB": {"options": [1, 2, 4, 8]}, "gpus": {"options": []}}


@dataclass
class Platform:
    port: int
    ca: Path
    seen: list[dict[str, Any]] = field(default_factory=list)  # one entry per request: path, headers, client cert


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "ca")


@pytest.fixture
def platform(authority: Authority) -> Iterator[Platform]:
    """A small HTTPS server on 127.0.0.1 standing for the platform: a client certificate signed by the CA or
    the bearer token gets its answers, anything else 401; /skaha/v1/moved redirects elsewhere."""
    cert, key = authority.server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(authority.path)
    context.verify_mode = ssl.CERT_OPTIONAL
    seen: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            peer = self.connection.getpeercert()  # type: ignore[attr-defined]
            subject = dict(x[0] for x in peer["subject"]) if peer else {}
            seen.append({"path": self.path, "headers": dict(self.headers), "client": subject.get("commonName")})
            if self.path.startswith("/skaha/v1/moved"):
                self.send_response(302)
                self.send_header("Location", "https://elsewhere.example.org/login")
                self.end_headers()
                return
            if not peer and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.end_headers()
                self.wfile.write(b"Unauthorized: no valid credential\n")
                return
            body = json.dumps(CONTEXT if self.path.startswith("/skaha/v1/context") else []).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Platform(server.server_address[1], authority.path, seen)
    finally:
        server.shutdown()
        server.server_close()


def host_for(port: int, paths: AppPaths, ca: Path | str = "", cert: Path | str = "") -> SkahaHost:
    cfg = HostConfig(name="canfar", url=f"skaha+https://127.0.0.1:{port}/skaha", tls_ca=str(ca), tls_cert=str(cert))
    return SkahaHost(cfg, "me", paths)


def test_a_proxy_certificate_signs_in_over_verified_tls(home: Path, paths: AppPaths, platform: Platform,
                                                        authority: Authority) -> None:
    authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(days=5))
    host = host_for(platform.port, paths, platform.ca)
    info = host.info()
    assert (info.engine, info.cpus, info.memory_gb) == ("Skaha", 4, 8.0)
    assert host.summaries() == []
    assert [s["client"] for s in platform.seen] == ["jdoe"] * len(platform.seen)
    assert all(s["headers"].get("X-Skaha-Authentication-Type") == "X509" and "Authorization" not in s["headers"]
               for s in platform.seen)
    assert "signed in with the X.509 proxy certificate ~/.ssl/cadcproxy.pem, valid until" in host.login()
    assert host.round_trip_ms() is not None


def test_a_saved_token_is_sent_as_a_bearer(home: Path, paths: AppPaths, platform: Platform) -> None:
    host = host_for(platform.port, paths, platform.ca)
    save_token(paths, f"https://127.0.0.1:{platform.port}/skaha", TOKEN)
    host.ping()
    assert platform.seen[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}" and platform.seen[-1]["client"] is None
    assert platform.seen[-1]["headers"]["X-Skaha-Authentication-Type"] == "RUNTIME-TOKEN"


def test_a_bad_token_is_refused_once_then_answered_from_memory(home: Path, paths: AppPaths, platform: Platform) -> None:
    save_token(paths, f"https://127.0.0.1:{platform.port}/skaha", "wrong-token-987654321")
    host = host_for(platform.port, paths, platform.ca)
    with pytest.raises(CredentialError) as caught:
        host.summaries()
    assert caught.value.message == (f"127.0.0.1:{platform.port} did not accept the token saved for canfar "
                                    "(HTTP 401: Unauthorized: no valid credential)")
    assert caught.value.hint == "save a new token: canfar-desktop hosts login canfar (or Settings › Hosts)"
    asked = len(platform.seen)
    with pytest.raises(CredentialError):
        host.summaries()
    assert len(platform.seen) == asked, "a refused credential is not tried again during the back-off"
    assert host.login() == "", "nobody is signed in"
    save_token(paths, f"https://127.0.0.1:{platform.port}/skaha", TOKEN)
    host.reset()
    assert host.summaries() == [], "a new token is tried at once"


def test_an_expired_certificate_is_never_sent(home: Path, paths: AppPaths, platform: Platform,
                                              authority: Authority) -> None:
    authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(minutes=-5))
    host = host_for(platform.port, paths, platform.ca)
    with pytest.raises(CredentialError, match="Your CANFAR login has expired") as caught:
        host.ping()
    assert "canfar login" in caught.value.hint and platform.seen == []


def test_a_server_the_ca_did_not_sign_is_refused(home: Path, paths: AppPaths, platform: Platform,
                                                 authority: Authority, tmp_path: Path) -> None:
    authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(days=1))
    other = Authority(tmp_path / "other", "Other CA")
    with pytest.raises(EngineUnavailable, match="could not be verified") as caught:
        host_for(platform.port, paths, other.path).ping()
    assert "--tls-ca" in caught.value.hint
    with pytest.raises(EngineUnavailable, match="could not be verified"):
        host_for(platform.port, paths).ping()  # the system's CAs do not know the test CA either


def test_a_redirect_is_not_followed(home: Path, paths: AppPaths, platform: Platform) -> None:
    save_token(paths, f"https://127.0.0.1:{platform.port}/skaha", TOKEN)
    host = host_for(platform.port, paths, platform.ca)
    with pytest.raises(EngineUnavailable, match="redirected the request elsewhere"):
        host.client.request("GET", "/moved")
    assert len(platform.seen) == 1, "the token never went to the other site"


def test_nothing_answering_is_unreachable_fast_and_backs_off(home: Path, paths: AppPaths) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    save_token(paths, f"https://127.0.0.1:{port}/skaha", TOKEN)
    host = host_for(port, paths)
    started = time.monotonic()
    with pytest.raises(EngineUnavailable, match="cannot be reached") as caught:
        host.summaries()
    assert time.monotonic() - started < 5 and "canfar.net" in caught.value.hint
    again = time.monotonic()
    with pytest.raises(EngineUnavailable, match="cannot be reached"):
        host.summaries()
    assert time.monotonic() - again < 0.1, "answered from memory during the back-off"
