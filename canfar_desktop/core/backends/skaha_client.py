"""Requests to a platform's session API (Skaha v1) with the person's credential, and its answers as our errors.

Plain `http.client` with verified TLS (the system's CAs, or the host's own CA file), a bearer token
or an X.509 client certificate, a short connect timeout so an unreachable platform is noticed in
seconds, and no redirects (a redirect could carry the token to another site). Failures a retry would
repeat at once (the platform unreachable, the credential refused) are remembered for a back-off
period, so callers that poll are answered from memory instead of knocking again.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ... import __version__
from ..credentials import Credential, CredentialError, find_credential
from ..errors import CanfarError, EngineUnavailable, LaunchError, LimitError, NotFound, ValidationError
from ..platform_hosts import LOOPBACK_NAMES, api_url, server_name
from ..settings import AppPaths, HostConfig

CONNECT_TIMEOUT_S = 6.0
READ_TIMEOUT_S = 30.0
MAX_BODY = 64 * 1024**2
CREDENTIAL_FRESH_S = 30.0
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 60.0
STATUS_PAGE = "https://www.canfar.net"
Params = Mapping[str, object]  # a list or tuple value is sent once per item


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return re.sub(r"\s+", " ", text.splitlines()[0])[:300] if text else ""


class SkahaClient:
    """One platform's API. Thread-safe; each request is one connection."""

    def __init__(self, cfg: HostConfig, paths: AppPaths, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.paths = paths
        self.base = urllib.parse.urlsplit(api_url(cfg))
        self.server = server_name(cfg)
        self._clock = clock
        self._lock = threading.Lock()
        self._credential: Credential | None = None
        self._tls: ssl.SSLContext | None = None
        self._found_at = 0.0
        self._failures = 0
        # (until, the error to answer with, the refused credential's identity or None for the network)
        self._blocked: tuple[float, CanfarError, tuple[object, ...] | None] | None = None
        self._accepted = False  # the platform answered a request made with the current credential
        self._durations: deque[float] = deque(maxlen=8)  # of recent requests, in ms

    # --- credentials ------------------------------------------------------------------------------

    def credential(self) -> Credential:
        """The credential in use: found on first use, then looked for again every half minute (a token
        saved meanwhile, a certificate renewed by `canfar login`) and once it has expired."""
        return self._login()[0]

    def _login(self) -> tuple[Credential, ssl.SSLContext | None]:
        now = datetime.now(UTC)
        with self._lock:
            current = self._credential
            if current is not None and not current.expired(now) and self._clock() - self._found_at < CREDENTIAL_FRESH_S:
                return current, self._tls
            self._found_at = self._clock()
            cred = find_credential(self.cfg, self.paths, now)
            if current is not None and _identity(cred) == _identity(current):
                return current, self._tls
            self._credential, self._tls, self._accepted = None, None, False
            tls = self._context(cred) if self.base.scheme == "https" else None
            if cred.kind == "x509" and tls is None:
                raise CredentialError(f"A certificate login to {self.server} needs https",
                                      "use the platform's https:// address, or save a token for it")
            self._credential, self._tls = cred, tls
            return cred, tls

    @property
    def known_credential(self) -> Credential | None:
        """The credential the platform last accepted, without looking (no I/O); None before that."""
        return self._credential if self._accepted else None

    @property
    def rtt_ms(self) -> float | None:
        """The quickest of the recent requests: the round trip, without the platform's own work."""
        return min(self._durations) if self._durations else None

    def forget(self) -> None:
        """Look for the credential again next time (the person may have renewed it); keeps the back-off."""
        with self._lock:
            self._credential, self._tls, self._accepted = None, None, False

    def _context(self, cred: Credential) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=self.cfg.tls_ca or None)
        except (OSError, ssl.SSLError) as exc:
            raise EngineUnavailable(f"The CA file {self.cfg.tls_ca} for {self.cfg.name} cannot be used ({exc})",
                                    "fix the CA path in the host's settings, or clear it to use the system's") from None
        if cred.kind == "x509" and cred.certificate is not None:

            def no_passphrase() -> str:
                raise CredentialError(f"The key of {cred.source} is protected by a passphrase",
                                      "use a proxy certificate without a passphrase (canfar login makes one)")

            try:
                context.load_cert_chain(str(cred.certificate), str(cred.key) if cred.key else None,
                                        password=no_passphrase)
            except (OSError, ssl.SSLError) as exc:
                raise CredentialError(f"{cred.source[0].upper()}{cred.source[1:]} cannot be used ({exc})",
                                      cred.renew) from None
        return context

    # --- requests ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, params: Params | None = None, accept: str = "application/json",
                timeout: float = READ_TIMEOUT_S) -> bytes:
        """One request; the answer's body on success, else the project's error for what went wrong."""
        cred, tls = self._login()
        with self._lock:
            blocked = self._blocked
        if blocked is not None and self._clock() < blocked[0] and blocked[2] in (None, _identity(cred)):
            raise blocked[1]  # (a credential that changed since it was refused is tried at once)
        query = urllib.parse.urlencode(list(_pairs(params or {})), doseq=True)
        target = self.base.path + path + (f"?{query}" if query else "")
        headers = {"Accept": accept, "User-Agent": f"canfar-desktop/{__version__}",
                   "X-Skaha-Authentication-Type": cred.auth_type}
        if cred.kind == "token":
            headers["Authorization"] = f"Bearer {cred.token}"
        if method in ("POST", "PUT", "DELETE"):
            headers["Content-Type"] = "application/x-www-form-urlencoded"  # parameters travel in the query
        started = self._clock()
        try:
            status, body, location = self._exchange(tls, method, target, headers, timeout)
        except CanfarError as exc:
            self._failed(exc, cred)
            raise
        self._durations.append((self._clock() - started) * 1000)
        if status < 300:
            with self._lock:
                self._failures, self._blocked, self._accepted = 0, None, True
            return body
        error = self._answer_error(status, body, cred, location)
        if status == 401:
            self._accepted = False
        self._failed(error, cred)
        raise error

    def json(self, path: str, params: Params | None = None) -> Any:
        body = self.request("GET", path, params)
        try:
            return json.loads(body)
        except ValueError:
            raise EngineUnavailable(f"{self.server} answered {path} with something that is not JSON",
                                    f"check the host's address ({self.base.geturl()}) is a Skaha session API") from None

    def _failed(self, error: CanfarError, cred: Credential) -> None:
        """Unreachable or refused: answer the same for a while (longer each time) instead of asking again."""
        if not isinstance(error, (EngineUnavailable, CredentialError)):
            return
        with self._lock:
            self._failures += 1
            wait = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self._failures - 1))
            self._blocked = (self._clock() + wait, error,
                             _identity(cred) if isinstance(error, CredentialError) else None)

    def _connection(self, tls: ssl.SSLContext | None) -> http.client.HTTPConnection:
        host = self.base.hostname or ""
        port = self.base.port or (443 if self.base.scheme == "https" else 80)
        proxy = _proxy_for(self.base.scheme, host)
        if tls is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy[0] if proxy else host, proxy[1] if proxy else port, timeout=CONNECT_TIMEOUT_S, context=tls)
            if proxy:
                conn.set_tunnel(host, port)
            return conn
        return http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_S)

    def _exchange(self, tls: ssl.SSLContext | None, method: str, target: str, headers: dict[str, str],
                  timeout: float) -> tuple[int, bytes, str]:
        conn = self._connection(tls)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(timeout)  # connecting is quick or never; an answer may take a while
            conn.request(method, target, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise EngineUnavailable(f"{self.server} sent more than {MAX_BODY // 1024**2} MB for {target}",
                                        "ask for less (e.g. fewer log lines)")
            return response.status, body, response.getheader("Location") or ""
        except ssl.SSLCertVerificationError as exc:
            raise EngineUnavailable(f"The certificate of {self.server} could not be verified ({exc.verify_message})",
                                    "check the address; a private deployment needs its CA file in the host's "
                                    "settings (--tls-ca)") from None
        except ssl.SSLError as exc:
            reason = str(exc.reason or exc)
            if "CERTIFICATE_EXPIRED" in reason.upper() or "CERTIFICATE_REVOKED" in reason.upper():
                cred = self._credential
                raise CredentialError(f"{self.server} refused your certificate as expired",
                                      cred.renew if cred else "make a new one with `canfar login`") from None
            raise EngineUnavailable(f"The TLS connection to {self.server} failed ({reason})",
                                    "check your network, or the platform's status on " + STATUS_PAGE) from None
        except TimeoutError:
            raise EngineUnavailable(f"The CANFAR Science Platform at {self.server} did not answer in time",
                                    "check your network connection, or the platform's status on " + STATUS_PAGE) from None
        except (OSError, http.client.HTTPException) as exc:
            why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise EngineUnavailable(f"The CANFAR Science Platform at {self.server} cannot be reached ({why})",
                                    "check your network connection, or the platform's status on " + STATUS_PAGE) from None
        finally:
            conn.close()

    def _answer_error(self, status: int, body: bytes, cred: Credential, location: str) -> CanfarError:
        text = _first_line(body)
        said = f": {text}" if text else ""
        if 300 <= status < 400:
            return EngineUnavailable(f"{self.server} redirected the request elsewhere ({location or status})",
                                     f"check the host's address ({self.base.geturl()}); a sign-in page means the "
                                     "credential was not accepted")
        if status == 401:
            return CredentialError(f"{self.server} did not accept {cred.source} (HTTP 401{said})", cred.renew)
        if status == 403:
            return CredentialError(f"{self.server} does not allow your account to do this (HTTP 403{said})",
                                   "sessions need a CANFAR account with access to the Science Platform; "
                                   "ask support@canfar.net")
        if status == 404:
            return NotFound(text or f"Not found on {self.server}", "list sessions with canfar-desktop ps -a")
        if status in (400, 409, 412, 413):
            if re.search(r"maximum|limit|quota|reached", text, re.I):
                return LimitError(text, "delete a session you no longer need (canfar-desktop delete ID)")
            return ValidationError(text or f"{self.server} refused the request (HTTP {status})",
                                   "check the image and resources against what the platform offers "
                                   f"(canfar-desktop image ls --host {self.cfg.name})")
        if status in (502, 503, 504):
            return EngineUnavailable(f"The CANFAR Science Platform at {self.server} is not available now (HTTP {status})",
                                     "try again in a few minutes; the platform's status is on " + STATUS_PAGE)
        if status == 500:
            return LaunchError(f"{self.server} failed{said or ' (HTTP 500)'}",
                               "try again; if it keeps failing, write to support@canfar.net with the session id")
        return CanfarError(f"{self.server} answered HTTP {status}{said}", "try again later")


def _identity(cred: Credential) -> tuple[object, ...]:
    return (cred.kind, cred.token, str(cred.certificate), cred.expiry)


def _pairs(params: Params) -> list[tuple[str, str]]:
    out = []
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            out += [(key, str(v)) for v in value]
        else:
            out.append((key, str(value)))
    return out


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    """The proxy the environment names for this host (https_proxy, no_proxy), never for loopback."""
    if host in LOOPBACK_NAMES or scheme != "https":
        return None
    proxies = urllib.request.getproxies()
    url = proxies.get("https")
    if not url or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    return (parts.hostname, parts.port or 3128) if parts.hostname else None
