"""Configured hosts: where each one is, whether it is remote, and the host object for it.

The backend that talks to a host is imported only when a host is first used, so commands that
never reach an engine do not pay for the Docker SDK or SSH.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .platform import HAS_UNIX_SOCKETS
from .platform_hosts import is_platform, storage_text
from .settings import AppPaths, HostConfig

if TYPE_CHECKING:
    from .host import SessionHost


def docker_config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))


def current_context_host() -> str:
    """The endpoint of the current Docker context, when one other than `default` is selected."""
    config = docker_config_dir()
    try:
        current = json.loads((config / "config.json").read_text()).get("currentContext", "")
    except (OSError, ValueError):
        return ""
    if not current or current == "default":
        return ""
    for meta in (config / "contexts" / "meta").glob("*/meta.json"):
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        if data.get("Name") == current:
            return str(data.get("Endpoints", {}).get("docker", {}).get("Host", ""))
    return ""


def list_contexts() -> list[HostConfig]:
    """Docker contexts on this machine as host entries the user can import."""
    hosts: list[HostConfig] = []
    for meta in sorted((docker_config_dir() / "contexts" / "meta").glob("*/meta.json")):
        try:
            data = json.loads(meta.read_text())
            name = str(data["Name"])
            url = str(data["Endpoints"]["docker"]["Host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        tls_dir = docker_config_dir() / "contexts" / "tls" / meta.parent.name / "docker"
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        hosts.append(HostConfig(
            name=safe,
            url=url,
            tls_ca=str(tls_dir / "ca.pem") if (tls_dir / "ca.pem").exists() else "",
            tls_cert=str(tls_dir / "cert.pem") if (tls_dir / "cert.pem").exists() else "",
            tls_key=str(tls_dir / "key.pem") if (tls_dir / "key.pem").exists() else "",
        ))
    return hosts


def resolve_url(cfg: HostConfig) -> str:
    return cfg.url or os.environ.get("DOCKER_HOST", "") or current_context_host() or "unix:///var/run/docker.sock"


LOCAL_SCHEMES = ("unix://", "npipe://", "http+unix://")
NETWORK_SCHEMES = ("tcp://", "http://", "https://")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def is_remote(cfg: HostConfig) -> bool:
    """Every engine not reached through a local socket or pipe is remote: its paths are not this computer's."""
    return not resolve_url(cfg).startswith(LOCAL_SCHEMES)


def needs_tls(cfg: HostConfig) -> bool:
    """An engine reached over the network on anything but this computer's loopback needs verified TLS."""
    url = resolve_url(cfg)
    if not url.startswith(NETWORK_SCHEMES):
        return False
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        return True
    return host not in LOOPBACK_NAMES


def storage_description(cfg: HostConfig, local_arc: Path, user: str) -> str:
    """Where /arc lives for sessions on this host, in words for the UI and the CLI."""
    if is_platform(cfg):
        return storage_text(cfg)
    if not is_remote(cfg):
        return f"/arc is {local_arc} on this computer"
    if cfg.arc_path:
        return f"/arc is {cfg.arc_path.rstrip('/')} on {cfg.name}"
    return (f"/arc is kept in Docker volumes on {cfg.name} "
            f"(canfar-arc-home-{user} and canfar-arc-projects)")


def open_host(cfg: HostConfig, user: str = "", paths: AppPaths | None = None) -> SessionHost:
    """The SessionHost for a configured host: this computer's engine through its socket (the SDK only
    when needed), a remote Docker engine over ssh:// or tcp:// through the SDK, or a science platform
    (skaha+https://), whose sessions are `user`'s and whose saved login is under `paths`."""
    if is_platform(cfg):
        from .backends.skaha import SkahaHost

        return cast("SessionHost", SkahaHost(cfg, user, paths or AppPaths.default()))
    url = resolve_url(cfg)
    if url.startswith("unix://") and HAS_UNIX_SOCKETS:
        from .backends.local_engine import LocalEngine

        return cast("SessionHost", LocalEngine(cfg, url))
    from .backends.docker_remote import connect

    return connect(cfg)
