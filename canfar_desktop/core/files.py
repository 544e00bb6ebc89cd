"""Files that must never be lost or half-written: atomic writes, unique aside names, private locks.

Settings and the ledger are written by several processes (the app, the CLI, a second app), so
every write is whole or not at all, a file that cannot be used is kept under a name no other file
has, and locks live in folders only their owner can enter and wait a bounded time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO, Any

from .errors import CanfarError, SettingsError
from .platform import lock, user_ids

LOCK_TIMEOUT_S = 30.0


def write_atomic(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    """Write a file whole or not at all (temporary file, fsync, rename, fsync of the folder); text as
    UTF-8. Mode 0600 unless another is asked for (a file a session's uid must read)."""
    try:
        import tempfile  # only when writing: commands that only read never load it

        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8") if isinstance(text, str) else text)
                if mode != 0o600:  # mkstemp's own
                    os.fchmod(handle.fileno(), mode)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        sync_folder(path.parent)
    except OSError as exc:
        raise SettingsError(
            f"Could not save {path} ({exc.strerror or exc})",
            "check that the folder exists and is writable, or set CANFAR_DESKTOP_HOME to a writable folder",
        ) from exc


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a crash (POSIX); a no-op where folders cannot be opened."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder
    finally:
        os.close(fd)


def move_aside(path: Path) -> Path:
    """Rename a file that could not be used to a name no other file has; it is kept for the person."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        aside = path.with_name(f"{path.name}.corrupt-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            os.link(path, aside)  # fails when the name is taken: an earlier copy is never overwritten
        except FileExistsError:
            continue
        except OSError as exc:
            if not path.exists():
                raise
            if aside.exists():
                continue
            if isinstance(exc, PermissionError) and not _links_unsupported(exc):
                raise
            os.replace(path, aside)  # a file system without hard links
            return aside
        path.unlink()
        sync_folder(path.parent)
        return aside
    raise OSError(f"no free name beside {path}")


def _links_unsupported(exc: OSError) -> bool:
    import errno

    return exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV)


def private_dir(folder: Path) -> None:
    """Create a folder with mode 0700, or tighten one of ours that others could read."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        info = folder.stat()
        ids = user_ids()
        if info.st_mode & 0o077 and (ids is None or info.st_uid == ids[0]):
            folder.chmod(0o700)
    except OSError:
        pass


def open_private(path: Path) -> IO[Any]:
    """Open (creating) a file only its owner can read, in a folder only its owner can enter."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if hasattr(os, "fchmod") and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass  # not ours to change: it still locks
    return os.fdopen(fd, "r+")


def take_lock(handle: IO[Any], path: Path, timeout: float = LOCK_TIMEOUT_S) -> None:
    """Wait for an exclusive lock at most `timeout` seconds, then say what to do."""
    if not lock(handle, timeout=timeout):
        raise CanfarError(
            f"Another canfar-desktop process has held the lock {path} for more than {timeout:.0f} s",
            "wait for it to finish and try again; if it hangs, stop that process (its lock goes with it)",
        )
