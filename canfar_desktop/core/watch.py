"""The session loop: keeps every host's sessions current and tells plain listeners what changed.

Per host, one thread follows the engine's event stream (reconnecting with back-off; a stream that
ends triggers a refresh at once, and a host that answers again wakes its follower). One loop
thread refreshes: soon after events (debounced), fast while a launch is young, and every few
seconds otherwise. Each refresh lists every host and stops sessions past their expiry; every few
minutes (the first time a few seconds after the first listing) it also removes what interrupted
launches left behind. The app's store, an API server or a headless agent subscribe; the CLI calls
`reconcile` once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import CanfarError
from .events import EngineEvent, parse_event
from .lifecycle import Facts, State, derive_state
from .log import get_logger
from .reconcile import Snapshot as Snapshot  # the listing's result, for subscribers
from .reconcile import reconcile as reconcile  # one pass, which the CLI runs alone
from .record import replace
from .registry import HostStatus
from .service import SessionService
from .session import Session

log = get_logger(__name__)

RECONCILE_S = 5.0
RECONCILE_UNSEEN_S = 15.0  # nobody looks (the window is minimised or in the tray): events still count at once
# How often launching sessions are probed, by the age of the youngest: most answer within seconds and
# are seen at once; one still silent after that (a big image, a job that never serves) costs less.
LAUNCHING_PROBE_S = ((15.0, 0.3), (60.0, 1.0), (float("inf"), 3.0))  # (younger than s, every s)
DEBOUNCE_S = 0.08
CLEANUP_EVERY_S = 300.0
CLEANUP_AFTER_START_S = 3.0  # the first clean-up waits a pass or two: the start's first listing comes first
BACKOFF_MAX_S = 10.0
FORGET_ACTIONS = ("die", "start", "restart", "destroy", "kill", "oom")  # the session must answer again
FAST_ACTIONS = ("die", "start", "oom", "kill", "restart", "stop", "pause", "unpause")  # one session re-read


class Listener:
    """What a subscriber hears; every method is called on a watcher thread."""

    def snapshot(self, snap: Snapshot) -> None: ...
    def session(self, s: Session) -> None: ...
    def event(self, host: str, event: EngineEvent) -> None: ...


class Relay(Listener):
    """Holds a watcher's reports until a listener is attached, then hands them on in order.

    The app starts its watcher before its window exists (ui/early_start.py), so the first listing runs
    while the window loads; the window's store attaches later and hears everything from the start.
    `first` is set once the first snapshot arrived (the skeleton shows it before the window is built).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[tuple[str, tuple[object, ...]]] = []
        self._to: Listener | None = None
        self.first = threading.Event()
        self.first_snapshot: Snapshot | None = None

    def snapshot(self, snap: Snapshot) -> None:
        if self.first_snapshot is None:
            self.first_snapshot = snap
            self.first.set()
        self._pass("snapshot", snap)

    def session(self, s: Session) -> None:
        self._pass("session", s)

    def event(self, host: str, event: EngineEvent) -> None:
        self._pass("event", host, event)

    def _pass(self, name: str, *args: object) -> None:
        with self._lock:
            if self._to is None:
                self._held.append((name, args))
                return
            to = self._to
        getattr(to, name)(*args)

    def attach(self, listener: Listener) -> None:
        """Replay what was held to `listener` (on this thread), then pass everything on as it comes."""
        with self._lock:  # a report arriving meanwhile waits, so the order is kept
            for name, args in self._held:
                getattr(listener, name)(*args)
            self._held = []
            self._to = listener


