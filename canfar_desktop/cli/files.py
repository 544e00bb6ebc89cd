"""`cp`: files and folders into a session's /arc or /scratch and back, streamed through the engine.

    canfar-desktop cp data.fits more/ ID:/arc/home/me/     (into a folder; several sources)
    canfar-desktop cp ID:/arc/home/me/result.fits .        (out; a folder comes out whole)

`ID:` alone is the session's /arc/home/<user>, and a relative path starts there. Remote hosts work
the same (through their engine; no new port). Ctrl+C leaves nothing under the final name.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from ..core.errors import ValidationError
from ..core.transfer import Progress, parse_spec
from .context import Context


class Meter:
    """A self-rewriting progress line on stderr (only on a terminal, at most five times a second)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.2 and p.done != p.total):
            return
        self.last = now
        rate = p.done / max(now - self.started, 1e-3) / 1e6
        pct = f" {p.fraction * 100:3.0f}%" if p.fraction is not None else ""
        sys.stderr.write(f"\r{p.name}: {p.done / 1e6:,.1f} MB{pct} ({rate:,.1f} MB/s)".ljust(70))
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\n")


def cmd_cp(ctx: Context, args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        raise ValidationError("cp needs a source and a destination", "e.g. canfar-desktop cp data.fits ID:")
    specs = [parse_spec(p) for p in args.paths]
    *sources, (dest_ref, dest_path) = specs
    meter = Meter(sys.stderr.isatty() and not args.quiet)
    cancel = threading.Event()
    try:
        if dest_ref is not None:
            if any(ref is not None for ref, _ in sources):
                raise ValidationError("Only one side of cp can be a session", "copy between sessions through this computer")
            s = ctx.service.get(dest_ref, args.host)
            for line in ctx.service.copy_in(s, [Path(p).expanduser() for _, p in sources], dest_path, meter, cancel):
                print(f"{s.id}:{line}")
            return 0
        if len(sources) != 1 or sources[0][0] is None:
            raise ValidationError("One side of cp must be a session's path, written ID:PATH",
                                  "e.g. canfar-desktop cp data.fits ID:/arc/home/USER/ or cp ID:result.fits .")
        ref, path = sources[0]
        assert ref is not None
        s = ctx.service.get(ref, args.host)
        print(ctx.service.copy_out(s, path, dest_path, meter, cancel))
        return 0
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        meter.done()
