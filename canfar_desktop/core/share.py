"""Sharing a session with other devices, opt-in, for a chosen time.

A session's port is on 127.0.0.1 only. A share adds, for that session alone and until it ends, a
TLS listener on one address of this computer that other devices reach (the person picks it; never
all addresses), with a certificate made for the share (core/certs.py) whose fingerprint the app
shows. Every connection must present the share's secret before anything reaches the session: the
share link `https://ADDRESS:PORT/_canfar_share/SECRET` sets it as a cookie (Secure, HttpOnly) and
sends the browser on to the session's page; a connection without it gets 403 and is closed.
Authenticated connections are relayed byte for byte (websockets included) to the session's own
endpoint (core/registry.py: directly, or a local forward for a remote host).

`revoke` makes a new secret and cuts every relayed connection (the old link and cookies stop
working); `stop` closes the listener; a share stops by itself when its time is up. Nothing of the
secret is logged.
"""

from __future__ import annotations

import hmac
import http.cookies
import secrets
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .certs import Certificate, make_certificate, server_context
from .errors import StateError, ValidationError
from .lifecycle import State
from .log import get_logger
from .record import field, record
from .session import Session

log = get_logger(__name__)

LOGIN_PATH = "/_canfar_share/"
COOKIE = "canfar_share"
HEAD_LIMIT = 64 * 1024
HEAD_TIMEOUT_S = 15.0
BUFFER = 65536
DURATIONS_MIN = (15, 60, 240, 1440)  # what the share dialog offers
MAX_DURATION = timedelta(days=7)

Endpoint = Callable[[Session], tuple[str, int]]


def candidate_addresses() -> list[str]:
    """This computer's IPv4 addresses other devices may reach, the one of the default route first.

    The default route's address comes from connecting a UDP socket (nothing is sent)."""
    found: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet leaves; the kernel picks the source address
        found.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    return [a for a in dict.fromkeys(found) if a and not a.startswith("127.") and a != "0.0.0.0"]


