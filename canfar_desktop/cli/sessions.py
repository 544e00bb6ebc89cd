"""The verbs about existing sessions: ps, info, open, logs, events, renew, delete."""

from __future__ import annotations

import argparse
import sys
import threading

from ..core.formats import human_duration
from ..core.lifecycle import LISTED_BY_DEFAULT, State, parse_state
from ..core.notify import expiry_warnings
from ..core.platform_hosts import is_platform
from ..core.record import replace
from .context import Context, age, delete_confirmed, has_display, now, session_json, sessions
from .output import emit, table


def cmd_ps(ctx: Context, args: argparse.Namespace) -> int:
    at = now()
    wanted = parse_state(args.status) if args.status else None
    found = sessions(ctx, args.host)
    shown = [
        s for s in found
        if (args.all or wanted or s.state in LISTED_BY_DEFAULT)
        and (wanted is None or s.state == wanted)
        and (args.kind is None or s.kind == args.kind)
    ]
    if args.quiet:
        for s in shown:
            print(s.id)
        return 0
    if args.output != "table":
        emit([session_json(s, at) for s in shown], args.output)
        return 0
    multi = len(ctx.settings.hosts) > 1
    rows = []
    for s in shown:
        left = s.time_left(at)
        status = s.state.value + (f" ({s.reason})" if s.reason else "")
        expires = human_duration(left) if left and left > 0 else "-"
        row = [s.id, s.name, s.kind, status, s.image, age(s.created, at), expires]
        if multi:
            row.insert(1, s.host)
        rows.append(row)
    header = ["SESSION ID", "NAME", "KIND", "STATUS", "IMAGE", "CREATED", "EXPIRES IN"]
    if multi:
        header.insert(1, "HOST")
    if rows:
        table(rows, header)
    else:
        print("No sessions." + ("" if args.all else " (use -a to include ended ones)")
              + " Launch one with: canfar-desktop create notebook")
    for warning in expiry_warnings(shown, at, ctx.settings.warn_before_minutes):
        print(f"warning: {warning.message}", file=sys.stderr)
    if any(is_platform(cfg) for cfg in ctx.settings.hosts):
        from .platform import credential_warnings  # a platform login that expires soon

        for text in credential_warnings(ctx, args.host):
            print(f"warning: {text}", file=sys.stderr)
    return 0


def cmd_info(ctx: Context, args: argparse.Namespace) -> int:
    at = now()
    out = []
    for ref in args.ids:
        s = ctx.service.get(ref, args.host)
        s = replace(s, oom_kills=ctx.service.oom_kills(s))
        url = None
        if s.state in (State.RUNNING, State.SUSPENDED):
            url = ctx.service.open_url(s)
            if not args.show_secret:
                url = ctx.service.redact(url, s)
        out.append(session_json(s, at, url))
    if args.output != "table":
        emit(out, args.output)
        return 0
    for item in out:
        for key, value in item.items():
            print(f"{key:>12}: {value}")
        print()
    return 0


def cmd_open(ctx: Context, args: argparse.Namespace) -> int:
    from ..core.hosts import is_remote
    from ..core.instance import send_to_running_app
    from ..core.platform_hosts import is_platform

    forwarded = []
    for ref in args.ids:
        s = ctx.service.get(ref, args.host)
        if not args.print and send_to_running_app(ctx.paths, {"open": s.id, "host": s.host}):
            print(f"Opened {s.id} in the running CANFAR Desktop app")
            continue
        url = ctx.service.open_url(s)
        if is_remote(ctx.service.host_config(s.host)) and not is_platform(ctx.service.host_config(s.host)):
            forwarded.append(s.id)  # a platform's sessions open at its own address: nothing to keep open
        if args.print:
            print(url, flush=True)
            continue
        ctx.service.mark_opened(s)
        import webbrowser  # only here: it loads subprocess and shutil

        if not has_display() or not webbrowser.open(url):
            print(url, flush=True)
        else:
            print(f"Opened {s.id} in your browser", flush=True)
    if forwarded:
        # The local port of a remote session lives as long as this process: keep it until Ctrl+C.
        print(f"Forwarding {', '.join(forwarded)} from this computer; press Ctrl+C to stop.", file=sys.stderr, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            ctx.service.close()
    return 0


def cmd_logs(ctx: Context, args: argparse.Namespace) -> int:
    for ref in args.ids:
        s = ctx.service.get(ref, args.host)
        if len(args.ids) > 1:
            print(f"==> {s.id} ({s.name}) <==")
        if not args.follow:
            for line in ctx.service.tail_logs(s, args.tail):
                print(line)
            continue
        for line in ctx.service.follow_logs(s, args.tail):
            print(line, flush=True)
    return 0


def cmd_events(ctx: Context, args: argparse.Namespace) -> int:
    for ref in args.ids:
        s = ctx.service.get(ref, args.host)
        print(f"==> {s.id} ({s.name}) <==")
        for event in ctx.service.events_of(s):
            print(f"{event.when.astimezone().strftime('%Y-%m-%d %H:%M:%S')}  {event.action:<10} {event.detail}")
    return 0


def cmd_renew(ctx: Context, args: argparse.Namespace) -> int:
    at = now()
    for ref in args.ids:
        s = ctx.service.renew(ref, args.host)
        left = s.time_left(at)
        print(f"{s.id} renewed: expires {s.expiry.astimezone():%Y-%m-%d %H:%M} (in {human_duration(left or 0)})"
              if s.expiry else f"{s.id} renewed")
    return 0


def cmd_delete(ctx: Context, args: argparse.Namespace) -> int:
    chosen = [ctx.service.get(ref, args.host, details=False) for ref in args.ids]
    names = ", ".join(f"{s.id} ({s.name})" for s in chosen)
    return delete_confirmed(ctx, chosen, f"Delete {names}? Files in /arc stay; /scratch is wiped.", args.force)
