"""The verbs about platform hosts (the CANFAR Science Platform): adding one, saving or removing a token,
and warning in time about a login that expires.

    canfar-desktop hosts add canfar https://ws-uv.canfar.net/skaha --canfar [--token-file FILE]
    canfar-desktop hosts login canfar [--token-file FILE|-]     (else the token is asked for)
    canfar-desktop hosts logout canfar
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from ..core.credentials import CredentialError, find_credential, token_expiry
from ..core.errors import ValidationError
from ..core.platform_hosts import is_platform, is_platform_url, platform_url, site_url
from ..core.secret_store import forget_token, save_token
from ..core.settings import HostConfig, save_settings
from .context import Context

MAX_TOKEN = 16 * 1024


def wants_platform(args: argparse.Namespace) -> bool:
    """Whether a `hosts` command is about a platform host (the rest are the Docker hosts' own)."""
    if args.action in ("login", "logout"):
        return True
    return args.action == "add" and (bool(getattr(args, "canfar", False)) or is_platform_url(args.url or ""))


def read_token(source: str) -> str:
    """A token from a file, from standard input (`-`), or typed at a hidden prompt (no source)."""
    if source == "-":
        text = sys.stdin.read(MAX_TOKEN + 1)
    elif source:
        try:
            text = Path(source).expanduser().read_text(encoding="utf-8", errors="replace")[: MAX_TOKEN + 1]
        except OSError as exc:
            raise ValidationError(f"Cannot read the token file {source} ({exc.strerror})",
                                  "give a file that holds the token, or - to read it from standard input") from None
    elif sys.stdin.isatty():
        text = getpass.getpass("Token (not shown): ")
    else:
        raise ValidationError("No token was given", "pass --token-file FILE, or --token-file - with the token on "
                                                    "standard input")
    token = text.strip()
    if not token or len(token) > MAX_TOKEN or any(c.isspace() for c in token):
        raise ValidationError("That is not a token (empty, too long, or with spaces in it)",
                              "give the token alone, e.g. the file written by your identity provider")
    return token


def _platform_host(ctx: Context, name: str | None) -> HostConfig:
    if not name:
        raise ValidationError("Name the platform host", "e.g. canfar-desktop hosts login canfar")
    cfg = ctx.settings.host(name)
    if not is_platform(cfg):
        raise ValidationError(f"{name} is a Docker host, which needs no token",
                              "tokens are for CANFAR Science Platform hosts (hosts add NAME URL --canfar)")
    return cfg


def login_line(ctx: Context, cfg: HostConfig) -> str:
    """Which credential the host will use, and until when; or what to do when there is none."""
    now = datetime.now(UTC)
    try:
        cred = find_credential(cfg, ctx.paths, now)
    except CredentialError as exc:
        return f"{cfg.name}: {exc.message}; {exc.hint}"
    return f"{cfg.name}: signs in with {cred.describe(now)}"


def cmd_platform_hosts(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "add":
        return _add(ctx, args)
    cfg = _platform_host(ctx, args.name)
    if args.action == "logout":
        found = forget_token(ctx.paths, site_url(cfg))
        print(f"{cfg.name}: the saved token was removed" if found else f"{cfg.name}: no token was saved")
        print(login_line(ctx, cfg))
        return 0
    token = read_token(args.token_file)
    where = save_token(ctx.paths, site_url(cfg), token)
    expiry = token_expiry(token)
    print(f"{cfg.name}: token saved in {where}"
          + (f"; it expires {expiry.astimezone():%Y-%m-%d %H:%M}" if expiry else ""))
    print(login_line(ctx, cfg))
    return 0


def _add(ctx: Context, args: argparse.Namespace) -> int:
    if not args.name or not args.url:
        raise ValidationError("hosts add needs NAME and URL",
                              "e.g. canfar-desktop hosts add canfar https://ws-uv.canfar.net/skaha --canfar")
    if args.arc_path or args.ssh_tunnel:
        raise ValidationError("--arc-path and --ssh-tunnel are for Docker hosts",
                              "the platform keeps /arc itself and opens its sessions at its own address")
    url = platform_url(args.url)
    token = read_token(args.token_file) if args.token_file else ""
    try:
        new = HostConfig(name=args.name, url=url, tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key)
    except ValueError as exc:
        raise ValidationError(f"Invalid host {args.name!r}", str(exc)) from None
    settings = ctx.settings
    settings.hosts = [h for h in settings.hosts if h.name != new.name] + [new]
    ctx.settings = save_settings(ctx.paths, settings)
    if token:
        print(f"{new.name}: token saved in {save_token(ctx.paths, site_url(new), token)}")
    print("hosts: " + ", ".join(h.name for h in ctx.settings.hosts))
    print(login_line(ctx, new))
    return 0


def forget_removed(ctx: Context, removed: HostConfig, remaining: list[HostConfig]) -> None:
    """A removed platform host's saved token goes too, unless another host uses the same service."""
    if is_platform(removed) and not any(is_platform(h) and site_url(h) == site_url(removed) for h in remaining):
        forget_token(ctx.paths, site_url(removed))


def credential_warnings(ctx: Context, host: str | None = None) -> list[str]:
    """Platform logins that have expired or expire within three days, as sentences for `ps`."""
    now = datetime.now(UTC)
    out = []
    for cfg in ctx.settings.hosts:
        if not is_platform(cfg) or (host and cfg.name != host):
            continue
        try:
            warning = find_credential(cfg, ctx.paths, now).warning(now)
        except CredentialError:
            continue  # the listing has reported it
        if warning:
            out.append(f"{cfg.name}: {warning}")
    return out
