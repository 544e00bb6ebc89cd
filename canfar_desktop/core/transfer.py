"""Copying files and folders into a session's /arc (or /scratch) and back, streamed through the engine.

The same path for this computer and remote hosts: a tar stream through the engine's archive API
(core/backends/archive.py), one chunk at a time, so a file of any size costs a megabyte or two of
memory. A copy that fails or is cancelled never leaves a partial file under its final name: it is
written under a hidden temporary name beside it (`.NAME.part-XXXX`) and renamed only once complete
(inside the session by a `mv` run as the session's user; on this computer by os.replace), and the
temporary is removed on failure.

Paths follow `cp`: a destination that is a folder (or ends in `/`) receives the source under its own
name; otherwise the destination is the new name. In the session only /arc and /scratch are written.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import secrets
import shutil
import stat as stat_mod
import tarfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import CanfarError, StateError, ValidationError
from .host import FileHost, SessionHost, files_of
from .record import record
from .session import Session

CHUNK = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE
ALLOWED_ROOTS = ("/arc", "/scratch")
GO_DIR_BIT = 1 << 31  # Go's os.ModeDir in the engine's path stat
SPEC_RE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*):(.*)", re.DOTALL)


class Cancelled(CanfarError):
    exit_code = 130


class TransferError(CanfarError):
    exit_code = 1


@record(frozen=False)
class Progress:
    """Bytes copied so far of `total` (None when the engine does not say, as for folders coming out)."""

    name: str
    done: int = 0
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


ProgressCallback = Callable[[Progress], None]


@record
class Entry:
    """One item of a session's folder, as the app's file browser lists it."""

    name: str
    folder: bool
    size: int
    modified: float  # seconds since the epoch


LIST_LIMIT = 10000  # a folder with more is listed in part, and says so


def parse_spec(text: str) -> tuple[str | None, str]:
    """`ID:/path` (a session's path) or a local path: (session ref or None, path)."""
    match = SPEC_RE.fullmatch(text)
    if match and (match.group(2) == "" or not Path(text).exists()):
        return match.group(1), match.group(2)
    return None, text


def session_path(s: Session, path: str) -> str:
    """A path in the session, checked: relative paths start at /arc/home/<user>; only /arc and /scratch."""
    home = f"/arc/home/{s.owner}"
    full = posixpath.normpath(posixpath.join(home, path)) if path else home
    if path.endswith("/") and full != "/":
        full += "/"
    if not any(full.rstrip("/") == root or full.startswith(root + "/") for root in ALLOWED_ROOTS):
        raise ValidationError(f"{full} is outside /arc and /scratch",
                              f"copy to or from /arc (e.g. {s.id}:{home}/) or /scratch")
    return full


def is_dir(info: dict[str, Any] | None) -> bool:
    return info is not None and bool(int(info.get("mode", 0)) & GO_DIR_BIT)


def _temp_name(name: str) -> str:
    return f".{name}.part-{secrets.token_hex(4)}"


def _user_of(host: SessionHost, s: Session) -> tuple[str, int, int]:
    """The session's `uid:gid` (it owns what is copied in), from the container itself."""
    user = str((host.inspect(s.container_id).get("Config") or {}).get("User") or "")
    uid, _, gid = user.partition(":")
    if not uid.isdigit():
        raise StateError(f"Session {s.id} runs without a user id", "copy files only into canfar-desktop sessions")
    return user, int(uid), int(gid or uid)


# --- into the session ------------------------------------------------------------------------------

def _entries(source: Path, top: str) -> list[tuple[Path, str]]:
    """(local path, name in the tar) for a file or a whole folder, the folder first; symlinks are left out."""
    if not source.is_dir():
        return [(source, top)]
    found = [(source, top)]
    for root, dirs, files in os.walk(source):
        dirs.sort()
        rel = Path(root).relative_to(source)
        for name in [*dirs, *sorted(files)]:
            path = Path(root) / name
            if path.is_symlink():
                continue
            found.append((path, posixpath.join(top, *rel.parts, name)))
    return found


def _tar_chunks(entries: list[tuple[Path, str]], uid: int, gid: int, progress: Progress,
                report: ProgressCallback, cancel: threading.Event) -> Iterator[bytes]:
    """The tar stream of the entries, read from disk as it is sent; owned by the session's user."""
    for path, arcname in entries:
        st = path.stat()
        info = tarfile.TarInfo(arcname)
        info.uid, info.gid, info.mtime = uid, gid, int(st.st_mtime)
        if stat_mod.S_ISDIR(st.st_mode):
            info.type, info.mode = tarfile.DIRTYPE, (st.st_mode & 0o777) | 0o700
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        if not stat_mod.S_ISREG(st.st_mode):
            continue  # sockets, devices, fifos: nothing to copy
        info.size, info.mode = st.st_size, (st.st_mode & 0o777) | 0o600
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        left = st.st_size
        with path.open("rb") as handle:
            while left:
                if cancel.is_set():
                    raise Cancelled("The copy was cancelled", "nothing was left under the final name")
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    raise TransferError(f"{path} became shorter while it was copied", "copy it again once it is written")
                left -= len(chunk)
                progress.done += len(chunk)
                report(progress)
                yield chunk
        if st.st_size % BLOCK:
            yield b"\0" * (BLOCK - st.st_size % BLOCK)
    yield b"\0" * (2 * BLOCK)


def _size(entries: list[tuple[Path, str]]) -> int:
    return sum(p.stat().st_size for p, _ in entries if p.is_file())


def copy_in(host: SessionHost, s: Session, sources: Sequence[Path], dest: str,
            progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> list[str]:
    """Copy local files or folders into the running session; returns where each one landed."""
    report = progress or (lambda p: None)
    stop = cancel or threading.Event()
    files = files_of(host)
    if s.status != "running":
        raise StateError(f"Session {s.id} is {s.state.value}", "copy files into a running session (renew it first)")
    target = session_path(s, dest)
    for source in sources:
        if not source.exists():
            raise ValidationError(f"There is no {source} on this computer", "check the path")
    found = files.archive_stat(s.container_id, target.rstrip("/") or "/")
    into_folder = target.endswith("/") or is_dir(found) or len(sources) > 1
    if into_folder and not is_dir(found):
        raise ValidationError(f"There is no folder {target} in the session", "create it first, or name an existing one")
    if not into_folder and not is_dir(files.archive_stat(s.container_id, posixpath.dirname(target))):
        raise ValidationError(f"There is no folder {posixpath.dirname(target)} in the session",
                              "create it first, or copy into an existing folder")
    user, uid, gid = _user_of(host, s)
    folder = target.rstrip("/") if into_folder else posixpath.dirname(target)
    # the engine writes as root: ask first whether the session's user may write there
    if files.exec_run(s.container_id, ["test", "-w", folder], user)[0] != 0:
        raise ValidationError(f"{s.owner} may not write in {folder}",
                              "copy into a folder of yours (your home folder), or ask the folder's owner")
    landed = []
    for source in sources:
        final = posixpath.join(folder, source.name) if into_folder else target
        existing = files.archive_stat(s.container_id, final) if into_folder else found
        if existing and is_dir(existing) != source.is_dir():
            raise ValidationError(f"{final} already exists as a {'folder' if is_dir(existing) else 'file'}",
                                  "choose another destination")
        if existing and is_dir(existing):
            raise ValidationError(f"The folder {final} already exists in the session",
                                  "copy into it (end the destination with the folder's name and /), or rename it")
        landed.append(_copy_one_in(files, s, source, folder, final, user, uid, gid, report, stop))
    return landed


def _copy_one_in(host: FileHost, s: Session, source: Path, folder: str, final: str, user: str, uid: int,
                 gid: int, report: ProgressCallback, cancel: threading.Event) -> str:
    temp = _temp_name(posixpath.basename(final))
    entries = _entries(source, temp)
    progress = Progress(source.name, 0, _size(entries))
    report(progress)
    try:
        host.archive_write(s.container_id, folder, _tar_chunks(entries, uid, gid, progress, report, cancel))
        code, output = host.exec_run(s.container_id, ["mv", "-f", "--", posixpath.join(folder, temp), final], user)
        if code != 0:
            raise TransferError(f"Could not name the copy {final}: {output.strip()[:200]}",
                                "check you may write there (canfar-desktop doctor ID)")
    except BaseException:
        _remove_in(host, s, posixpath.join(folder, temp), user)
        raise
    return final


def _remove_in(host: FileHost, s: Session, path: str, user: str) -> None:
    try:
        host.exec_run(s.container_id, ["rm", "-rf", "--", path], user)
    except CanfarError:
        pass  # the host is gone: the hidden temporary stays under its own name, never the final one


# --- out of the session ----------------------------------------------------------------------------

class _ChunkReader(io.RawIOBase):
    """A file-like view of the engine's chunk iterator, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes], cancel: threading.Event) -> None:
        self._chunks = chunks
        self._cancel = cancel
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._cancel.is_set():
            raise Cancelled("The copy was cancelled", "nothing was left under the final name")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _safe_parts(name: str) -> list[str] | None:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return None if not parts or ".." in parts else parts


def copy_out(host: SessionHost, s: Session, source: str, dest: Path | str,
             progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Path:
    """Copy a file or folder out of the session to this computer; returns the local path written."""
    report = progress or (lambda p: None)
    stop = cancel or threading.Event()
    path = session_path(s, source).rstrip("/")
    folder_meant = str(dest).endswith(("/", os.sep))
    dest = Path(dest).expanduser()
    if folder_meant and not dest.is_dir():
        raise ValidationError(f"There is no folder {dest} on this computer", "create it first")
    final = dest / posixpath.basename(path) if dest.is_dir() else dest
    if not final.parent.is_dir():
        raise ValidationError(f"There is no folder {final.parent} on this computer", "create it first")
    if final.is_dir():
        raise ValidationError(f"The folder {final} already exists", "choose another destination, or remove it first")
    stream, info = files_of(host).archive_read(s.container_id, path)
    temp = final.parent / _temp_name(final.name)
    progress_ = Progress(final.name, 0, None if is_dir(info) else int(info.get("size", 0)) or None)
    report(progress_)
    try:
        with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(iter(stream), stop), CHUNK), mode="r|") as tar:
            for member in tar:
                parts = _safe_parts(member.name)
                if parts is None:
                    continue
                local = temp.joinpath(*parts[1:]) if len(parts) > 1 else temp
                if member.isdir():
                    local.mkdir(mode=0o700, exist_ok=True)
                    local.chmod((member.mode & 0o777) | 0o700)
                elif member.isfile():
                    _write_member(tar, member, local, progress_, report, stop)
        if not temp.exists():
            raise TransferError(f"The session sent nothing for {path}", "check the path and copy again")
        os.replace(temp, final)
    except BaseException:
        stream.close()
        if temp.is_dir():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            temp.unlink(missing_ok=True)
        raise
    return final


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, local: Path, progress: Progress,
                  report: ProgressCallback, cancel: threading.Event) -> None:
    source = tar.extractfile(member)
    if source is None:
        return
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            if cancel.is_set():
                raise Cancelled("The copy was cancelled", "nothing was left under the final name")
            out.write(chunk)
            progress.done += len(chunk)
            report(progress)
    local.chmod((member.mode & 0o777) | 0o600)
    os.utime(local, (member.mtime, member.mtime))


# --- looking ----------------------------------------------------------------------------------------

def list_folder(host: SessionHost, s: Session, path: str) -> tuple[str, list[Entry], bool]:
    """A folder of the running session as its user sees it: (its full path, entries, whether cut short).

    Listed by `find` run in the session as its user, so it shows what that person may read, on any
    host the app reaches. Folders first, then by name."""
    if s.status != "running":
        raise StateError(f"Session {s.id} is {s.state.value}", "browse the files of a running session")
    full = session_path(s, path).rstrip("/")
    user, _, _ = _user_of(host, s)
    # the trailing slash makes a file an error ("Not a directory") rather than an empty folder
    code, output = files_of(host).exec_run(
        s.container_id, ["find", full + "/", "-mindepth", "1", "-maxdepth", "1", "-printf", r"%y\t%s\t%T@\t%f\0"], user)
    entries = []
    for line in output.split("\0"):
        kind, _, rest = line.partition("\t")
        size, _, rest = rest.partition("\t")
        modified, _, name = rest.partition("\t")
        if len(kind) != 1 or not size.isdigit() or not name or "/" in name:
            continue  # a message of find's, not an entry
        try:
            entries.append(Entry(name, kind == "d", int(size), float(modified)))
        except ValueError:
            continue
    if code != 0 and not entries:
        if "No such file" in output:
            raise ValidationError(f"There is no folder {full} in the session", "go up and choose another")
        if "Permission denied" in output:
            raise ValidationError(f"{s.owner} may not read {full}", "ask its owner, or see canfar-desktop doctor ID")
        if "Not a directory" in output:
            raise ValidationError(f"{full} is a file, not a folder", "open its folder instead")
        raise TransferError(f"Could not list {full}: {output.strip()[:200]}", "try again")
    entries.sort(key=lambda e: (not e.folder, e.name.casefold()))
    return full, entries[:LIST_LIMIT], len(entries) > LIST_LIMIT
