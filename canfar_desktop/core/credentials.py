"""Who a person is on a science platform: the credential to send, where it came from, when it expires.

People already have one of: a token they saved for the host (`canfar-desktop hosts login`, kept in
the keyring or a 0600 file, never in settings), an X.509 proxy certificate named in the host's
settings, the official `canfar` client's active login (`canfar login`: an OIDC token or a
certificate), or a CADC proxy certificate at `~/.ssl/cadcproxy.pem`. The first of these that has not
expired is used; when every one has expired, the message names the first and how to renew it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from .canfar_login import config_path, read_login
from .errors import CanfarError
from .formats import human_duration
from .platform_hosts import server_name, site_url
from .record import field, record
from .secret_store import load_token
from .settings import AppPaths, HostConfig

SOON_S = 3 * 86400  # a credential expiring within three days is worth a warning
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


class CredentialError(CanfarError):
    """No usable credential for a platform: none found, expired, unreadable, or refused by it."""


def proxy_path() -> Path:
    """Where CADC's tools and `canfar login` put the proxy certificate."""
    return Path.home() / ".ssl" / "cadcproxy.pem"


def _home_relative(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


@record
class Credential:
    """One credential, ready to authenticate requests: a bearer token or a client certificate."""

    kind: str  # "token" or "x509"
    source: str  # in words: "the X.509 proxy certificate ~/.ssl/cadcproxy.pem"
    renew: str  # what to do when it expires or is refused
    token: str = field(default="", repr=False)
    certificate: Path | None = None
    key: Path | None = None
    expiry: datetime | None = None
    auth_type: str = "X509"  # the X-Skaha-Authentication-Type header the official client sends

    def expired(self, now: datetime) -> bool:
        return self.expiry is not None and self.expiry <= now

    def expires_soon(self, now: datetime) -> bool:
        return self.expiry is not None and (self.expiry - now).total_seconds() < SOON_S

    def describe(self, now: datetime) -> str:
        """"the X.509 proxy certificate ~/.ssl/cadcproxy.pem, valid until 2026-12-03 14:00 (4 d 2 h left)"."""
        if self.expiry is None:
            return f"{self.source} (no expiry date known)"
        when = self.expiry.astimezone().strftime("%Y-%m-%d %H:%M")
        if self.expired(now):
            return f"{self.source}, expired on {when}"
        return f"{self.source}, valid until {when} ({human_duration((self.expiry - now).total_seconds())} left)"

    def warning(self, now: datetime) -> str:
        """A sentence when it has expired or expires within three days, else ""."""
        if self.expiry is None or not self.expires_soon(now):
            return ""
        return f"{self.describe(now)[0].upper()}{self.describe(now)[1:]}: {self.renew}"


def token_expiry(token: str) -> datetime | None:
    """The `exp` of a JSON Web Token (not verified: only to warn in time); None for other tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = float(payload["exp"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def certificate_expiry(path: Path) -> datetime | None:
    """When the first certificate in a PEM file to expire does so (a proxy chain ends with its
    shortest-lived one); None when the `cryptography` package is missing. Raises CredentialError for
    a file that cannot be read or holds no certificate."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CredentialError(f"Cannot read the certificate {_home_relative(path)} ({exc.strerror})",
                              "check the path and its permissions, or make a new one with `canfar login`") from None
    blocks = _PEM_CERT.findall(data)
    if not blocks:
        raise CredentialError(f"{_home_relative(path)} holds no certificate",
                              "make a new proxy certificate with `canfar login` (or cadc-get-cert)")
    try:
        from cryptography import x509
    except ImportError:
        return None
    ends: list[datetime] = []
    for block in blocks:
        try:
            cert = x509.load_pem_x509_certificate(block)
        except ValueError:
            continue
        end = getattr(cert, "not_valid_after_utc", None)
        ends.append(end if end is not None else cert.not_valid_after.replace(tzinfo=UTC))
    if not ends:
        raise CredentialError(f"The certificate in {_home_relative(path)} cannot be read",
                              "make a new proxy certificate with `canfar login` (or cadc-get-cert)")
    return min(ends)


