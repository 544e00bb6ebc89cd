"""The bridge from the core to Qt: every host's sessions, kept current, announced as signals.

The engine's event stream (one thread per host) triggers a refresh within a second of any
change; a slow reconcile timer catches what events miss, enforces expiry and measures each
host. While a session launches the store polls faster so the card moves on to Running quickly.

Engine restarts: a stream that ends triggers a refresh at once (the banner shows the host
unreachable without waiting for the timer), sessions of an unreachable host lose their "known
ready" mark (they must answer again after the engine brings them back), and a host that answers
again wakes its event follower instead of leaving it in its back-off. What an interrupted launch
left behind is cleaned up at start and every few minutes (SessionService.cleanup_orphans).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.diagnostics import Check, run_checks
from ..core.errors import CanfarError
from ..core.events import parse_event
from ..core.lifecycle import State
from ..core.service import HostStatus, SessionService
from ..core.session import Session
from .tasks import Tasks

log = logging.getLogger(__name__)

RECONCILE_MS = 5000
LAUNCHING_MS = 300
LAUNCHING_SLOW_MS = 3000
LAUNCHING_FAST_FOR_S = 60.0
DEBOUNCE_MS = 80
CLEANUP_EVERY_S = 300.0
FAST_ACTIONS = ("die", "start", "oom", "kill", "restart", "stop", "pause", "unpause")  # one session re-read


@dataclass(frozen=True)
class Snapshot:
    sessions: list[Session]
    errors: dict[str, CanfarError]
    statuses: dict[str, HostStatus]


class SessionStore(QObject):
    """Holds the sessions of the current user on every configured host."""

    changed = Signal()
    host_status_changed = Signal()
    engine_unreachable = Signal(str, object)  # host name, CanfarError
    engine_recovered = Signal(str)
    diagnosis_ready = Signal(str, object)  # host name, list[Check]
    engine_event = Signal(str, object)  # host name, EngineEvent (for listeners such as a troubleshooting panel)
    _event_seen = Signal(str, object)
    _stream_lost = Signal(str)

    def __init__(self, service: SessionService, tasks: Tasks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.tasks = tasks
        self.sessions: dict[tuple[str, str], Session] = {}
        self.statuses: dict[str, HostStatus] = {}
        self.unreachable: dict[str, CanfarError] = {}
        self.loaded = False
        self._in_flight = False
        self._again = False
        self._stop = threading.Event()
        self._streams: dict[str, object] = {}
        self._followers: dict[str, threading.Thread] = {}
        self._wake: dict[str, threading.Event] = {}
        self._cleaned_at: float | None = None
        self._reconcile = QTimer(self, interval=RECONCILE_MS, timeout=self.refresh)
        self._fast = QTimer(self, interval=LAUNCHING_MS, timeout=self.refresh)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self.refresh)
        self._event_seen.connect(self._on_event)
        self._stream_lost.connect(lambda _host: self.refresh_soon())

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._reconcile.start()
        for name in self.service.host_names():
            self._follow(name)
        self.refresh()

    def stop(self) -> None:
        self._stop.set()
        for wake in list(self._wake.values()):
            wake.set()
        self._reconcile.stop()
        self._fast.stop()
        self._debounce.stop()
        for stream in list(self._streams.values()):
            try:
                stream.close()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - a dead stream may fail to close in many ways
                pass
        self._streams.clear()

    def follow_hosts(self) -> None:
        """After the host list changed: follow new hosts' events, let removed hosts' followers end and
        forget what was known about them (their sessions, status and unreachable mark)."""
        names = set(self.service.host_names())
        self.sessions = {k: s for k, s in self.sessions.items() if k[0] in names}
        self.statuses = {n: st for n, st in self.statuses.items() if n in names}
        for name in [n for n in self.unreachable if n not in names]:
            del self.unreachable[name]
        for name in [n for n in self._streams if n not in names]:
            try:
                self._streams[name].close()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - a dead stream may fail to close in many ways
                pass
        for name, wake in list(self._wake.items()):
            if name not in names:
                wake.set()
        if self._reconcile.isActive():  # started, not stopped
            for name in sorted(names):
                self._follow(name)

    # --- reading ------------------------------------------------------------------------------

    def all(self) -> list[Session]:
        return sorted(self.sessions.values(), key=lambda s: s.created.timestamp() if s.created else 0, reverse=True)

    def find(self, session_id: str, host: str | None = None) -> Session | None:
        for (h, sid), s in self.sessions.items():
            if sid == session_id and (host is None or h == host):
                return s
        return None

    def active_count(self) -> int:
        return sum(1 for s in self.sessions.values() if s.active)

    # --- refreshing ---------------------------------------------------------------------------

    def refresh_soon(self) -> None:
        """Coalesce bursts of engine events into one refresh."""
        if not self._debounce.isActive():
            self._debounce.start()

    def refresh(self) -> None:
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        self.tasks.run(self._collect, on_done=self._apply, on_error=self._failed)

    def retry(self, host: str | None = None) -> None:
        """Forget broken connections and try again now (the banner's Retry)."""
        names = [host] if host else list(self.unreachable)
        self.tasks.run(self._reset_hosts, names, on_done=lambda _r: self.refresh())

    def _reset_hosts(self, names: list[str]) -> None:
        for name in names:
            try:
                self.service.host(name).reset()
            except CanfarError:
                pass

    def _collect(self) -> Snapshot:
        """Worker thread: list, stop what expired, measure the hosts."""
        for name in list(self.unreachable):
            self._reset_hosts([name])
        sessions, errors = self.service.list_all()
        for (host, _sid), known in list(self.sessions.items()):
            if host in errors:  # the engine may be restarting: its sessions must answer again
                self.service.forget_readiness(known.container_id)
        if self._cleaned_at is None or time.monotonic() - self._cleaned_at > CLEANUP_EVERY_S:
            self._cleaned_at = time.monotonic()
            self._cleanup_orphans([n for n in self.service.host_names() if n not in errors])
        mine = [s for s in sessions if s.owner == self.service.settings.user]
        try:
            if self.service.enforce_expiry(mine):
                sessions, errors = self.service.list_all()
                mine = [s for s in sessions if s.owner == self.service.settings.user]
        except CanfarError as exc:
            log.warning("could not stop an expired session: %s", exc)
        statuses = {}
        for name in self.service.host_names():
            statuses[name] = (HostStatus(name, False, str(errors[name])) if name in errors
                              else self.service.host_status(name))
        return Snapshot(mine, errors, statuses)

    def _cleanup_orphans(self, names: list[str]) -> None:
        """Worker thread: remove what a launch interrupted by a crash (or SIGKILL) left behind."""
        for name in names:
            try:
                removed = self.service.cleanup_orphans(name)
            except CanfarError as exc:
                log.warning("could not clean up after interrupted launches on %s: %s", name, exc)
                continue
            if removed:
                log.info("cleaned up on %s: %s", name, ", ".join(removed))

    def _apply(self, snap: Snapshot) -> None:
        self._in_flight = False
        self.loaded = True
        kept = {(s.host, s.id): s for s in snap.sessions}
        # A host that failed keeps its last known sessions rather than showing them deleted.
        for key, s in self.sessions.items():
            if key[0] in snap.errors:
                kept.setdefault(key, s)
        self.sessions = kept
        self.statuses = snap.statuses
        for name, err in snap.errors.items():
            if name not in self.unreachable:
                self.unreachable[name] = err
                self.engine_unreachable.emit(name, err)
                self.diagnose(name)
        for name in list(self.unreachable):
            if name not in snap.errors:
                del self.unreachable[name]
                self._follow(name)
                wake = self._wake.get(name)
                if wake is not None:
                    wake.set()  # the follower reconnects now, not after its back-off
                self.engine_recovered.emit(name)
        launching = [s for s in self.sessions.values() if s.state == State.LAUNCHING]
        if launching:
            # Poll fast while a launch is young; an app that takes minutes to answer is polled gently.
            now = datetime.now(UTC)
            young = any(s.created is None or (now - s.created).total_seconds() < LAUNCHING_FAST_FOR_S
                        for s in launching)
            interval = LAUNCHING_MS if young else LAUNCHING_SLOW_MS
            if self._fast.interval() != interval:
                self._fast.setInterval(interval)
            if not self._fast.isActive():
                self._fast.start()
        else:
            self._fast.stop()
        self.changed.emit()
        self.host_status_changed.emit()
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, err: CanfarError) -> None:
        self._in_flight = False
        log.warning("refresh failed: %s", err)
        if self._again:
            self._again = False
            self.refresh()

    def diagnose(self, host: str) -> None:
        """Run the doctor's host checks in the background; the banner shows the findings."""
        def done(checks: list[Check]) -> None:
            self.diagnosis_ready.emit(host, checks)

        self.tasks.run(run_checks, self.service, None, host, on_done=done)

    # --- engine events ------------------------------------------------------------------------

    def _follow(self, host: str) -> None:
        thread = self._followers.get(host)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=self._follow_loop, args=(host,), name=f"canfar-events-{host}", daemon=True)
        self._followers[host] = thread
        thread.start()

    def _follow_loop(self, host: str) -> None:
        """Worker thread: read the host's event stream until stopped; reconnect after failures."""
        backoff = 1.0
        wake = self._wake.setdefault(host, threading.Event())
        while not self._stop.is_set():
            if host not in self.service.host_names():
                return  # removed in settings (see follow_hosts)
            try:
                stream = self.service.host(host).events(since=time.time())
                self._streams[host] = stream
                backoff = 1.0
                for raw in stream:
                    if self._stop.is_set():
                        return
                    event = parse_event(raw)
                    if event is None:
                        continue
                    if event.action in ("die", "start", "restart", "destroy", "kill", "oom"):
                        self.service.forget_readiness(event.container_id)
                    try:
                        self._event_seen.emit(host, event)
                    except RuntimeError:  # the store was deleted
                        return
            except Exception as exc:  # noqa: BLE001 - the stream ends in many ways; retry unless stopped
                log.debug("event stream of %s ended: %s", host, exc)
            finally:
                self._streams.pop(host, None)
            if self._stop.is_set():
                return
            try:
                self._stream_lost.emit(host)  # maybe the engine went away: look now
            except RuntimeError:  # the store was deleted
                return
            wake.wait(backoff)
            wake.clear()
            if self._stop.is_set():
                return
            backoff = min(backoff * 2, 10.0)

    def _on_event(self, host: str, event: object) -> None:
        self.engine_event.emit(host, event)
        cid = getattr(event, "container_id", "")
        if getattr(event, "action", "") in FAST_ACTIONS and any(
                key[0] == host and s.container_id == cid for key, s in self.sessions.items()):
            # the card follows at once with one inspect; the debounced listing catches the rest
            self.tasks.run(self._refresh_one, host, cid, on_done=self._apply_one, on_error=lambda _e: None)
        self.refresh_soon()

    def _refresh_one(self, host: str, container_id: str) -> Session:
        """Worker thread: one session re-read (the full listing takes several times longer)."""
        return self.service.refresh(self.service.host(host), container_id, probe=False)

    def _apply_one(self, s: Session) -> None:
        key = (s.host, s.id)
        if key in self.sessions and s.owner == self.service.settings.user:
            self.sessions[key] = s
            self.changed.emit()
