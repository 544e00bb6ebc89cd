"""Hosts that are a science platform (a Skaha server such as the CANFAR Science Platform), as configured.

Such a host is written `skaha+https://ws-uv.canfar.net/skaha` in settings: the scheme keeps it apart
from a Docker engine's `https://` URL, and the rest is the service's address as the platform and its
official client name it (`…/skaha`, the API being `…/skaha/v1`). Plain `http://` is allowed only on
this computer's loopback (a local stand-in such as `canfar-desktop api`), because every request
carries the person's credentials.
"""

from __future__ import annotations

import urllib.parse

from .errors import ValidationError
from .settings import HostConfig

SCHEMES = ("skaha+https://", "skaha+http://")
API_VERSION = "v1"
CANFAR_SITE = "https://ws-uv.canfar.net/skaha"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_platform_url(url: str) -> bool:
    return url.strip().lower().startswith(SCHEMES)


def is_platform(cfg: HostConfig) -> bool:
    """Whether a configured host is a science platform (else it is a Docker engine)."""
    return is_platform_url(cfg.url)


def platform_url(text: str) -> str:
    """What a person typed (`https://ws-uv.canfar.net/skaha`, `…/skaha/v1`, `skaha+https://…`) as the
    stored form `skaha+https://host[:port]/path`; anything else is a one-line ValidationError."""
    raw = text.strip()
    if not raw:
        raise ValidationError("No address was given for the CANFAR Science Platform",
                              f"give the service's address, e.g. {CANFAR_SITE}")
    if is_platform_url(raw):
        raw = raw.split("+", 1)[1]
    try:
        parts = urllib.parse.urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ValidationError(f"{text!r} is not a web address", f"write it as {CANFAR_SITE}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{text!r} is not the address of a CANFAR Science Platform",
                              f"write it as https://host/skaha, e.g. {CANFAR_SITE}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(f"{text!r} carries a query, a fragment or a login",
                              "give only the address (credentials are found or saved apart from it)")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_NAMES:
        raise ValidationError(f"{text!r} would send your credentials unencrypted",
                              "use https:// (plain http:// is accepted only for this computer's 127.0.0.1)")
    path = parts.path.rstrip("/")
    if path.endswith("/" + API_VERSION):
        path = path[: -len(API_VERSION) - 1]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host + (f":{port}" if port else "")
    return f"skaha+{parts.scheme}://{netloc}{path}"


def site_url(cfg: HostConfig) -> str:
    """The service's address without the `skaha+` marker: `https://ws-uv.canfar.net/skaha`."""
    return platform_url(cfg.url).split("+", 1)[1]


def api_url(cfg: HostConfig) -> str:
    """The base of the session API: `https://ws-uv.canfar.net/skaha/v1`."""
    return f"{site_url(cfg)}/{API_VERSION}"


def server_name(cfg: HostConfig) -> str:
    """The platform's host name, for messages: `ws-uv.canfar.net`."""
    return urllib.parse.urlsplit(site_url(cfg)).netloc


def storage_text(cfg: HostConfig) -> str:
    """Where /arc lives for sessions on the platform, in words for the launch dialog, cards and `hosts`."""
    return f"/arc is the platform's shared storage on {server_name(cfg)}, the same in every session there"
