"""Signing in to a platform host: its address, the official client's login file, the credentials people
have (a saved token, an X.509 proxy certificate, `canfar login`), their expiry, and the token store."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from canfar_desktop.core.canfar_login import parse_yaml, read_login
from canfar_desktop.core.credentials import CredentialError, certificate_expiry, find_credential, token_expiry
from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.plain import to_plain
from canfar_desktop.core.platform_hosts import api_url, platform_url, site_url
from canfar_desktop.core.secret_store import forget_token, load_token, save_token, token_file
from canfar_desktop.core.settings import AppPaths, HostConfig, Settings

from ..certs import Authority

CANFAR = HostConfig(name="canfar", url="skaha+https://ws-uv.canfar.net/skaha")

# ~/.canfar/config.yaml as `canfar login` (canfar 1.5) writes it: PyYAML, block style, sorted keys.
CLIENT_CONFIG = """\
active:
  authentication: {auth}
  server: {server}
  servers: {{}}
authentication:
  cadc:
    expiry: 0.0
    idp: cadc
    mode: x509
    path: {cert}
  srcnet:
    client:
      identity: abc
      secret: xyz
      secret_expires_at: null
    endpoints:
      discovery: https://ska-iam.stfc.ac.uk/.well-known/openid-configuration
      token: https://ska-iam.stfc.ac.uk/token
    expiry:
      access: {access_expiry}
      refresh: 1800000000.0
    idp: srcnet
    mode: oidc
    token:
      access: '{token}'
      refresh: 'r3fr3sh'
console:
  banner: true  # comments are allowed
  width: 120
servers:
  canfar:
    auths:
    - x509
    idp: cadc
    name: canfar
    url: https://ws-uv.canfar.net/skaha
    version: v1
  srcnet:
    auths: [oidc]
    idp: srcnet
    url: "https://src.example.org/skaha"
    version: v1
