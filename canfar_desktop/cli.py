"""The `canfar-desktop` command line: the canfar client's verbs over the same core as the app.

It never imports Qt. Every failure prints one line that says what to do and exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError as PydanticError

from . import __version__
from .core.errors import CanfarError, ValidationError
from .core.formats import human_duration
from .core.kinds import ALL_KINDS, KINDS, is_batch
from .core.lifecycle import LISTED_BY_DEFAULT, State, parse_state
from .core.notify import expiry_warnings
from .core.plan import new_session_id
from .core.service import SessionService
from .core.session import Session
from .core.settings import AppPaths, Resources, Settings, load_settings, save_settings, validation_message
from .core.validation import make_resources, parse_size_gb

VERBS = ("ps", "list", "create", "info", "open", "logs", "events", "renew", "delete", "prune", "stats",
         "image", "doctor", "config", "hosts", "api")


def is_cli_invocation(args: Sequence[str]) -> bool:
    return bool(args) and (args[0] in VERBS or args[0] in ("-h", "--help", "--version", "-V"))


# --- parsing -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="canfar-desktop",
        description="Interactive CANFAR sessions as containers on your Docker host. "
                    "Without a command, the desktop app opens.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"canfar-desktop {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")

    def add(name: str, help_: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, aliases=list(aliases))
        p.add_argument("--host", help="the Docker host to use (a name from settings; default: all or the default)")
        return p

    p = add("ps", "list sessions (Launching, Running and Suspended unless -a)", aliases=["list"])
    p.add_argument("-a", "--all", action="store_true", help="include ended sessions")
    p.add_argument("-q", "--quiet", action="store_true", help="print session ids only")
    p.add_argument("-k", "--kind", choices=sorted(ALL_KINDS), help="only this kind")
    p.add_argument("-s", "--status", help="only this state (Running, Failed, …)")
    p.add_argument("-o", "--output", choices=["table", "json"], default="table")

    p = add("create", "launch a session: create KIND [IMAGE] [-- CMD ARGS]")
    p.add_argument("kind", help=f"one of: {', '.join(ALL_KINDS)}")
    p.add_argument("image", nargs="?", help="image reference (default: the newest image on the host for KIND)")
    p.add_argument("-n", "--name", help="session name ([A-Za-z0-9-]+; default: generated)")
    p.add_argument("-c", "--cpu", type=float, help="fixed cores (makes a fixed session)")
    p.add_argument("-m", "--memory", help="fixed RAM in GB (makes a fixed session; 512M also works)")
    p.add_argument("-g", "--gpu", type=int, default=0, help="GPUs")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="environment variable")
    p.add_argument("-p", "--port", type=int, help="publish on this port of 127.0.0.1 (default: a free one)")
    p.add_argument("--dry-run", action="store_true", help="print the container configuration and create nothing")
    p.add_argument("--wait", action="store_true", help="wait until the session is Running, showing progress")
    p.add_argument("--timeout", type=float, default=300, help="seconds --wait waits (default 300)")
    p.add_argument("-o", "--output", choices=["table", "json"], default="table")
    p.add_argument("--show-secret", action="store_true", help="print the URL with its secret")

    for verb, text in (("info", "show everything about sessions"), ("renew", "push expiry to now + lifetime"),
                       ("events", "show the engine's events for sessions")):
        p = add(verb, text)
        p.add_argument("ids", nargs="+", metavar="ID")
        if verb == "info":
            p.add_argument("-o", "--output", choices=["table", "json"], default="table")
            p.add_argument("--show-secret", action="store_true", help="print the URL with its secret")

    p = add("open", "open Running sessions in the app or the system browser")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--print", action="store_true",
                   help="only print the URL (for a remote host it works while this command runs, until Ctrl+C)")

    p = add("logs", "show a session's output (secrets redacted)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")
    p.add_argument("-n", "--tail", type=int, default=200, help="lines to show (default 200)")

    p = add("delete", "delete sessions (their /scratch goes, /arc stays)")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("-f", "--force", action="store_true", help="do not ask to confirm")

    p = add("prune", "delete sessions by name prefix, kind and state: prune PREFIX [KIND] [STATE]")
    p.add_argument("prefix")
    p.add_argument("kind", nargs="?")
    p.add_argument("state", nargs="?")
    p.add_argument("-f", "--force", action="store_true", help="do not ask to confirm")

    p = add("stats", "host capacity and each running session's CPU and memory")
    p.add_argument("-o", "--output", choices=["table", "json"], default="table")

    p = add("image", "images on the host usable for each kind")
    isub = p.add_subparsers(dest="image_verb", metavar="ls")
    ls = isub.add_parser("ls", help="list images")
    ls.add_argument("-k", "--kind", choices=sorted(KINDS))
    ls.add_argument("-o", "--output", choices=["table", "json"], default="table")
    ls.add_argument("--host")

    p = add("doctor", "check the engine, images, storage and a session; say what to fix")
    p.add_argument("id", nargs="?", metavar="ID")
    p.add_argument("-o", "--output", choices=["table", "json"], default="table")
    p.add_argument("--report", action="store_true",
                   help="print a support report of session ID (secrets redacted) to send when asking for help")

    p = sub.add_parser("config", help="show or change settings: config show|get|set|path")
    p.add_argument("action", choices=["show", "get", "set", "path"])
    p.add_argument("key", nargs="?")
    p.add_argument("value", nargs="?")

    p = sub.add_parser("api", help="serve the CANFAR session API for the canfar client (foreground, Ctrl+C stops)")
    p.add_argument("--port", type=int, help="port on 127.0.0.1 (default: the api_port setting; 0: any free port)")
    p.add_argument("--show-token", action="store_true", help="print the two export lines and exit")
    p.add_argument("--rotate-token", action="store_true", help="make a new token (the old one stops working) and exit")

    p = sub.add_parser("hosts", help="list configured Docker hosts and whether they answer")
    p.add_argument("action", nargs="?", choices=["ls", "add", "remove", "import-contexts"], default="ls")
    p.add_argument("name", nargs="?")
    p.add_argument("url", nargs="?")
    p.add_argument("--tls-ca", default="")
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    p.add_argument("--arc-path", default="")
    p.add_argument("--ssh-tunnel", default="", help="for tcp:// hosts: ssh://user@host to forward session ports")
    return parser


# --- running -------------------------------------------------------------------------------------

class Context:
    """The CLI's composition root: settings, paths and the service, made once per invocation."""

    def __init__(self) -> None:
        self.paths = AppPaths.default()
        self.settings, warning = load_settings(self.paths)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        self._service: SessionService | None = None

    @property
    def service(self) -> SessionService:
        if self._service is None:
            self._service = SessionService(self.settings, self.paths)
        return self._service


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    argv = list(argv)
    cmd: list[str] = []
    if argv and argv[0] == "create" and "--" in argv:  # create KIND IMAGE -- CMD ARGS
        cut = argv.index("--")
        argv, cmd = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    args.cmd = cmd
    if args.verb is None:
        parser.print_help()
        return 0
    try:
        ctx = Context()
        handler = HANDLERS[args.verb]
        return handler(ctx, args) or 0
    except CanfarError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("CANFAR_DESKTOP_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} "
              "(set CANFAR_DESKTOP_DEBUG=1 for details and report it)", file=sys.stderr)
        return 70


