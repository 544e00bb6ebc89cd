"""`share`: make one session reachable from other devices for a while, over TLS, behind a share secret.

A share lives as long as the process that serves it, so this verb stays in the foreground until the
time is up, the session ends, or Ctrl+C; the app's "Share…" does the same while the app runs.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta

from ..core.errors import NotFound, ValidationError
from .context import Context

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CHECK_S = 5.0  # how often the session is looked at: a share ends with it


def parse_duration(text: str) -> timedelta:
    """`90m`, `2h`, `1d` or a number of minutes."""
    found = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if not found:
        raise ValidationError(f"{text!r} is not a duration", "give minutes, or a number with s, m, h or d: 90m, 2h, 1d")
    return timedelta(seconds=int(found[1]) * UNITS[found[2] or "m"])


def cmd_share(ctx: Context, args: argparse.Namespace) -> int:
    from ..core.lifecycle import State
    from ..core.platform_hosts import is_platform
    from ..core.share import ShareManager, candidate_addresses, landing_of

    service = ctx.service
    s = service.get(args.id, args.host)
    if is_platform(service.host_config(s.host)):
        raise ValidationError(f"Session {s.id} runs on {s.host}, which has its own sharing",
                              "share it from the platform's own pages")
    addresses = candidate_addresses()
    address = args.address or (addresses[0] if addresses else "")
    shareable = (State.RUNNING, State.SUSPENDED)
    ended = threading.Event()
    stopped = threading.Event()  # Ctrl+C: set by the signal handler, so it never interrupts a call half-way
    _on_interrupt(lambda: (stopped.set(), ended.set()))
    manager = ShareManager(service.endpoint, lambda x: landing_of(service.open_url(x)),
                           changed=lambda share: None if share.active else ended.set())
    try:
        share = manager.start(s, parse_duration(args.duration), address, args.port)
        until = share.until.astimezone().strftime("%Y-%m-%d %H:%M")
        print(f"Session {s.id} is shared until {until} at https://{share.address}:{share.port}")
        print(f"Link (it carries the share secret; give it only to whom you share with):\n  {share.link}")
        print(f"Certificate fingerprint (SHA-256), to compare on the other device:\n  {share.fingerprint}")
        if args.qr:
            import segno

            segno.make(share.link, error="m").terminal(compact=True)
        print("Press Ctrl+C to stop sharing.", file=sys.stderr, flush=True)
        while not ended.wait(CHECK_S):
            try:
                gone = service.get(s.id, s.host).state not in shareable
            except NotFound:
                gone = True  # deleted meanwhile
            if gone:
                print(f"Session {s.id} ended; so did its share.", flush=True)
                break
        else:
            if stopped.is_set():
                print(f"\nStopped sharing {s.id}.", flush=True)
            else:
                print(f"The share of {s.id} ended at {until}.", flush=True)
    except KeyboardInterrupt:  # before the handler was in place
        print(f"\nStopped sharing {s.id}.", flush=True)
    finally:
        manager.stop_all()
        service.close()
    return 0


def _on_interrupt(stop: Callable[[], object]) -> None:
    """Ctrl+C (and a polite kill) end the share through `stop`, in the main loop, not as an exception
    raised inside whatever call the process was making."""
    def handler(signum: int, frame: object) -> None:
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
