"""The little the engine cannot hold: renewed expiries and whether a session was ever opened.

Docker cannot change a container's labels after it is created, so the expiry label keeps the
launch-time value and renewals are kept here, beside the settings, shared by the CLI and every app
instance on this machine through a file lock. The same lock serialises launches so that the
active-session limit holds even for concurrent launches from several processes.

Losing this file loses every renewal, so it is never written over unless it was read: a file that
cannot be read stops the write with a message, and a corrupt one (not JSON, or not the expected
shape) is kept under a name of its own and what was valid in it carried over. The folder and the
lock files are private to their owner, and a lock is waited for a bounded time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import CanfarError
from .files import LOCK_TIMEOUT_S, move_aside, open_private, private_dir, take_lock, write_atomic
from .log import get_logger
from .platform import lock, unlock

log = get_logger(__name__)

Entries = dict[str, dict[str, dict[str, Any]]]  # host -> session id -> fields


class Ledger:
    def __init__(self, path: Path, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = path
        self.lock_timeout = lock_timeout
        self.warning: str | None = None  # set when a corrupt ledger was set aside, for the app or CLI to show

    def _lock_file(self, name: str) -> Path:
        return self.path.with_name(f".{name}.lock")

    @contextlib.contextmanager
    def locked(self, name: str = "ledger") -> Iterator[None]:
        """An exclusive lock across processes and threads (each call opens its own description)."""
        path = self._lock_file(name)
        with self._open_lock(path) as handle:
            take_lock(handle, path, self.lock_timeout)
            try:
                yield
            finally:
                unlock(handle)

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold a named lock for the length of a job (a launch); its file goes when the job ends.

        If the process dies, the kernel drops the lock and the file stays behind, which is how
        `held` tells an abandoned job from a finished one.
        """
        path = self._lock_file(name)
        with self._open_lock(path) as handle:
            take_lock(handle, path, self.lock_timeout)
            try:
                yield
            finally:
                path.unlink(missing_ok=True)
                unlock(handle)

    def held(self, name: str) -> bool | None:
        """True while a live process holds the lock, False if it died holding it, None if unknown."""
        path = self._lock_file(name)
        try:
            handle = open(path)  # noqa: SIM115 - closed below on every path
        except OSError:
            return None
        with handle:
            if not lock(handle, blocking=False):
                return True
            unlock(handle)
            return False

    def _open_lock(self, path: Path) -> Any:
        try:
            return open_private(path)
        except OSError as exc:
            raise CanfarError(f"Could not open the lock file {path} ({exc.strerror or exc})",
                              "check that the app's state folder is writable and yours") from None

    # --- reading ------------------------------------------------------------------------------

    def _raw(self) -> bytes | None:
        """The file's bytes; None when there is no ledger yet. A file that exists but cannot be read
        raises, so that nothing is written over it."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CanfarError(f"Could not read the ledger {self.path} ({exc.strerror or exc})",
                              "check that the file is yours and readable; renewals live there") from None

    def _read(self) -> Entries:
        """The ledger for reading; a corrupt file is set aside under the lock first."""
        raw = self._raw()
        if raw is None:
            return {}
        data, whole = parse_ledger(raw)
        if whole:
            return data
        with self.locked():
            return self._read_locked()

    def _read_locked(self) -> Entries:
        """The ledger for a change (the lock is held): a corrupt file is kept aside, its valid entries kept."""
        raw = self._raw()
        if raw is None:
            return {}
        data, whole = parse_ledger(raw)
        if whole:
            return data
        try:
            private_dir(self.path.parent)
            aside = move_aside(self.path)
        except OSError as exc:
            raise CanfarError(f"The ledger {self.path} is damaged and could not be set aside ({exc.strerror or exc})",
                              "move it away by hand; renewals recorded in it are lost otherwise") from None
        kept = sum(len(v) for v in data.values())
        self.warning = (f"The ledger of renewals was damaged; it was kept as {aside} and "
                        f"{kept} valid entr{'y' if kept == 1 else 'ies'} carried over")
        log.warning("%s", self.warning)
        if data:
            self._write(data)
        return data

    def _write(self, data: Entries) -> None:
        private_dir(self.path.parent)
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True))

    def entry(self, host: str, session_id: str) -> dict[str, Any]:
        return dict(self._read().get(host, {}).get(session_id, {}))

    def entries(self, host: str) -> dict[str, dict[str, Any]]:
        return dict(self._read().get(host, {}))

    def expiry(self, host: str, session_id: str) -> datetime | None:
        raw = self.entry(host, session_id).get("expiry")
        try:
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            return None

    # --- changing -----------------------------------------------------------------------------

    def update(self, host: str, session_id: str, **fields: Any) -> None:
        with self.locked():
            data = self._read_locked()
            data.setdefault(host, {}).setdefault(session_id, {}).update(fields)
            self._write(data)

    def forget(self, host: str, keep: Iterable[str]) -> list[str]:
        """Drop the entries of a host's sessions that no longer exist (`keep`: the ids that do).

        Pass every session of the host, of every user, from a listing that succeeded. Returns the
        ids dropped."""
        kept = set(keep)
        with self.locked():
            data = self._read_locked()
            entries = data.get(host, {})
            stale = [sid for sid in entries if sid not in kept]
            if not stale:
                return []
            for sid in stale:
                del entries[sid]
            if not entries:
                data.pop(host, None)
            self._write(data)
            return stale

    def forget_hosts(self, hosts: Iterable[str]) -> list[str]:
        """Drop everything kept for hosts no longer configured (`hosts`: the configured names)."""
        known = set(hosts)
        with self.locked():
            data = self._read_locked()
            gone = [h for h in data if h not in known]
            if gone:
                for host in gone:
                    del data[host]
                self._write(data)
            return gone


def parse_ledger(raw: bytes) -> tuple[Entries, bool]:
    """(the well-formed entries, whether the whole file was well-formed).

    The shape is {host: {session id: {field: value}}}, with `expiry` an ISO time and `opened` a bool
    when present; anything else that is malformed is left out."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}, False
    if not isinstance(data, dict):
        return {}, False
    clean: Entries = {}
    whole = True
    for host, sessions in data.items():
        if not isinstance(sessions, dict):
            whole = False
            continue
        kept = {sid: entry for sid, entry in sessions.items() if _entry_ok(entry)}
        whole = whole and len(kept) == len(sessions)
        if kept:
            clean[host] = kept
        elif sessions:
            whole = False
    return clean, whole


def _entry_ok(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    expiry = entry.get("expiry")
    if expiry is not None:
        if not isinstance(expiry, str):
            return False
        try:
            datetime.fromisoformat(expiry)
        except ValueError:
            return False
    return "opened" not in entry or isinstance(entry["opened"], bool)