class Watcher:
    def __init__(self, service: SessionService, listener: Listener,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self.listener = listener
        self._clock = clock
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._due: float | None = None  # when the next refresh runs
        self._streams: dict[str, object] = {}
        self._followers: dict[str, threading.Thread] = {}
        self._wake: dict[str, threading.Event] = {}
        self._loop: threading.Thread | None = None
        self._cleaned_at: float | None = None
        self._unreachable: set[str] = set()
        self._known: dict[str, set[str]] = {}  # host -> container ids of the user's sessions
        self._last: list[Session] = []
        self._launching: list[Session] = []  # from the last listing, probed between listings
        self._probe_due: float | None = None
        self._oom_seen: set[str] = set()  # containers with an oom event this run (a die after it: out of memory)
        self.reconcile_s = RECONCILE_S

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._loop = threading.Thread(target=self._run, name="canfar-watch", daemon=True)
        self._loop.start()
        self.follow_hosts()
        self.refresh()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for wake in list(self._wake.values()):
            wake.set()
        for stream in list(self._streams.values()):
            _close(stream)
        self._streams.clear()

    def follow_hosts(self) -> None:
        """Follow every configured host's events; followers of removed hosts end by themselves."""
        names = set(self.service.host_names())
        for name in [n for n in self._streams if n not in names]:
            _close(self._streams.get(name))
        for name, wake in list(self._wake.items()):
            if name not in names:
                wake.set()
        self._unreachable &= names
        if not self._stop.is_set():
            for name in sorted(names):
                self._follow(name)

    # --- refreshing ---------------------------------------------------------------------------

    def refresh(self, delay: float = 0.0) -> None:
        """Refresh within `delay` seconds (an earlier request wins)."""
        with self._cond:
            due = self._clock() + delay
            if self._due is None or due < self._due:
                self._due = due
                self._cond.notify_all()

    def set_reconcile_interval(self, seconds: float) -> None:
        """How often to list when nothing happens; a pending periodic listing moves to the new time."""
        with self._cond:
            self.reconcile_s = seconds
            self._due = self._clock() + seconds
            self._cond.notify_all()

    def retry(self, host: str | None = None) -> None:
        """Forget broken connections and try again now (the banner's Retry)."""
        for name in [host] if host else list(self._unreachable):
            self._reset(name)
        wake = self._wake.get(host or "")
        if wake is not None:
            wake.set()
        self.refresh()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set():
                    now = self._clock()
                    due = min(t for t in (self._due, self._probe_due, float("inf")) if t is not None)
                    if due <= now:
                        break
                    self._cond.wait(None if due == float("inf") else due - now)
                if self._stop.is_set():
                    return
                full = self._due is not None and self._due <= self._clock()
                if full:
                    self._due = None
                self._probe_due = None
            try:
                if full:
                    self._full()
                else:
                    self._probe_launching()
            except Exception as exc:  # noqa: BLE001 - the loop must survive anything a host does
                log.warning("refresh failed: %s", exc)
                self.refresh(self.reconcile_s)

    def _full(self) -> None:
        snap = self._collect()
        self.refresh(self.reconcile_s)
        self._last = snap.sessions
        self._launching = [s for s in snap.sessions if s.state == State.LAUNCHING]
        self._schedule_probe()
        self.listener.snapshot(snap)
        self._cleanup_if_due(snap)  # after the report: a listing never waits for the clean-up

    def _schedule_probe(self) -> None:
        """While sessions launch, only they are looked at often: fast while a launch is young."""
        if not self._launching:
            return
        now = datetime.now(UTC)
        age = min(0.0 if s.created is None else (now - s.created).total_seconds() for s in self._launching)
        every = next(interval for younger, interval in LAUNCHING_PROBE_S if age < younger)
        with self._cond:
            self._probe_due = self._clock() + every
            self._cond.notify_all()

    def _probe_launching(self) -> None:
        """Probe the launching sessions that run (one HTTP request each, no listing); one that answers
        is re-read alone and reported. Containers still being created are seen by their start event."""
        still = []
        for s in self._launching:
            if s.status == "running" and s.host_port is not None and self.service.answers(s):
                try:
                    ready = self.service.refresh(s.host, s.container_id)
                except CanfarError:
                    continue
                self.listener.session(ready)
            else:
                still.append(s)
        self._launching = still
        self._schedule_probe()

    def _collect(self) -> Snapshot:
        for name in list(self._unreachable):
            self._reset(name)
        snap = reconcile(self.service)
        for s in self._last:
            if s.host in snap.errors:  # the engine may be restarting: its sessions must answer again
                self.service.forget_readiness(s.container_id)
        recovered = self._unreachable - set(snap.errors)
        self._unreachable = set(snap.errors)
        for name in recovered:
            self._follow(name)
            wake = self._wake.get(name)
            if wake is not None:
                wake.set()  # the follower reconnects now, not after its back-off
        self._known = {}
        for s in snap.sessions:
            self._known.setdefault(s.host, set()).add(s.container_id)
        statuses = {name: (HostStatus(name, False, str(snap.errors[name])) if name in snap.errors
                           else self.service.host_status(name)) for name in self.service.host_names()}
        return Snapshot(snap.sessions, snap.errors, statuses)

    def _cleanup_if_due(self, snap: Snapshot) -> None:
        """At most once per CLEANUP_EVERY_S, on the hosts that answered, the first time on a pass at least
        CLEANUP_AFTER_START_S after the first (the app's window loads meanwhile); a session it removed
        goes from the listeners' view with the listing it asks for at once."""
        now = self._clock()
        if self._cleaned_at is None:
            self._cleaned_at = now - CLEANUP_EVERY_S + CLEANUP_AFTER_START_S
            return
        if now - self._cleaned_at <= CLEANUP_EVERY_S:
            return
        self._cleaned_at = now
        if self._cleanup([n for n in self.service.host_names() if n not in snap.errors]):
            self.refresh()

    def _cleanup(self, names: list[str]) -> bool:
        """Whether anything was removed."""
        any_removed = False
        for name in names:
            try:
                removed = self.service.cleanup_orphans(name)
            except CanfarError as exc:
                log.warning("could not clean up after interrupted launches on %s: %s", name, exc)
                continue
            if removed:
                any_removed = True
                log.info("cleaned up on %s: %s", name, ", ".join(removed))
        return any_removed

    def _reset(self, name: str) -> None:
        try:
            self.service.reset_host(name)
        except CanfarError:
            pass

    # --- engine events ------------------------------------------------------------------------

    def _follow(self, host: str) -> None:
        thread = self._followers.get(host)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=self._follow_loop, args=(host,), name=f"canfar-events-{host}", daemon=True)
        self._followers[host] = thread
        thread.start()

    def _follow_loop(self, host: str) -> None:
        """Read the host's event stream until stopped; reconnect after failures."""
        backoff = 1.0
        wake = self._wake.setdefault(host, threading.Event())
        while not self._stop.is_set():
            if host not in self.service.host_names():
                return  # removed in settings
            try:
                stream = self.service.host(host).events(since=time.time())
                self._streams[host] = stream
                backoff = 1.0
                for raw in stream:
                    if self._stop.is_set():
                        return
                    event = parse_event(raw)
                    if event is not None:
                        self._on_event(host, event)
            except Exception as exc:  # noqa: BLE001 - the stream ends in many ways; retry unless stopped
                log.debug("event stream of %s ended: %s", host, exc)
            finally:
                self._streams.pop(host, None)
            if self._stop.is_set():
                return
            self.refresh()  # maybe the engine went away: look now
            wake.wait(backoff)
            wake.clear()
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _ended_now(self, host: str, event: EngineEvent) -> Session | None:
        for s in self._last:
            if s.host == host and s.container_id == event.container_id and s.status == "running":
                return ended_by(s, event, datetime.now(UTC), oom=event.container_id in self._oom_seen)
        return None

    def _on_event(self, host: str, event: EngineEvent) -> None:
        if event.action == "oom":
            self._oom_seen.add(event.container_id)
        if event.action in FORGET_ACTIONS:
            self.service.forget_readiness(event.container_id)
        self.listener.event(host, event)
        if event.action == "die":
            ended = self._ended_now(host, event)
            if ended is not None:  # the card follows the event at once; the inspect below refines it
                self.listener.session(ended)
        if event.action in FAST_ACTIONS and event.container_id in self._known.get(host, set()):
            # the card follows at once with one inspect; the debounced listing catches the rest
            s: Session | None
            if event.action == "oom":
                s = self.service.record_oom(host, event.container_id, event.when)
            else:
                try:
                    s = self.service.refresh(host, event.container_id, probe=False)
                except CanfarError:
                    s = None
            if s is not None and s.owner == self.service.settings.user:
                self.listener.session(s)
        if event.owner in (None, self.service.settings.user):  # another user's session is not listed
            self.refresh(DEBOUNCE_S)


def ended_by(s: Session, event: EngineEvent, now: datetime, oom: bool = False) -> Session:
    """A running session as its `die` event leaves it, with the state the event alone implies (`oom`: the
    engine reported an out-of-memory kill of the container just before)."""
    facts = Facts(status="exited", exit_code=event.exit_code, oom_killed=oom, finished_at=event.when,
                  expiry=s.expiry, memory_limit=s.memory_limit, created=s.created)
    state, reason = derive_state(facts, now)
    return replace(s, status="exited", exit_code=event.exit_code, oom_killed=oom, finished_at=event.when,
                   state=state, reason=reason)


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - a dead stream may fail to close in many ways
            pass
