"""What differs between operating systems, in one place, each with a portable fallback.

File locks (flock on POSIX, msvcrt on Windows), the user's ids and name, the single-instance channel
(a Unix socket, or a named pipe on Windows), and the table of established TCP connections (/proc/net
on Linux). Everything else in the package imports these instead of fcntl, pwd, os.geteuid,
socket.AF_UNIX or /proc, so the package imports and works on any system.
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
PIPE_PREFIX = "\\\\.\\pipe\\"  # Windows named pipes: \\.\pipe\NAME


def effective_uid() -> int | None:
    """The effective uid, or None where the system has no uids."""
    geteuid = getattr(os, "geteuid", None)
    return int(geteuid()) if geteuid is not None else None


def is_root() -> bool:
    return effective_uid() == 0


def user_ids() -> tuple[int, int] | None:
    """The real (uid, gid) of this process, or None where the system has no uids (Windows)."""
    getuid, getgid = getattr(os, "getuid", None), getattr(os, "getgid", None)
    return (int(getuid()), int(getgid())) if getuid is not None and getgid is not None else None


def user_name(uid: int) -> str | None:
    """The account name of a uid on this computer, or None (no such account, or no account database)."""
    try:
        import pwd
    except ImportError:  # Windows
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def local_channel_name(path: Path) -> str:
    """Where the single-instance server listens: the socket's path, or a per-user pipe name on Windows."""
    if HAS_UNIX_SOCKETS:
        return str(path)
    import hashlib

    return "canfar-desktop-" + hashlib.sha256(str(path).encode()).hexdigest()[:16]


def local_exchange(path: Path, data: bytes, timeout: float, reply_timeout: float) -> bytes | None:
    """Send one message to the single-instance server and read its short answer; None when none answers."""
    if not HAS_UNIX_SOCKETS:
        try:
            with open(PIPE_PREFIX + local_channel_name(path), "r+b", buffering=0) as pipe:
                pipe.write(data)
                return pipe.read(64)
        except OSError:
            return None
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(data)
            sock.settimeout(max(timeout, reply_timeout))
            return sock.recv(64)
    except OSError:
        return None


def unix_socket() -> socket.socket:
    """A stream socket for a Unix socket path (a local Docker engine)."""
    return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)


def unix_listener(path: Path, backlog: int = 16) -> socket.socket | None:
    """A socket listening at `path` that only this user may use; None where the system has no Unix
    sockets (a named pipe is the app's own business there) or the path cannot be bound."""
    if not HAS_UNIX_SOCKETS:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, 0o600)
        sock.listen(backlog)
    except OSError:
        sock.close()
        return None
    return sock


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
