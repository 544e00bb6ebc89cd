"""The verbs about hosts: `hosts` (list, add, remove, import Docker contexts) and `stats` (capacity and use)."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core.errors import CanfarError, ValidationError
from ..core.settings import save_settings
from .context import Context
from .output import emit, table


def cmd_stats(ctx: Context, args: argparse.Namespace) -> int:
    from ..core.monitor import sample_once

    service = ctx.service
    hosts = [args.host] if args.host else service.host_names()
    report: list[dict[str, Any]] = []
    for name in hosts:
        try:
            info = service.host_info(name)
        except CanfarError as exc:
            print(f"warning: host {name}: {exc}", file=sys.stderr)
            continue
        sessions = [s for s in service.sessions(name) if s.status == "running"]
        with ThreadPoolExecutor(max_workers=8) as pool:  # each sample waits ~1 s for CPU figures
            samples = dict(zip([s.id for s in sessions], pool.map(lambda s: sample_once(service, s), sessions),
                               strict=True))
        report.append({
            "host": name, "product": info.engine, "engine": info.engine_version, "cpus": info.cpus,
            "memory_gb": round(info.memory_gb, 1), "active": sum(1 for s in sessions if s.active),
            "limit": info.session_limit or ctx.settings.session_limit, "load": info.capacity,
            "sizes": "options" if info.options is not None else "capacity",  # a platform's menu, or the machine
            "sessions": [{"id": s.id, "name": s.name, **(samples[s.id].as_dict() if samples.get(s.id) else {})}
                         for s in sessions],
        })
    if args.output != "table":
        emit(report, args.output)
        return 0
    for host in report:
        size = (f"sessions of up to {host['cpus']} cores and {host['memory_gb']:g} GB" if host["sizes"] == "options"
                else f"{host['cpus']} CPUs, {host['memory_gb']} GB")
        print(f"{host['host']}: {host['product']} {host['engine']}, {size}, "
              f"{host['active']}/{host['limit']} active sessions" + (f"; {host['load']}" if host["load"] else ""))
        rows = [[s["id"], s["name"], f"{s.get('cpu_percent', 0):.1f}%",
                 f"{s.get('memory_mb', 0):.0f} MB" + (f" / {s['limit_mb']:.0f} MB" if s.get("limit_mb") else ""),
                 str(s.get("pids", "?"))] for s in host["sessions"]]
        if rows:
            table(rows, ["SESSION ID", "NAME", "CPU", "MEMORY", "PIDS"])
    return 0


def cmd_hosts(ctx: Context, args: argparse.Namespace) -> int:
    from ..core.hosts import list_contexts
    from ..core.settings import HostConfig
    from .platform import forget_removed, wants_platform

    if wants_platform(args):  # CANFAR Science Platform hosts: cli/platform.py
        from .platform import cmd_platform_hosts

        return cmd_platform_hosts(ctx, args)
    settings = ctx.settings
    if args.action == "ls":
        rows = []
        for cfg in settings.hosts:
            status = ctx.service.host_status(cfg.name)
            rows.append([cfg.name + (" *" if cfg.name == settings.default_host else ""), cfg.url or "(local)",
                         f"ok, {status.rtt_ms:.0f} ms" if status.ok else f"unreachable: {status.error}",
                         ctx.service.storage_description(cfg.name)])
        table(rows, ["HOST", "URL", "STATUS", "STORAGE"])
        return 0
    hosts = list(settings.hosts)
    if args.action == "add":
        if not args.name or not args.url:
            raise ValidationError("hosts add needs NAME and URL", "e.g. hosts add big ssh://me@workstation")
        if not args.url.startswith(("ssh://", "tcp://", "unix://")):
            raise ValidationError(f"{args.url!r} is not a Docker host URL", "use ssh://user@host[:port] or tcp://host:2376 "
                                  "(or add --canfar for a CANFAR Science Platform address)")
        if args.url.startswith("tcp://") and not args.tls_ca:
            raise ValidationError("tcp:// hosts need TLS", "give --tls-ca (and --tls-cert/--tls-key); verification is always on")
        try:
            new = HostConfig(name=args.name, url=args.url, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                             tls_key=args.tls_key, arc_path=args.arc_path, ssh_tunnel=args.ssh_tunnel)
        except ValueError as exc:
            raise ValidationError(f"Invalid host {args.name!r}", str(exc)) from None
        hosts = [h for h in hosts if h.name != new.name] + [new]
    elif args.action == "remove":
        if args.name == "local" or not any(h.name == args.name for h in hosts):
            raise ValidationError(f"Cannot remove host {args.name!r}", "name a configured remote host")
        if args.name == settings.default_host:
            raise ValidationError(f"Host {args.name!r} is the default host",
                                  "make another one the default first: canfar-desktop config set default_host local")
        hosts = [h for h in hosts if h.name != args.name]
        forget_removed(ctx, settings.host(args.name), hosts)
    elif args.action == "import-contexts":
        known = {h.name for h in hosts}
        hosts += [h for h in list_contexts() if h.name not in known and h.name != "default"]
    settings.hosts = hosts
    save_settings(ctx.paths, settings)
    print("hosts: " + ", ".join(h.name for h in hosts))
    return 0
