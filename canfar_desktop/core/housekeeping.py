"""Ending sessions and cleaning up: renew, the expiry rule's enforcement, delete, prune's choice, orphans.

The expiry rule itself (a session past its expiry is Expired) is in lifecycle.derive_state; here a
running session that the rule says has expired is stopped, after re-reading a renewal that may
have just landed. /arc is never touched by anything here: only a session's own /scratch goes.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import gate, spare
from .errors import CanfarError, NotFound, StateError, ValidationError
from .files import open_private, take_lock
from .host import platform_of
from .kinds import get_kind
from .ledger import Ledger
from .lifecycle import INTERRUPTED_AFTER_S, State
from .listing import SessionLister
from .plan import L_GATE_OF, L_SCRATCH
from .readiness import Readiness
from .registry import HostRegistry
from .session import Session
from .settings import AppPaths
from .storage import SCRATCH_VOLUME_PREFIX, remove_scratch, remove_scratch_dir

SESSION_ID_RE = re.compile(r"[a-z0-9]{8}")
NOT_JOINED = "non running container"  # the engine's refusal to start a container whose namespace is down
REGEX_CHARS = set(".^$*+?{}[]()|\\")
TURN_WAIT_S = 60.0  # an expiry's stop: the session's 10 s, its gate's 2 s, an engine under load


def name_pattern(prefix: str) -> re.Pattern[str]:
    """The canfar client's rule: a literal prefix, or a regular expression when the text has one of its
    characters."""
    if REGEX_CHARS & set(prefix):
        try:
            return re.compile(prefix)
        except re.error as exc:
            raise ValidationError(f"{prefix!r} is not a valid regular expression ({exc})",
                                  "quote it in the shell, or give a plain prefix") from None
    return re.compile("^" + re.escape(prefix))


def matching(sessions: Iterable[Session], prefix: str = "", kind: str | None = None,
             state: State | None = None) -> list[Session]:
    """The sessions prune chooses: names matching prefix (name_pattern), of one kind and in one state
    (None: any)."""
    if kind:
        get_kind(kind)
    pattern = name_pattern(prefix)
    return [s for s in sessions if pattern.search(s.name) and (kind is None or s.kind == kind)
            and (state is None or s.state == state)]


class Housekeeper:
    def __init__(self, hosts: HostRegistry, lister: SessionLister, ledger: Ledger, readiness: Readiness,
                 paths: AppPaths, clock: Any) -> None:
        self.hosts = hosts
        self.lister = lister
        self.ledger = ledger
        self.readiness = readiness
        self.paths = paths
        self.clock = clock

    def _turn_file(self, session_id: str) -> Path:
        return self.paths.state_dir / "turns" / f"{session_id}.lock"

    @contextlib.contextmanager
    def _turn(self, session_id: str) -> Iterator[None]:
        """One stop-or-restart of a session at a time, across threads and processes (the app, the CLI,
        the API server): a renewal made while the session is being stopped for its expiry would
        otherwise start it as its gate goes down, and the engine refuses to join a namespace that no
        longer exists."""
        path = self._turn_file(session_id)
        with open_private(path) as handle:
            take_lock(handle, path, timeout=TURN_WAIT_S)
            yield

    def renew(self, ref: str, host: str | None = None) -> Session:
        """Set the expiry to now + lifetime; an expired (stopped) session is started again."""
        s = self.lister.get(ref, host)
        if s.state in (State.TERMINATING, State.TERMINATED, State.FAILED):
            raise StateError(f"Session {s.id} is {s.state.value} and cannot be renewed", "launch a new session")
        platform = platform_of(self.hosts.get(s.host))
        if platform is not None:  # the platform keeps the expiry and renews by its own lifetime
            platform.extend(s.container_id)
            return self.lister.get(s.id, s.host)
        with self._turn(s.id):
            expiry = self.clock() + timedelta(hours=self.hosts.settings.session_lifetime_hours)
            self.ledger.update(s.host, s.id, expiry=expiry.isoformat(timespec="seconds"))
            s = self.lister.refresh(s.host, s.container_id, probe=False)  # again: a stop may have just ended
            if s.status in ("exited", "dead"):
                if s.gated:  # its gate first: the session's container joins the gate's network
                    gate.start_gate(self.hosts.get(s.host), gate.gate_name(s.id))
                self.hosts.get(s.host).start(s.container_id)
        return self.lister.get(s.id, s.host)

    def _close_forwards(self, s: Session) -> None:
        forwards = self.hosts.open_forwards
        if forwards is not None:
            forwards.close_session(s.host, s.container_id)

    def enforce_expiry(self, sessions: Iterable[Session]) -> list[Session]:
        """Stop running sessions whose expiry has passed; they then show Expired."""
        stopped = []
        now = self.clock()
        for s in sessions:
            if s.state == State.EXPIRED and s.status in ("running", "paused", "restarting") \
                    and platform_of(self.hosts.get(s.host)) is None:  # a platform stops its own
                with self._turn(s.id):
                    renewed = self.ledger.expiry(s.host, s.id)  # read again: a renewal may have just landed
                    if renewed is not None and renewed > now:
                        continue
                    self.hosts.get(s.host).stop(s.container_id, timeout=10)
                    if s.gated:
                        gate.stop_gate(self.hosts.get(s.host), s.id)
                    self.readiness.forget(s.container_id)
                    self._close_forwards(s)
                stopped.append(s)
        return stopped

    def recover_gated(self, sessions: Iterable[Session]) -> list[Session]:
        """Start again the sessions an engine restart left stopped behind their gate or the namespace they
        joined (core/spare.py). The engine brings containers back in no order; a session it starts before
        its gate is refused for good ("cannot join network … of a non running container"), so the gate
        is started, then the session."""
        recovered = []
        for s in sessions:
            if s.status in ("exited", "created") and NOT_JOINED in s.error:
                dh = self.hosts.get(s.host)
                try:
                    if s.gated:
                        gate.start_gate(dh, gate.gate_name(s.id))
                    else:
                        dh.start(spare.holder_name(s.id))
                    dh.start(s.container_id)
                    self.readiness.forget(s.container_id)  # its app starts again: Launching until it answers
                except CanfarError:
                    continue  # shown Failed with the engine's reason; the next pass tries again
                recovered.append(s)
        return recovered

    def delete(self, ref: str | Session, host: str | None = None) -> Session:
        """Remove the container and its /scratch; /arc is never touched."""
        s = ref if isinstance(ref, Session) else self.lister.get(ref, host, details=False)
        dh = self.hosts.get(s.host)
        scratch = ""
        try:
            scratch = ((dh.inspect(s.container_id).get("Config") or {}).get("Labels") or {}).get(L_SCRATCH, "")
        except NotFound:
            pass
        dh.remove(s.container_id)
        if s.gated:
            gate.remove_gate(dh, s.id)
        elif not dh.remote:
            with contextlib.suppress(NotFound):
                dh.remove(spare.holder_name(s.id))  # the namespace it joined, if it joined one
        self.readiness.forget(s.container_id)
        self._close_forwards(s)
        remove_scratch(dh, self.paths, str(scratch))
        with contextlib.suppress(OSError):
            self._turn_file(s.id).unlink(missing_ok=True)
        return s.with_state(State.TERMINATED, "deleted")

    def cleanup_orphans(self, host: str | None = None, grace_s: float = INTERRUPTED_AFTER_S) -> list[str]:
        """Remove what an interrupted launch left behind (an app killed mid-launch, a crash).

        That is: containers that never started long after their launch began, scratch folders and
        scratch volumes without a session, helper containers. Returns what was removed. Only folders
        named like a session id directly in the app's scratch folder are candidates; /arc never is.
        """
        dh = self.hosts.get(host)
        removed: list[str] = []
        for s in self.lister.sessions(dh.name, probe=False):
            age = (self.clock() - s.created).total_seconds() if s.created else 0.0
            abandoned = s.reason.startswith("the launch was interrupted") or age > grace_s
            if s.status == "created" and not s.error and self.ledger.held(f"launching-{s.id}") is not True \
                    and abandoned:
                self.delete(s)
                removed.append(f"container {s.container_name}")
        everyone = self.lister.sessions(dh.name, probe=False, all_users=True)
        known = {s.id for s in everyone}
        self.ledger.forget(dh.name, known)
        now = time.time()
        if not dh.remote and self.paths.scratch_dir.is_dir():
            removed += self._orphan_folders(dh.name, known, now, grace_s)
        helpers = dh.helpers()
        newest = spare.newest_spares(helpers)
        for helper in helpers:  # a helper whose removal was cut short (a dropped connection)
            of = (helper.get("Labels") or {}).get(L_GATE_OF)  # a gate stays while its session does
            settled = now - float(helper.get("Created", now)) > grace_s
            gone = spare.stale(helper, known, newest, settled)  # a namespace holder stays while its session does
            if gone is not None:
                if gone:
                    dh.remove(str(helper.get("Id")))
                    removed.append(f"helper container {str(helper.get('Id'))[:12]} (a spare network namespace)")
                continue
            if settled and (of is None or of not in known):
                dh.remove(str(helper.get("Id")))
                removed.append(f"helper container {str(helper.get('Id'))[:12]}")
        for volume in dh.volumes(SCRATCH_VOLUME_PREFIX):
            if volume.removeprefix(SCRATCH_VOLUME_PREFIX) not in known:
                try:
                    dh.remove_volume(volume)
                    removed.append(f"scratch volume {volume}")
                except CanfarError:
                    pass  # still in use by a container being created right now
        return removed

    def _orphan_folders(self, host: str, known: set[str], now: float, grace_s: float) -> list[str]:
        """Every local host shares the scratch folder: a folder is an orphan only if no local host
        knows its session (an unreachable one means: leave the folders be this time)."""
        for other in self.hosts.names():
            if other != host and not self.hosts.is_remote(other):
                try:
                    known = known | {s.id for s in self.lister.sessions(other, probe=False, all_users=True)}
                except CanfarError:
                    return []
        removed = []
        for folder in self.paths.scratch_dir.iterdir():
            if not SESSION_ID_RE.fullmatch(folder.name) or folder.name in known:
                continue
            try:
                young = now - folder.stat().st_mtime < grace_s
            except OSError:
                continue
            if folder.is_dir() and not folder.is_symlink() and not young:
                remove_scratch_dir(self.paths, str(folder))
                removed.append(f"scratch folder {folder}")
        return removed