def _head_end(data: bytes) -> int:
    return data.find(b"\r\n\r\n")


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ValueError("bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], headers


def _reply(conn: socket.socket, status: str, body: str, extra: dict[str, str] | None = None) -> None:
    data = body.encode()
    head = [f"HTTP/1.1 {status}", "Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(data)}",
            "Connection: close", "Cache-Control: no-store", "Referrer-Policy: no-referrer"]
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    try:
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    except OSError:
        pass


@record(frozen=False)
class Share:
    """One session shared: where, until when, the certificate's fingerprint and the link."""

    session: Session
    address: str
    port: int
    until: datetime
    certificate: Certificate
    secret: str = field(repr=False)
    _server: ShareServer | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.session.host, self.session.id

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint

    @property
    def link(self) -> str:
        """The share link: it carries the secret (show it only to the person sharing)."""
        return f"https://{self.address}:{self.port}{LOGIN_PATH}{self.secret}"

    @property
    def active(self) -> bool:
        return self._server is not None and not self._server.stopped.is_set()


class ShareServer:
    """The TLS listener of one share: checks the secret, then relays to the session's endpoint."""

    def __init__(self, share: Share, target: Callable[[], tuple[str, int]], landing: str,
                 on_end: Callable[[Share], None]) -> None:
        self.share = share
        self.target = target
        self.landing = landing  # the session's page, where the link sends the browser
        self.on_end = on_end
        self.stopped = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._context = server_context(share.certificate)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind((share.address, share.port))
        except OSError as exc:
            self._listener.close()
            raise ValidationError(f"Cannot listen on {share.address}:{share.port} ({exc.strerror})",
                                  "choose another address or port") from None
        self._listener.listen(64)
        share.port = self._listener.getsockname()[1]
        self._timer = threading.Timer(max(0.0, (share.until - datetime.now(UTC)).total_seconds()), self.stop)
        self._timer.daemon = True
        self._timer.start()
        threading.Thread(target=self._accept, name=f"share-{share.port}", daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                raw, _peer = self._listener.accept()
            except OSError:
                break
            if self.stopped.is_set():
                raw.close()
                break
            threading.Thread(target=self._serve, args=(raw,), name="share-conn", daemon=True).start()

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(HEAD_TIMEOUT_S)
        self._track(raw, True)
        try:
            conn = self._context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            self._track(raw, False)
            raw.close()
            return
        self._track(raw, False)
        self._track(conn, True)
        try:
            head = self._read_head(conn)
            if head is None:
                return
            upstream = self._check(conn, head)
            if upstream is None:
                return
            self._relay(conn, upstream, head)
        finally:
            self._track(conn, False)
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _read_head(conn: socket.socket) -> bytes | None:
        data = b""
        try:
            while _head_end(data) < 0:
                chunk = conn.recv(BUFFER)
                if not chunk:
                    return None
                data += chunk
                if len(data) > HEAD_LIMIT:
                    _reply(conn, "431 Request Header Fields Too Large", "Request too large.\n")
                    return None
        except (OSError, ssl.SSLError):
            return None
        return data

    def _check(self, conn: socket.socket, head: bytes) -> socket.socket | None:
        """The login link, a request carrying the secret (then the session's connection), or 403."""
        try:
            _method, target, headers = _parse_head(head[:_head_end(head)])
        except ValueError:
            _reply(conn, "400 Bad Request", "Bad request.\n")
            return None
        secret = self.share.secret
        path = urllib.parse.urlsplit(target).path
        if path.startswith(LOGIN_PATH):
            if hmac.compare_digest(path[len(LOGIN_PATH):].encode(), secret.encode()):
                cookie = f"{COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Lax"
                _reply(conn, "303 See Other", "Shared session: continue to the session.\n",
                       {"Location": self.landing, "Set-Cookie": cookie})
            else:
                _reply(conn, "403 Forbidden", "This share link is wrong or has ended.\n")
            return None
        jar = http.cookies.SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except http.cookies.CookieError:
            pass
        given = jar[COOKIE].value if COOKIE in jar else ""
        if not hmac.compare_digest(given.encode(), secret.encode()):
            _reply(conn, "403 Forbidden", "This session is shared only through its share link, "
                                          "which is wrong or has ended.\n")
            return None
        try:
            upstream = socket.create_connection(self.target(), timeout=10)
        except OSError:
            _reply(conn, "502 Bad Gateway", "The session does not answer.\n")
            return None
        return upstream

    def _relay(self, conn: socket.socket, upstream: socket.socket, head: bytes) -> None:
        self._track(upstream, True)
        conn.settimeout(None)
        upstream.settimeout(None)
        try:
            upstream.sendall(head)
            other = threading.Thread(target=_pump, args=(upstream, conn), daemon=True)
            other.start()
            _pump(conn, upstream)
            other.join()
        except OSError:
            pass
        finally:
            self._track(upstream, False)
            upstream.close()

    def cut_connections(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        self._timer.cancel()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (close alone would not)
        except OSError:
            pass
        self._listener.close()
        self.cut_connections()
        self.on_end(self.share)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(BUFFER):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (sink, source):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ShareManager:
    """The shares of this app: at most one per session. `changed` is told when one starts or ends."""

    def __init__(self, endpoint: Endpoint, url_path: Callable[[Session], str],
                 changed: Callable[[Share], None] | None = None) -> None:
        self._endpoint = endpoint
        self._url_path = url_path
        self.changed = changed or (lambda share: None)
        self.shares: dict[tuple[str, str], Share] = {}
        self._lock = threading.Lock()

    def start(self, s: Session, duration: timedelta, address: str, port: int = 0) -> Share:
        if s.state not in (State.RUNNING, State.SUSPENDED):
            raise StateError(f"Session {s.id} is {s.state.value}", "share a running session")
        if not timedelta(seconds=1) <= duration <= MAX_DURATION:
            raise ValidationError("A share lasts between a second and seven days", "choose a shorter time")
        if address.startswith("127.") or address in ("0.0.0.0", ""):
            raise ValidationError(f"{address or 'No address'} cannot be shared to other devices",
                                  "choose an address of this computer that they reach")
        self.stop(s)
        until = datetime.now(UTC) + duration
        share = Share(s, address, port, until, make_certificate([address], until), secrets.token_urlsafe(24))
        share._server = ShareServer(share, lambda: self._endpoint(s), self._url_path(s), self._ended)
        with self._lock:
            self.shares[share.key] = share
        log.info("sharing session %s on %s:%d until %s", s.id, address, share.port, until.isoformat())
        self.changed(share)
        return share

    def get(self, s: Session) -> Share | None:
        share = self.shares.get((s.host, s.id))
        return share if share is not None and share.active else None

    def revoke(self, s: Session) -> Share:
        """A new secret: the old link and cookies stop working, and every connection is cut."""
        share = self.get(s)
        if share is None or share._server is None:
            raise StateError(f"Session {s.id} is not shared", "share it first")
        share.secret = secrets.token_urlsafe(24)
        share._server.cut_connections()
        log.info("new share secret for session %s", s.id)
        self.changed(share)
        return share

    def stop(self, s: Session) -> None:
        share = self.shares.get((s.host, s.id))
        if share is not None and share._server is not None:
            share._server.stop()

    def stop_all(self) -> None:
        for share in list(self.shares.values()):
            if share._server is not None:
                share._server.stop()

    def _ended(self, share: Share) -> None:
        with self._lock:
            if self.shares.get(share.key) is share:
                del self.shares[share.key]
        log.info("share of session %s ended", share.session.id)
        self.changed(share)


def landing_of(open_url: str) -> str:
    """The session's page (path and query of its local URL, secret included) where a share link leads."""
    parts = urllib.parse.urlsplit(open_url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