def _now() -> datetime:
    return datetime.now(UTC)


def _age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "?"
    return human_duration((now - when).total_seconds()) + " ago"


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def session_json(s: Session, now: datetime, url: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": s.id, "name": s.name, "kind": s.kind, "status": s.state.value, "reason": s.reason,
        "image": s.image, "host": s.host, "container": s.container_name,
        "created": s.created.isoformat() if s.created else None,
        "expiry": s.expiry.isoformat() if s.expiry else None,
        "time_left_s": int(s.time_left(now) or 0) if s.expiry else None,
        "resources": s.resources.model_dump(), "port": s.host_port,
        "exit_code": s.exit_code, "oom_killed": s.oom_killed,
        "oom_kills": [k.isoformat() for k in s.oom_kills],
    }
    if url is not None:
        data["url"] = url
    return data


def _sessions(ctx: Context, host: str | None) -> list[Session]:
    from .core.watch import reconcile

    snap = reconcile(ctx.service, host)
    if ctx.service.ledger.warning:
        print(f"warning: {ctx.service.ledger.warning}; expired sessions are not stopped until it is resolved",
              file=sys.stderr)
    if snap.errors and len(snap.errors) == len(ctx.service.host_names()):
        raise next(iter(snap.errors.values()))
    for name, err in snap.errors.items():
        print(f"warning: host {name} is unreachable: {err}", file=sys.stderr)
    return snap.sessions


