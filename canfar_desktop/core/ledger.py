"""The little the engine cannot hold: renewed expiries and whether a session was ever opened.

Docker cannot change a container's labels after it is created, so the expiry label keeps the
launch-time value and renewals are kept here, beside the settings, shared by the CLI and every app
instance on this machine through a file lock. The same lock serialises launches so that the
active-session limit holds even for concurrent launches from several processes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .platform import lock, unlock
from .settings import write_atomic


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def locked(self, name: str = "ledger") -> Iterator[None]:
        """An exclusive lock across processes and threads (each call opens its own description)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{name}.lock"), "a+") as handle:
            lock(handle)
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
        path = self.path.with_name(f".{name}.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as handle:
            lock(handle)
            try:
                yield
            finally:
                path.unlink(missing_ok=True)
                unlock(handle)

    def held(self, name: str) -> bool | None:
        """True while a live process holds the lock, False if it died holding it, None if unknown."""
        path = self.path.with_name(f".{name}.lock")
        try:
            handle = open(path)  # noqa: SIM115 - closed below on every path
        except OSError:
            return None
        with handle:
            if not lock(handle, blocking=False):
                return True
            unlock(handle)
            return False

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def entry(self, host: str, session_id: str) -> dict[str, Any]:
        value = self._read().get(host, {}).get(session_id, {})
        return value if isinstance(value, dict) else {}

    def entries(self, host: str) -> dict[str, dict[str, Any]]:
        value = self._read().get(host, {})
        return value if isinstance(value, dict) else {}

    def update(self, host: str, session_id: str, **fields: Any) -> None:
        with self.locked():
            data = self._read()
            entry = data.setdefault(host, {}).setdefault(session_id, {})
            entry.update(fields)
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True))

    def forget(self, host: str, keep: set[str]) -> None:
        """Drop entries of sessions that no longer exist."""
        with self.locked():
            data = self._read()
            entries = data.get(host, {})
            stale = [sid for sid in entries if sid not in keep]
            if not stale:
                return
            for sid in stale:
                del entries[sid]
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True))

    def expiry(self, host: str, session_id: str) -> datetime | None:
        raw = self.entry(host, session_id).get("expiry")
        try:
            return datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