def _certificate(path: Path, source: str, renew: str, key: Path | None = None) -> Credential:
    return Credential("x509", source, renew, certificate=path, key=key, expiry=certificate_expiry(path))


def candidates(cfg: HostConfig, paths: AppPaths) -> tuple[list[Credential], list[str]]:
    """Every credential present for a host, in the order they are preferred, and the problems met
    on the way (an unreadable client config), for the message when none is usable."""
    found: list[Credential] = []
    problems: list[str] = []
    site = site_url(cfg)
    login_hint = f"canfar-desktop hosts login {cfg.name} (or Settings › Hosts)"
    saved = load_token(paths, site)
    if saved is not None:
        token, _where = saved  # `hosts login` says where; the sentence stays short
        found.append(Credential("token", f"the token saved for {cfg.name}",
                                f"save a new token: {login_hint}", token=token, expiry=token_expiry(token),
                                auth_type="RUNTIME-TOKEN"))
    if cfg.tls_cert:
        cert = Path(cfg.tls_cert).expanduser()
        if not cert.is_file():
            raise CredentialError(f"The certificate {cfg.tls_cert} set for {cfg.name} does not exist",
                                  "fix the path in the host's settings, or clear it to use your canfar login")
        found.append(_certificate(cert, f"the X.509 certificate {_home_relative(cert)} set for {cfg.name}",
                                  "replace the certificate file, or clear it in the host's settings",
                                  Path(cfg.tls_key).expanduser() if cfg.tls_key else None))
    try:
        login = read_login()
    except ValueError as exc:
        problems.append(f"{_home_relative(config_path())} could not be read ({exc})")
        login = None
    if login is not None:
        ours = urllib.parse.urlsplit(site).netloc
        theirs = urllib.parse.urlsplit(login.server_url).netloc if login.server_url else ""
        renew = "sign in again with `canfar login` (any canfar command also refreshes a login that can be)"
        where = f"the canfar client's login ({_home_relative(config_path())})"
        if login.mode == "oidc" and login.token and theirs == ours:  # a token only goes to the server it is for
            expiry = datetime.fromtimestamp(login.expiry, UTC) if login.expiry else token_expiry(login.token)
            found.append(Credential("token", where, renew, token=login.token, expiry=expiry, auth_type="OIDC"))
        elif login.mode == "x509" and login.certificate is not None and login.certificate.is_file():
            found.append(_certificate(login.certificate, f"{where}, certificate {_home_relative(login.certificate)}",
                                      "make a new certificate with `canfar login`"))
    proxy = proxy_path()
    if proxy.is_file() and all(c.certificate != proxy for c in found):
        found.append(_certificate(proxy, f"the X.509 proxy certificate {_home_relative(proxy)}",
                                  "make a new one with `canfar login` (or cadc-get-cert -u YOUR_CADC_USERNAME)"))
    return found, problems


def find_credential(cfg: HostConfig, paths: AppPaths, now: datetime | None = None) -> Credential:
    """The credential to use for a host: the first present that has not expired."""
    moment = now or datetime.now(UTC)
    found, problems = candidates(cfg, paths)
    for cred in found:
        if not cred.expired(moment):
            return cred
    if found:
        first = found[0]
        raise CredentialError(f"Your CANFAR login has expired: {first.describe(moment)}", first.renew)
    also = f" ({'; '.join(problems)})" if problems else ""
    raise CredentialError(
        f"No CANFAR login found for {cfg.name} ({server_name(cfg)}){also}",
        f"sign in with `canfar login` (pip install canfar), save a token with canfar-desktop hosts login "
        f"{cfg.name}, or put your CADC proxy certificate at {_home_relative(proxy_path())}")