def cmd_ps(ctx: Context, args: argparse.Namespace) -> int:
    now = _now()
    wanted = parse_state(args.status) if args.status else None
    sessions = _sessions(ctx, args.host)
    shown = [
        s for s in sessions
        if (args.all or wanted or s.state in LISTED_BY_DEFAULT)
        and (wanted is None or s.state == wanted)
        and (args.kind is None or s.kind == args.kind)
    ]
    if args.quiet:
        for s in shown:
            print(s.id)
        return 0
    if args.output == "json":
        print(json.dumps([session_json(s, now) for s in shown], indent=2))
        return 0
    multi = len(ctx.settings.hosts) > 1
    rows = []
    for s in shown:
        left = s.time_left(now)
        status = s.state.value + (f" ({s.reason})" if s.reason else "")
        expires = human_duration(left) if left and left > 0 else "-"
        row = [s.id, s.name, s.kind, status, s.image, _age(s.created, now), expires]
        if multi:
            row.insert(1, s.host)
        rows.append(row)
    header = ["SESSION ID", "NAME", "KIND", "STATUS", "IMAGE", "CREATED", "EXPIRES IN"]
    if multi:
        header.insert(1, "HOST")
    if rows:
        _table(rows, header)
    else:
        print("No sessions." + ("" if args.all else " (use -a to include ended ones)")
              + " Launch one with: canfar-desktop create notebook")
    for warning in expiry_warnings(shown, now, ctx.settings.warn_before_minutes):
        print(f"warning: {warning.message}", file=sys.stderr)
    return 0


def _resources(ctx: Context, args: argparse.Namespace) -> Resources:
    base = ctx.settings.default_resources
    if args.cpu is None and args.memory is None:
        return make_resources(mode="flexible", cores=base.cores, ram_gb=base.ram_gb, gpus=args.gpu)
    return make_resources(
        mode="fixed",
        cores=args.cpu if args.cpu is not None else base.cores,
        ram_gb=parse_size_gb(args.memory) if args.memory is not None else base.ram_gb,
        gpus=args.gpu,
    )


