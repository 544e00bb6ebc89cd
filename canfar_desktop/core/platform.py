"""What differs between operating systems, in one place, each with a portable fallback.

File locks (flock on POSIX, msvcrt on Windows), the effective uid, local sockets, and the table of
established TCP connections (/proc/net on Linux). Everything else in the package imports these
instead of fcntl, os.geteuid, socket.AF_UNIX or /proc, so the package imports on any system.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import IO, Any

try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None  # type: ignore[assignment]

try:
    import msvcrt as _msvcrt
except ImportError:  # POSIX
    _msvcrt = None  # type: ignore[assignment]

_ESTABLISHED = "01"
HAS_UNIX_SOCKETS = hasattr(socket, "AF_UNIX")


def effective_uid() -> int | None:
    """The effective uid, or None where the system has no uids."""
    geteuid = getattr(os, "geteuid", None)
    return int(geteuid()) if geteuid is not None else None


def is_root() -> bool:
    return effective_uid() == 0


def lock(handle: IO[Any], blocking: bool = True, timeout: float | None = None) -> bool:
    """Take an exclusive lock on an open file; False when it is held elsewhere and we may not wait.

    With a timeout, waits at most that long (polling, since flock has no timeout of its own).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if _try_lock(handle, blocking=blocking and deadline is None):
            return True
        if deadline is None or time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _try_lock(handle: IO[Any], blocking: bool) -> bool:
    if _fcntl is not None:
        try:
            _fcntl.flock(handle, _fcntl.LOCK_EX if blocking else _fcntl.LOCK_EX | _fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    if _msvcrt is not None:
        handle.seek(0)
        try:
            _msvcrt.locking(handle.fileno(), _msvcrt.LK_LOCK if blocking else _msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    return True  # no locking on this system: a single process is assumed


def unlock(handle: IO[Any]) -> None:
    if _fcntl is not None:
        _fcntl.flock(handle, _fcntl.LOCK_UN)
    elif _msvcrt is not None:
        handle.seek(0)
        try:
            _msvcrt.locking(handle.fileno(), _msvcrt.LK_UNLCK, 1)
        except OSError:
            pass


def connection_counts(proc: Path = Path("/proc/net")) -> dict[int, int] | None:
    """Established TCP connections per local port, read once; None when the system cannot tell."""
    counts: dict[int, int] = {}
    seen = False
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / name).read_text().splitlines()[1:]
        except OSError:
            continue
        seen = True
        for line in lines:
            parts = line.split()
            if len(parts) < 4 or parts[3] != _ESTABLISHED:
                continue
            local_port = int(parts[1].rsplit(":", 1)[1], 16)
            counts[local_port] = counts.get(local_port, 0) + 1
    return counts if seen else None


def free_local_port(address: str = "127.0.0.1") -> int:
    """A port nothing listens on now, chosen by the system rather than in sequence.

    Every Docker engine hands out ports from the same range in order, unaware of the others and of
    other programs, so two engines on one computer offer the same port; the system's choice avoids that.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])
