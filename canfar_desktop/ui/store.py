"""The bridge from the core's session loop (core/watch.py) to Qt: what it reports, as signals.

The watcher calls its listener on its own threads; this object re-emits each report as a queued
signal and applies it on the GUI thread, where it keeps the latest sessions and host statuses for
the widgets to read. A host that fails keeps its last known sessions (shown as unreachable).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.diagnostics import Check, run_checks
from ..core.errors import CanfarError
from ..core.events import EngineEvent
from ..core.kinds import is_batch
from ..core.listing import newest_first
from ..core.registry import HostStatus
from ..core.service import SessionService
from ..core.session import Session
from ..core.watch import RECONCILE_S, RECONCILE_UNSEEN_S, Listener, Relay, Snapshot, Watcher

log = logging.getLogger(__name__)


CLOCK_TICK_S = 30.0  # at least this often `changed` fires, for what moves with the clock alone
RTT_MOVE = 0.5  # a host's round trip shown again when it moved by half


def _statuses_moved(old: dict[str, HostStatus], new: dict[str, HostStatus]) -> bool:
    """Whether host statuses changed enough to show: reachability, errors, or a round trip that moved."""
    if old.keys() != new.keys():
        return True
    for name, now in new.items():
        was = old[name]
        if (was.ok, was.error) != (now.ok, now.error):
            return True
        if was.rtt_ms and now.rtt_ms and abs(now.rtt_ms - was.rtt_ms) > RTT_MOVE * was.rtt_ms + 5:
            return True
    return False


class _Relay(Listener):
    """Runs on watcher threads: hands every report to the store's queued signals."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def snapshot(self, snap: Snapshot) -> None:
        self._emit(self.store._snapshot_seen, snap)

    def session(self, s: Session) -> None:
        self._emit(self.store._session_seen, s)

    def event(self, host: str, event: EngineEvent) -> None:
        self._emit(self.store.engine_event, host, event)

    @staticmethod
    def _emit(signal: Any, *args: object) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the store was deleted while the watcher ran
            pass


class SessionStore(QObject):
    """Holds the sessions of the current user on every configured host."""

    changed = Signal()
    host_status_changed = Signal()
    engine_unreachable = Signal(str, object)  # host name, CanfarError
    engine_recovered = Signal(str)
    diagnosis_ready = Signal(str, object)  # host name, list[Check]
    engine_event = Signal(str, object)  # host name, EngineEvent
    _snapshot_seen = Signal(object)
    _session_seen = Signal(object)

    def __init__(self, service: SessionService, runner: Any, parent: QObject | None = None,
                 early: tuple[Watcher, Relay] | None = None) -> None:
        """`early`: a watcher started before the window (ui/early_start.py) and the relay holding its reports."""
        super().__init__(parent)
        self.service = service
        self.tasks = runner  # runs blocking work off the GUI thread (ui/tasks.py)
        self.sessions: dict[tuple[str, str], Session] = {}
        self.statuses: dict[str, HostStatus] = {}
        self.unreachable: dict[str, CanfarError] = {}
        self.loaded = False
        self._announced_at = 0.0  # when `changed` was last emitted (only real changes, or the clock's tick)
        self.watcher = early[0] if early else Watcher(service, _Relay(self))
        self._early_relay = early[1] if early else None
        self._snapshot_seen.connect(self._apply)
        self._session_seen.connect(self._apply_one)

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Hear the session loop (from here on, every slot is connected); an early watcher runs already:
        what it reported so far is applied now, in order."""
        relay, self._early_relay = self._early_relay, None
        if relay is not None:
            relay.attach(_Relay(self))
        else:
            self.watcher.start()

    def stop(self) -> None:
        self.watcher.stop()

    def follow_hosts(self) -> None:
        """After the host list changed: follow new hosts, forget what was known about removed ones."""
        names = set(self.service.host_names())
        self.sessions = {k: s for k, s in self.sessions.items() if k[0] in names}
        self.statuses = {n: st for n, st in self.statuses.items() if n in names}
        for name in [n for n in self.unreachable if n not in names]:
            del self.unreachable[name]
        self.watcher.follow_hosts()

    # --- reading ------------------------------------------------------------------------------

    def all(self) -> list[Session]:
        return newest_first(self.sessions.values())

    def find(self, session_id: str, host: str | None = None) -> Session | None:
        for (h, sid), s in self.sessions.items():
            if sid == session_id and (host is None or h == host):
                return s
        return None

    def active_count(self) -> int:
        """Sessions holding a slot of the limit (batch jobs and desktop applications hold none)."""
        return sum(1 for s in self.sessions.values() if s.active and not is_batch(s.kind))

    # --- refreshing ---------------------------------------------------------------------------

    def refresh(self) -> None:
        self.watcher.refresh()

    def refresh_soon(self) -> None:
        self.watcher.refresh(0.08)

    def retry(self, host: str | None = None) -> None:
        """Forget broken connections and try again now (the banner's Retry)."""
        self.watcher.retry(host)

    def set_on_screen(self, on_screen: bool) -> None:
        """The engines' events keep the cards current; the periodic listing behind them is slower unseen."""
        self.watcher.set_reconcile_interval(RECONCILE_S if on_screen else RECONCILE_UNSEEN_S)

    def _apply(self, snap: Snapshot) -> None:
        self.loaded = True
        kept = {(s.host, s.id): s for s in snap.sessions}
        for key, s in self.sessions.items():  # a host that failed keeps its last known sessions
            if key[0] in snap.errors:
                kept.setdefault(key, s)
        now = time.monotonic()
        stale = now - self._announced_at > CLOCK_TICK_S  # times left and expiry warnings move with the clock
        sessions_moved = kept != self.sessions or stale
        statuses_moved = stale or _statuses_moved(self.statuses, snap.statuses)
        self.sessions = kept
        if statuses_moved:
            self.statuses = snap.statuses
        for name, err in snap.errors.items():
            if name not in self.unreachable:
                self.unreachable[name] = err
                self.engine_unreachable.emit(name, err)
                self.diagnose(name)
        for name in [n for n in self.unreachable if n not in snap.errors]:
            del self.unreachable[name]
            self.engine_recovered.emit(name)
            sessions_moved = statuses_moved = True
        if sessions_moved or not self._announced_at:
            self._announced_at = now
            self.changed.emit()
        if statuses_moved:
            self.host_status_changed.emit()

    def _apply_one(self, s: Session) -> None:
        key = (s.host, s.id)
        if key in self.sessions:
            self.sessions[key] = s
            self.changed.emit()

    def diagnose(self, host: str) -> None:
        """Run the doctor's host checks in the background; the banner shows the findings."""
        def done(checks: list[Check]) -> None:
            self.diagnosis_ready.emit(host, checks)

        self.tasks.run(run_checks, self.service, None, host, on_done=done)
