"""`create KIND [IMAGE] [-- CMD ARGS]`: validate everything first, launch, optionally wait.

With `--replicas N` (as the canfar client's `-r`), N sessions named NAME-1…NAME-N are launched,
each with REPLICA_ID (1…N) and REPLICA_COUNT (N) in its environment. Every request is validated
before the first is launched, so a bad name or resource never leaves half a set behind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from ..core.beside import Beside
from ..core.errors import CanfarError, ValidationError
from ..core.kinds import ALL_KINDS, KINDS, is_batch
from ..core.lifecycle import State
from .context import Context, now, session_json
from .output import emit

if TYPE_CHECKING:
    from ..core.plan import LaunchRequest
    from ..core.session import Session
    from ..core.settings import Resources

MAX_REPLICAS = 512  # the platform's own ceiling for one request
REPLICA_KEYS = ("REPLICA_ID", "REPLICA_COUNT")


def resources_of(ctx: Context, args: argparse.Namespace) -> Resources:
    from ..core.validation import make_resources, parse_size_gb

    base = ctx.settings.default_resources
    if args.cpu is None and args.memory is None:
        return make_resources(mode="flexible", cores=base.cores, ram_gb=base.ram_gb, gpus=args.gpu)
    return make_resources(
        mode="fixed",
        cores=args.cpu if args.cpu is not None else base.cores,
        ram_gb=parse_size_gb(args.memory) if args.memory is not None else base.ram_gb,
        gpus=args.gpu,
    )


def replica_names(name: str, count: int) -> list[str]:
    return [name] if count == 1 else [f"{name}-{i}" for i in range(1, count + 1)]


def check_replicas(ctx: Context, kind: str, count: int, env: list[str]) -> None:
    if not 1 <= count <= MAX_REPLICAS:
        raise ValidationError(f"--replicas {count} is out of range", f"choose between 1 and {MAX_REPLICAS}")
    if count > 1 and any(e.partition("=")[0] in REPLICA_KEYS for e in env):
        raise ValidationError("REPLICA_ID and REPLICA_COUNT are set by --replicas", "leave them out of -e")
    limit = ctx.settings.session_limit
    if count > limit and not is_batch(kind):
        raise ValidationError(f"{count} {kind} sessions are more than the limit of {limit} active sessions",
                              "use at most that many replicas, raise session_limit, or run headless jobs")


def prepare(ctx: Context, args: argparse.Namespace, kind: str) -> list[LaunchRequest]:
    from ..core.plan import new_session_id

    check_replicas(ctx, kind, args.replicas, args.env)
    base = args.name or f"{kind}-{new_session_id()[:4]}"
    resources = resources_of(ctx, args)
    requests = []
    for i, name in enumerate(replica_names(base, args.replicas), start=1):
        env = list(args.env)
        if args.replicas > 1:
            env += [f"REPLICA_ID={i}", f"REPLICA_COUNT={args.replicas}"]
        requests.append(ctx.service.prepare_launch(kind, args.image, name, resources, args.host, args.port,
                                                   args.cmd or (), env))
    return requests


def cmd_create(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.service
    kind = args.kind.lower()
    if kind not in ALL_KINDS:
        raise ValidationError(f"Unknown session kind {args.kind!r}", f"choose one of: {', '.join(ALL_KINDS)}")
    if args.port is not None and args.replicas > 1:
        raise ValidationError("--port cannot be given with --replicas", "each replica gets a free port of its own")
    # The engine describes itself (its cores and memory, to check the resources against) while the launch
    # code loads; a failure here is met again, in its place among the checks, by prepare_launch.
    engine = Beside(service.host_info, args.host, name="engine-info")
    from ..core.recent import record  # the launch code, with the recent launches

    try:
        engine.join()
    except CanfarError:
        pass
    requests = prepare(ctx, args, kind)
    if args.dry_run:
        plans = [service.dry_run(req) for req in requests]
        print(json.dumps(plans[0] if len(plans) == 1 else plans, indent=2))
        return 0
    progress = Progress(enabled=args.wait or sys.stderr.isatty())
    launched: list[Session] = []
    for req in requests:
        try:
            launched.append(service.launch(req, progress))
        except CanfarError as exc:
            if launched:  # say what exists before the failure, so nothing is left unknown
                progress.done()
                print(f"error: replica {req.name} was not launched; launched before it: "
                      + ", ".join(s.id for s in launched), file=sys.stderr)
            raise exc
    # a set-up to launch again from the app's recent launches (jobs carry a command), saved while the
    # sessions come up rather than before waiting for them
    saving = Beside(record, ctx.paths, ctx.settings, requests[0], name="save-recent") if kind in KINDS else None
    try:
        finished = [_wait(ctx, s, kind, args, progress) for s in launched]
    finally:
        if saving is not None:
            saving.join()
        service.launcher.settle()  # the next launch's namespace, made while these came up
    progress.done()
    at = now()
    out = []
    for session in finished:
        url = None
        if session.state in (State.RUNNING, State.SUSPENDED) and not is_batch(kind):
            url = service.open_url(session)
            if not args.show_secret:
                url = service.redact(url, session)
        out.append((session, url))
    if args.output != "table":
        docs = [session_json(s, at, url) for s, url in out]
        emit(docs[0] if len(docs) == 1 else docs, args.output)
    else:
        for session, url in out:
            print(session.id)
            if url:
                print(f"{session.state.value}: {url}", file=sys.stderr)
            elif is_batch(kind):
                print(f"{session.state.value}" + (f" ({session.reason})" if session.reason else "")
                      + f"; its output: canfar-desktop logs {session.id}", file=sys.stderr)
    return 1 if any(s.state == State.FAILED for s, _ in out) else 0


def _wait(ctx: Context, session: Session, kind: str, args: argparse.Namespace, progress: Progress) -> Session:
    if args.wait and is_batch(kind):
        return ctx.service.wait_finished(session, args.timeout, progress)
    if args.wait:
        return ctx.service.wait_ready(session, args.timeout, progress)
    return session


class Progress:
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
            self.shown = False