version: 2
"""


def jwt(expiry: datetime) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': 'jdoe', 'exp': int(expiry.timestamp())})}.c2ln"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of its own: no ~/.canfar or ~/.ssl unless a test makes them."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "ca")


def write_config(home: Path, **values: object) -> Path:
    fields = {"auth": "cadc", "server": "canfar", "cert": home / ".ssl" / "cadcproxy.pem",
              "access_expiry": 4102444800.0, "token": "t0k3n"} | values
    path = home / ".canfar" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CLIENT_CONFIG.format(**fields))
    return path


# --- the address -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("https://ws-uv.canfar.net/skaha", "skaha+https://ws-uv.canfar.net/skaha"),
    ("https://ws-uv.canfar.net/skaha/v1/", "skaha+https://ws-uv.canfar.net/skaha"),
    ("skaha+https://ws-uv.canfar.net/skaha", "skaha+https://ws-uv.canfar.net/skaha"),
    ("http://127.0.0.1:7654/skaha/v1", "skaha+http://127.0.0.1:7654/skaha"),
    ("https://[::1]:8443/skaha", "skaha+https://[::1]:8443/skaha"),
])
def test_platform_addresses(typed: str, stored: str) -> None:
    assert platform_url(typed) == stored
    cfg = HostConfig(name="p", url=stored)
    assert api_url(cfg) == site_url(cfg) + "/v1"


@pytest.mark.parametrize(("typed", "problem"), [
    ("", "No address"), ("ssh://me@host", "not the address"), ("http://example.org/skaha", "unencrypted"),
    ("https://me:pw@ws-uv.canfar.net/skaha", "a login"), ("https://ws-uv.canfar.net/skaha?x=1", "query"),
    ("https://host:99999/skaha", "not a web address"),
])
def test_bad_platform_addresses_are_one_clear_line(typed: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as caught:
        platform_url(typed)
    assert "\n" not in str(caught.value) and caught.value.hint


# --- the official client's login file -------------------------------------------------------------

def test_the_client_config_as_it_writes_it(home: Path) -> None:
    data = parse_yaml(CLIENT_CONFIG.format(auth="cadc", server="canfar", cert="/x/cadcproxy.pem",
                                           access_expiry=1.5, token="abc"))
    assert data["servers"]["canfar"]["auths"] == ["x509"] and data["servers"]["srcnet"]["auths"] == ["oidc"]
    assert data["active"]["servers"] == {} and data["console"] == {"banner": True, "width": 120}
    assert data["authentication"]["srcnet"]["client"]["secret_expires_at"] is None
    assert data["servers"]["srcnet"]["url"] == "https://src.example.org/skaha" and data["version"] == 2
    x509_login = read_login(write_config(home))
    assert x509_login is not None and x509_login.mode == "x509"
    assert x509_login.certificate == home / ".ssl" / "cadcproxy.pem"
    assert x509_login.server_url == "https://ws-uv.canfar.net/skaha" and x509_login.expiry is None
    oidc = read_login(write_config(home, auth="srcnet", server="srcnet", token="eyJ.eyJ.sig"))
    assert oidc is not None and (oidc.mode, oidc.token, oidc.expiry) == ("oidc", "eyJ.eyJ.sig", 4102444800.0)
    assert oidc.server_url == "https://src.example.org/skaha"


def test_the_older_client_config_and_files_that_cannot_be_read(home: Path) -> None:
    older = home / "old.yaml"
    older.write_text("auth:\n  mode: oidc\n  oidc:\n    token:\n      access: abc.def.ghi\n    expiry:\n"
                     "      access: 2000000000\nserver:\n  url: https://ws-uv.canfar.net/skaha\n")
    login = read_login(older)
    assert login is not None and (login.mode, login.token, login.expiry) == ("oidc", "abc.def.ghi", 2e9)
    assert read_login(home / "missing.yaml") is None
    for text in ("key: [unclosed\n  - what\n", "a: 1\n    b: 2\n", "k: |\n  block\n", "\tk: v\n", "- just\n- a list\n"):
        bad = home / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ValueError):
            read_login(bad)


# --- credentials ---------------------------------------------------------------------------------------

def test_no_login_at_all_says_how_to_sign_in(home: Path, paths: AppPaths) -> None:
    with pytest.raises(CredentialError) as caught:
        find_credential(CANFAR, paths)
    assert caught.value.message == "No CANFAR login found for canfar (ws-uv.canfar.net)"
    assert "canfar login" in caught.value.hint and "canfar-desktop hosts login canfar" in caught.value.hint
    assert "~/.ssl/cadcproxy.pem" in caught.value.hint


def test_an_expired_certificate_says_when_and_how_to_renew(home: Path, paths: AppPaths, authority: Authority) -> None:
    proxy = authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(days=-2))
    assert certificate_expiry(proxy) is not None and certificate_expiry(proxy) < datetime.now(UTC)  # type: ignore[operator]
    with pytest.raises(CredentialError) as caught:
        find_credential(CANFAR, paths)
    assert caught.value.message.startswith("Your CANFAR login has expired: the X.509 proxy certificate "
                                           "~/.ssl/cadcproxy.pem, expired on ")
    assert "canfar login" in caught.value.hint and "cadc-get-cert" in caught.value.hint


def test_a_valid_certificate_and_its_expiry_ahead_of_time(home: Path, paths: AppPaths, authority: Authority) -> None:
    authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(days=9))
    cred = find_credential(CANFAR, paths)
    now = datetime.now(UTC)
    assert cred.kind == "x509" and cred.certificate == home / ".ssl" / "cadcproxy.pem" and cred.auth_type == "X509"
    assert "valid until" in cred.describe(now) and "8 d" in cred.describe(now) and cred.warning(now) == ""
    authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(hours=30))
    soon = find_credential(CANFAR, paths)
    assert soon.warning(now).startswith("The X.509 proxy certificate ~/.ssl/cadcproxy.pem, valid until ")
    assert "canfar login" in soon.warning(now)
    (home / ".ssl" / "cadcproxy.pem").write_text("not a certificate")
    with pytest.raises(CredentialError, match="holds no certificate"):
        find_credential(CANFAR, paths)


def test_a_saved_token_comes_first_and_an_expired_one_gives_way(home: Path, paths: AppPaths,
                                                                authority: Authority) -> None:
    authority.proxy(home / ".ssl" / "cadcproxy.pem", timedelta(days=5))
    fresh = jwt(datetime.now(UTC) + timedelta(hours=2))
    save_token(paths, site_url(CANFAR), fresh)
    cred = find_credential(CANFAR, paths)
    assert (cred.kind, cred.token, cred.auth_type) == ("token", fresh, "RUNTIME-TOKEN")
    assert cred.expiry == token_expiry(fresh) and "token saved for canfar" in cred.source
    save_token(paths, site_url(CANFAR), jwt(datetime.now(UTC) - timedelta(hours=1)))
    assert find_credential(CANFAR, paths).kind == "x509", "the certificate, while the token has expired"
    (home / ".ssl" / "cadcproxy.pem").unlink()
    with pytest.raises(CredentialError, match="has expired: the token saved for canfar") as caught:
        find_credential(CANFAR, paths)
    assert "canfar-desktop hosts login canfar" in caught.value.hint
    assert token_expiry("opaque-cadc-token") is None and token_expiry("a.b.c") is None


def test_the_clients_token_goes_only_to_its_own_server(home: Path, paths: AppPaths, authority: Authority) -> None:
    write_config(home, auth="srcnet", server="srcnet", token="eyJ.client.token")
    with pytest.raises(CredentialError, match="No CANFAR login"):
        find_credential(CANFAR, paths)  # srcnet's token is not sent to ws-uv.canfar.net
    src = HostConfig(name="src", url="skaha+https://src.example.org/skaha")
    cred = find_credential(src, paths)
    assert (cred.kind, cred.token, cred.auth_type) == ("token", "eyJ.client.token", "OIDC")
    assert "canfar client's login" in cred.source and "canfar login" in cred.renew
    write_config(home, auth="srcnet", server="srcnet", token="eyJ.client.token", access_expiry=1000.0)
    with pytest.raises(CredentialError, match="has expired"):
        find_credential(src, paths)
    write_config(home, cert=authority.proxy(home / "certs" / "mine.pem", timedelta(days=3)))
    assert find_credential(CANFAR, paths).certificate == home / "certs" / "mine.pem"


def test_an_unreadable_client_config_is_named_when_nothing_else_is_found(home: Path, paths: AppPaths) -> None:
    config = home / ".canfar" / "config.yaml"
    config.parent.mkdir()
    config.write_text("active: [broken\n")
    with pytest.raises(CredentialError, match=r"config\.yaml could not be read"):
        find_credential(CANFAR, paths)


def test_a_certificate_set_for_the_host(home: Path, paths: AppPaths, authority: Authority) -> None:
    own = HostConfig(name="canfar", url=CANFAR.url, tls_cert=str(home / "nowhere.pem"))
    with pytest.raises(CredentialError, match="does not exist"):
        find_credential(own, paths)
    own = HostConfig(name="canfar", url=CANFAR.url, tls_cert=str(authority.proxy(home / "mine.pem", timedelta(days=1))))
    assert find_credential(own, paths).certificate == home / "mine.pem"


# --- the token store -----------------------------------------------------------------------------------

class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps passwords in this process (the system's needs a desktop session). It has no
    priority, so keyring never picks it by itself: only the tests that set it use it."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.refuse = refuse

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.refuse:
            raise keyring.errors.PasswordSetError("the keyring is locked")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username))


@pytest.fixture
def ring() -> Iterator[Callable[[keyring.backend.KeyringBackend], None]]:
    """Choose the keyring for one test; the one before comes back afterwards."""
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_tokens_go_to_the_system_keyring_where_there_is_one(paths: AppPaths, ring: Any) -> None:
    memory = MemoryKeyring()
    ring(memory)
    assert save_token(paths, site_url(CANFAR), "s3cr3t-t0ken") == "the system keyring"
    assert memory.items == {("canfar-desktop", site_url(CANFAR)): "s3cr3t-t0ken"}
    assert not token_file(paths).exists(), "nothing on disk when the keyring holds it"
    assert load_token(paths, site_url(CANFAR)) == ("s3cr3t-t0ken", "the system keyring")
    assert forget_token(paths, site_url(CANFAR)) and memory.items == {}
    assert load_token(paths, site_url(CANFAR)) is None


def test_a_keyring_that_refuses_leaves_the_token_in_the_private_file(paths: AppPaths, ring: Any) -> None:
    ring(MemoryKeyring(refuse=True))
    where = save_token(paths, site_url(CANFAR), "s3cr3t-t0ken")
    assert where.startswith(str(token_file(paths))) and stat.S_IMODE(token_file(paths).stat().st_mode) == 0o600
    assert load_token(paths, site_url(CANFAR)) == ("s3cr3t-t0ken", str(token_file(paths)))


def test_tokens_stay_out_of_settings_in_a_private_file(paths: AppPaths, ring: Any) -> None:
    ring(keyring.backends.fail.Keyring())  # no keyring on this system
    where = save_token(paths, site_url(CANFAR), "s3cr3t-t0ken")
    path = token_file(paths)
    assert where.startswith(str(path)) and load_token(paths, site_url(CANFAR)) == ("s3cr3t-t0ken", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "s3cr3t" not in json.dumps(to_plain(Settings(hosts=[HostConfig(), CANFAR])))
    assert forget_token(paths, site_url(CANFAR)) and load_token(paths, site_url(CANFAR)) is None
    assert not path.exists() and not forget_token(paths, site_url(CANFAR))