def cmd_create(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service
    kind = args.kind.lower()
    if kind not in ALL_KINDS:
        raise ValidationError(f"Unknown session kind {args.kind!r}", f"choose one of: {', '.join(ALL_KINDS)}")
    cmd = args.cmd
    name = args.name or f"{kind}-{new_session_id()[:4]}"
    req = service.prepare_launch(kind, args.image, name, _resources(ctx, args), args.host, args.port,
                                 cmd or (), args.env)
    if args.dry_run:
        print(json.dumps(service.dry_run(req), indent=2))
        return 0
    progress = _Progress(enabled=args.wait or sys.stderr.isatty())
    session = service.launch(req, progress)
    if args.wait and is_batch(kind):
        session = service.wait_finished(session, args.timeout, progress)
    elif args.wait:
        session = service.wait_ready(session, args.timeout, progress)
    progress.done()
    now = _now()
    url = None
    if session.state in (State.RUNNING, State.SUSPENDED) and not is_batch(kind):
        url = service.open_url(session)
    if url and not args.show_secret:
        url = service.redact(url, session)
    if args.output == "json":
        print(json.dumps(session_json(session, now, url), indent=2))
    else:
        print(session.id)
        if url:
            print(f"{session.state.value}: {url}", file=sys.stderr)
        elif is_batch(kind):
            print(f"{session.state.value}" + (f" ({session.reason})" if session.reason else "")
                  + f"; its output: canfar-desktop logs {session.id}", file=sys.stderr)
    return 1 if session.state == State.FAILED else 0


class _Progress:
    """One self-rewriting progress line on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, stage: str, fraction: float | None) -> None:
        if not self.enabled:
            return
        pct = f" {fraction * 100:3.0f}%" if fraction is not None else ""
        line = f"\r[{time.monotonic() - self.started:5.1f}s] {stage}{pct}"
        sys.stderr.write(line.ljust(70))
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write(f"\r[{time.monotonic() - self.started:5.1f}s] ready".ljust(70) + "\n")
            sys.stderr.flush()


def cmd_info(ctx: Context, args: argparse.Namespace) -> int:
    now = _now()
    out = []
    for ref in args.ids:
        s = ctx.service.get(ref, args.host)
        s = replace(s, oom_kills=ctx.service.oom_kills(s))
        url = None
        if s.state in (State.RUNNING, State.SUSPENDED):
            url = ctx.service.open_url(s)
            if not args.show_secret:
                url = ctx.service.redact(url, s)
        out.append(session_json(s, now, url))
    if args.output == "json":
        print(json.dumps(out, indent=2))
        return 0
    for item in out:
        for key, value in item.items():
            print(f"{key:>12}: {value}")
        print()
    return 0


def cmd_open(ctx: Context, args: argparse.Namespace) -> int:
    from .core.hosts import is_remote
    from .core.instance import send_to_running_app

    forwarded = []
    for ref in args.ids:
        s = ctx.service.get(ref, args.host)
        if not args.print and send_to_running_app(ctx.paths, {"open": s.id, "host": s.host}):
            print(f"Opened {s.id} in the running CANFAR Desktop app")
            continue
        url = ctx.service.open_url(s)
        if is_remote(ctx.service.host_config(s.host)):
            forwarded.append(s.id)
        if args.print:
            print(url, flush=True)
            continue
        ctx.service.mark_opened(s)
        if not _has_display() or not webbrowser.open(url):
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


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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
    now = _now()
    for ref in args.ids:
        s = ctx.service.renew(ref, args.host)
        left = s.time_left(now)
        print(f"{s.id} renewed: expires {s.expiry.astimezone():%Y-%m-%d %H:%M} (in {human_duration(left or 0)})"
              if s.expiry else f"{s.id} renewed")
    return 0


def _confirm(question: str, force: bool) -> bool:
    if force:
        return True
    if not sys.stdin.isatty():
        raise ValidationError("Cannot ask for confirmation without a terminal", "add -f to confirm")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def cmd_delete(ctx: Context, args: argparse.Namespace) -> int:
    sessions = [ctx.service.get(ref, args.host, details=False) for ref in args.ids]
    names = ", ".join(f"{s.id} ({s.name})" for s in sessions)
    return _delete_confirmed(ctx, sessions, f"Delete {names}? Files in /arc stay; /scratch is wiped.", args.force)


def _delete_confirmed(ctx: Context, sessions: list[Session], question: str, force: bool) -> int:
    if not _confirm(question, force):
        print("Nothing deleted.")
        return 1
    for s in sessions:
        ctx.service.delete(s)
        print(f"{s.id} deleted")
    return 0


def cmd_prune(ctx: Context, args: argparse.Namespace) -> int:
    state = parse_state(args.state) if args.state else None
    kind = args.kind.lower() if args.kind else None
    if kind and kind not in KINDS:
        try:  # `prune PREFIX STATE` is accepted too
            state = parse_state(kind)
            kind = None
        except ValidationError:
            raise ValidationError(f"Unknown session kind {args.kind!r}", f"choose one of: {', '.join(KINDS)}") from None
    from .core.housekeeping import matching

    chosen = matching(_sessions(ctx, args.host), args.prefix, kind, state)
    if not chosen:
        print("No sessions match.")
        return 0
    return _delete_confirmed(ctx, chosen, f"Delete {len(chosen)} session(s): {', '.join(s.id for s in chosen)}?",
                             args.force)


def cmd_stats(ctx: Context, args: argparse.Namespace) -> int:
    from .core.monitor import sample_once

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
            "host": name, "engine": info.engine_version, "cpus": info.cpus,
            "memory_gb": round(info.memory_gb, 1), "active": sum(1 for s in sessions if s.active),
            "limit": ctx.settings.session_limit,
            "sessions": [{"id": s.id, "name": s.name, **(samples[s.id].as_dict() if samples.get(s.id) else {})}
                         for s in sessions],
        })
    if args.output == "json":
        print(json.dumps(report, indent=2))
        return 0
    for host in report:
        print(f"{host['host']}: Docker {host['engine']}, {host['cpus']} CPUs, {host['memory_gb']} GB, "
              f"{host['active']}/{host['limit']} active sessions")
        rows = [[s["id"], s["name"], f"{s.get('cpu_percent', 0):.1f}%",
                 f"{s.get('memory_mb', 0):.0f} MB" + (f" / {s['limit_mb']:.0f} MB" if s.get("limit_mb") else ""),
                 str(s.get("pids", "?"))] for s in host["sessions"]]
        if rows:
            _table(rows, ["SESSION ID", "NAME", "CPU", "MEMORY", "PIDS"])
    return 0


def cmd_image(ctx: Context, args: argparse.Namespace) -> int:
    if getattr(args, "image_verb", None) != "ls":
        raise ValidationError("Missing image command", "use: canfar-desktop image ls [-k KIND]")
    images = ctx.service.images(args.host)
    rows = []
    out = []
    for image in sorted(images, key=lambda i: i.ref):
        if args.kind and args.kind not in image.kinds:
            continue
        if not image.kinds and not args.kind:
            continue
        out.append({"image": image.ref, "kinds": sorted(image.kinds), "size": image.size, "title": image.title})
        rows.append([image.ref, ",".join(sorted(image.kinds)), f"{image.size / 1e6:.0f} MB", image.title])
    if args.output == "json":
        print(json.dumps(out, indent=2))
    elif rows:
        _table(rows, ["IMAGE", "KINDS", "SIZE", "TITLE"])
    else:
        print("No images labelled for a session kind on this host"
              + (f" for {args.kind}" if args.kind else "") + "; build them with `make images`.")
    return 0


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    if args.report:
        if not args.id:
            raise ValidationError("--report needs a session ID", "e.g. canfar-desktop doctor abc123 --report")
        from .core.report import support_report

        print(support_report(ctx.service, ctx.service.get(args.id, args.host)), end="")
        return 0
    from .core import diagnostics

    checks = diagnostics.run_checks(ctx.service, args.id, args.host)
    if args.output == "json":
        print(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        for c in checks:
            print(f"{c.symbol} {c.title}: {c.verdict}" + (f" [{c.figure}]" if c.figure else ""))
            if c.hint and c.level != "ok":
                print(f"    → {c.hint}")
    return 1 if any(c.level == "fail" for c in checks) else 0


def cmd_config(ctx: Context, args: argparse.Namespace) -> int:
    data = ctx.settings.model_dump(mode="json")
    if args.action == "path":
        print(ctx.paths.settings_file)
    elif args.action == "show":
        print(json.dumps(data, indent=2))
    elif args.action == "get":
        if not args.key or args.key not in data:
            raise ValidationError(f"Unknown setting {args.key!r}", f"use one of: {', '.join(data)}")
        print(json.dumps(data[args.key]))
    else:
        if not args.key or args.value is None:
            raise ValidationError("config set needs a KEY and a VALUE", "e.g. canfar-desktop config set session_limit 4")
        fixed = ("schema_version", "hosts", "last_choices")
        if args.key not in data or args.key in fixed:
            settable = ", ".join(k for k in data if k not in fixed)
            raise ValidationError(f"{args.key!r} cannot be set here", f"settable: {settable}")
        try:
            value = json.loads(args.value)
        except ValueError:
            value = args.value
        try:
            updated = Settings.model_validate({**data, args.key: value})
        except PydanticError as exc:
            raise ValidationError(f"Invalid value for {args.key}: {args.value!r}", validation_message(exc)) from None
        save_settings(ctx.paths, updated, base=ctx.settings)
        print(f"{args.key} = {json.dumps(updated.model_dump(mode='json')[args.key])}")
    return 0


def cmd_hosts(ctx: Context, args: argparse.Namespace) -> int:
    from .core.hosts import list_contexts
    from .core.settings import HostConfig

    settings = ctx.settings
    if args.action == "ls":
        rows = []
        for cfg in settings.hosts:
            status = ctx.service.host_status(cfg.name)
            rows.append([cfg.name + (" *" if cfg.name == settings.default_host else ""), cfg.url or "(local)",
                         f"ok, {status.rtt_ms:.0f} ms" if status.ok else f"unreachable: {status.error}",
                         ctx.service.storage_description(cfg.name)])
        _table(rows, ["HOST", "URL", "STATUS", "STORAGE"])
        return 0
    hosts = list(settings.hosts)
    if args.action == "add":
        if not args.name or not args.url:
            raise ValidationError("hosts add needs NAME and URL", "e.g. hosts add big ssh://me@workstation")
        if not args.url.startswith(("ssh://", "tcp://", "unix://")):
            raise ValidationError(f"{args.url!r} is not a Docker host URL", "use ssh://user@host[:port] or tcp://host:2376")
        if args.url.startswith("tcp://") and not args.tls_ca:
            raise ValidationError("tcp:// hosts need TLS", "give --tls-ca (and --tls-cert/--tls-key); verification is always on")
        try:
            new = HostConfig(name=args.name, url=args.url, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                             tls_key=args.tls_key, arc_path=args.arc_path, ssh_tunnel=args.ssh_tunnel)
        except PydanticError as exc:
            raise ValidationError(f"Invalid host {args.name!r}", validation_message(exc)) from None
        hosts = [h for h in hosts if h.name != new.name] + [new]
    elif args.action == "remove":
        if args.name == "local" or not any(h.name == args.name for h in hosts):
            raise ValidationError(f"Cannot remove host {args.name!r}", "name a configured remote host")
        if args.name == settings.default_host:
            raise ValidationError(f"Host {args.name!r} is the default host",
                                  "make another one the default first: canfar-desktop config set default_host local")
        hosts = [h for h in hosts if h.name != args.name]
    elif args.action == "import-contexts":
        known = {h.name for h in hosts}
        hosts += [h for h in list_contexts() if h.name not in known and h.name != "default"]
    settings.hosts = hosts
    save_settings(ctx.paths, settings)
    print("hosts: " + ", ".join(h.name for h in hosts))
    return 0


def cmd_api(ctx: Context, args: argparse.Namespace) -> int:
    """Serve the Skaha v1 API over this computer's sessions; the HTTP stack is imported only here."""
    from .api.server import Address, export_lines, serve_foreground
    from .api.token import TokenStore

    tokens = TokenStore.for_paths(ctx.paths)
    port = ctx.settings.api_port if args.port is None else args.port
    if port != 0 and not 1024 <= port <= 65535:
        raise ValidationError(f"Port {port} is out of range", "choose a port between 1024 and 65535, or 0 for any free one")
    if args.rotate_token or args.show_token:
        token = tokens.rotate() if args.rotate_token else tokens.get()
        print(export_lines(Address(port), token), end="")
        if args.rotate_token:
            print("The previous token no longer works; export the new one where you use the canfar client.",
                  file=sys.stderr)
        return 0
    try:
        serve_foreground(ctx.service, tokens, port)
    finally:
        ctx.service.close()
    return 0


HANDLERS: dict[str, Callable[[Context, argparse.Namespace], int | None]] = {
    "ps": cmd_ps, "list": cmd_ps, "create": cmd_create, "info": cmd_info, "open": cmd_open, "logs": cmd_logs,
    "events": cmd_events, "renew": cmd_renew, "delete": cmd_delete, "prune": cmd_prune, "stats": cmd_stats,
    "image": cmd_image, "doctor": cmd_doctor, "config": cmd_config, "hosts": cmd_hosts, "api": cmd_api,
}
