"""`image ls|pull|update|rm`: the image catalogue on a host (core/catalogue.py).

`ls` shows CANFAR's image for every kind (pulled or not) beside this project's and the host's other
images that serve a kind; `pull` fetches one with a progress line, `update` pulls again and says
whether it changed, `rm` removes one (refused while a session uses it).
"""

from __future__ import annotations

import argparse
import sys

from ..core import catalogue
from ..core.errors import ValidationError
from ..core.formats import human_duration
from .context import Context
from .output import emit, table

USAGE = "use: canfar-desktop image ls [-k KIND] | pull IMAGE | update IMAGE | rm IMAGE"


def cmd_image(ctx: Context, args: argparse.Namespace) -> int:
    verb = getattr(args, "image_verb", None)
    if verb == "ls":
        return _ls(ctx, args)
    if verb in ("pull", "update"):
        return _pull(ctx, args)
    if verb == "rm":
        removed = catalogue.remove(ctx.service, args.ref, args.host)
        print(f"{removed} removed")
        return 0
    raise ValidationError("Missing image command", USAGE)


def _ls(ctx: Context, args: argparse.Namespace) -> int:
    entries = catalogue.listing(ctx.service, args.host)
    if args.kind:
        entries = catalogue.for_kind(entries, args.kind)
    if args.output != "table":
        emit([{"image": e.ref, "kinds": list(e.kinds), "from": e.origin, "title": e.title,
               "description": e.description, "pulled": e.pulled, "size": e.size,
               "created": e.created.isoformat(timespec="seconds") if e.created else None} for e in entries],
             args.output)
        return 0
    rows = []
    for e in entries:
        age = e.age()
        rows.append([e.ref, ",".join(e.kinds), e.origin, f"{e.size / 1e6:.0f} MB" if e.size is not None else "-",
                     human_duration(age) if age is not None else "-", "pulled" if e.pulled else "not pulled",
                     e.title])
    table(rows, ["IMAGE", "KINDS", "FROM", "SIZE", "AGE", "STATUS", "TITLE"])
    return 0


def _pull(ctx: Context, args: argparse.Namespace) -> int:
    shown = {"line": False}

    def progress(stage: str, fraction: float | None) -> None:
        if not sys.stderr.isatty():
            return
        pct = f" {fraction * 100:3.0f}%" if fraction is not None else ""
        sys.stderr.write(f"\r{stage}{pct}".ljust(70))
        sys.stderr.flush()
        shown["line"] = True

    try:
        result = catalogue.pull(ctx.service, args.ref, args.host, progress)
    finally:
        if shown["line"]:
            sys.stderr.write("\n")
    print(result.describe())
    return 0
