"""Resource samples of a session from the engine's stats: CPU %, memory against its limit, I/O, processes."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .cgroup_stats import CgroupFiles, CgroupGlances, CgroupReader, Reading, find
from .errors import CanfarError
from .record import asdict, record

if TYPE_CHECKING:
    from .service import SessionService
    from .session import Session


@record
class Sample:
    cpu_percent: float  # of one core, so 200 means two cores busy
    memory_bytes: int
    limit_bytes: int
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int
    throttled_periods: int = 0
    periods: int = 0

    @property
    def memory_mb(self) -> float:
        return self.memory_bytes / 1024**2

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["memory_mb"] = round(self.memory_mb, 1)
        data["limit_mb"] = round(self.limit_bytes / 1024**2, 1)
        data["cpu_percent"] = round(self.cpu_percent, 1)
        return data


def parse_stats(raw: dict[str, Any], previous: dict[str, Any] | None = None) -> Sample:
    """Turn one stats document into a Sample; CPU % needs the previous reading (or precpu_stats)."""
    cpu = raw.get("cpu_stats") or {}
    pre = (previous or {}).get("cpu_stats") or raw.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    sys_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    percent = (cpu_delta / sys_delta) * cpus * 100.0 if sys_delta > 0 and cpu_delta > 0 else 0.0
    mem = raw.get("memory_stats") or {}
    usage = int(mem.get("usage", 0))
    stats = mem.get("stats") or {}
    usage -= int(stats.get("inactive_file", stats.get("total_inactive_file", 0)))  # as `docker stats` does
    rx = tx = 0
    for net in (raw.get("networks") or {}).values():
        rx += int(net.get("rx_bytes", 0))
        tx += int(net.get("tx_bytes", 0))
    read = write = 0
    for entry in (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += int(entry.get("value", 0))
        elif op == "write":
            write += int(entry.get("value", 0))
    throttling = cpu.get("throttling_data") or {}
    return Sample(
        cpu_percent=percent,
        memory_bytes=max(0, usage),
        limit_bytes=int(mem.get("limit", 0)),
        net_rx=rx, net_tx=tx, blk_read=read, blk_write=write,
        pids=int((raw.get("pids_stats") or {}).get("current", 0)),
        throttled_periods=int(throttling.get("throttled_periods", 0)),
        periods=int(throttling.get("periods", 0)),
    )


def sample_once(service: SessionService, session: Session) -> Sample | None:
    """One sample (the engine waits about a second to measure CPU); None when it is not running."""
    try:
        raw = service.host(session.host).stats(session.container_id)
    except CanfarError:
        return None
    except Exception:  # noqa: BLE001 - the container may vanish mid-call
        return None
    if not raw or not raw.get("read") or raw.get("read", "").startswith("0001"):
        return None
    return parse_stats(raw)


# --- streaming ------------------------------------------------------------------------------------
#
# The engine's stats stream yields one document about every second and blocks in between, so each
# monitored session gets one reader thread. The hub owns those threads: whoever shows monitors
# (card sparklines, the troubleshooting panel) says which sessions it wants, and the hub keeps
# exactly one stream per wanted session and none for the rest. Sessions shown only at a glance on
# this computer's own engine are read from their cgroup files instead, by one thread per engine
# (cgroup_stats.py). Nothing here knows about Qt: listeners are plain callbacks, called on the
# reader thread.

Key = tuple[str, str]  # (host, session id)
Listener = Callable[[Key, "Point"], None]
HISTORY_POINTS = 300  # five minutes at one point a second
RESTART_AFTER_S = 3.0  # a stream that ended is not reopened sooner (a stopped container ends it at once)
GLANCE_EVERY_S = 3.0  # sessions shown only as card sparklines are read this often, not every second
GLANCE_OWNERS = frozenset({"cards"})  # owners content with a reading every few seconds


@record
class Point:
    """One reading with rates: what a graph plots. `t` is the engine's reading time (epoch seconds)."""

    t: float
    cpu_percent: float
    memory_bytes: int
    limit_bytes: int
    net_rx_rate: float  # bytes per second
    net_tx_rate: float
    blk_read_rate: float
    blk_write_rate: float
    pids: int


def reading_time(raw: dict[str, Any]) -> float | None:
    """The epoch time of a stats document; None for the zeroed document of a stopped container."""
    text = str(raw.get("read") or "")
    if not text or text.startswith("0001"):
        return None
    from .session import parse_time

    when = parse_time(text)
    return when.timestamp() if when else None


def to_point(t: float, sample: Sample, before: Sample | None, seconds: float) -> Point:
    """Rates from two cumulative samples `seconds` apart (counters that went back count as zero)."""
    def rate(now: int, then: int) -> float:
        return max(0.0, (now - then) / seconds) if before is not None and seconds > 0 else 0.0

    b = before or sample
    return Point(t, sample.cpu_percent, sample.memory_bytes, sample.limit_bytes,
                 rate(sample.net_rx, b.net_rx), rate(sample.net_tx, b.net_tx),
                 rate(sample.blk_read, b.blk_read), rate(sample.blk_write, b.blk_write), sample.pids)


class StatsStream:
    """One session's stats stream read on a daemon thread; each reading becomes a Point for `emit`."""

    def __init__(self, key: Key, open_stream: Callable[[threading.Event], Iterator[dict[str, Any]]],
                 emit: Callable[[Key, Point], None], ended: Callable[[StatsStream], None] | None = None,
                 glance: bool = False) -> None:
        self.key = key
        self._open = open_stream
        self._emit = emit
        self._ended = ended
        self.glance = glance  # True: one-shot readings every few seconds instead of the engine's stream
        self._stop = threading.Event()
        self.error = ""
        self.thread = threading.Thread(target=self._run, name=f"canfar-stats-{key[1]}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Ask the reader to stop; it leaves after the document it is waiting for (about a second)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def alive(self) -> bool:
        return self.thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        stream: Iterator[dict[str, Any]] | None = None
        try:
            stream = self._open(self._stop)
            previous_raw: dict[str, Any] | None = None
            previous: Sample | None = None
            previous_t = 0.0
            for raw in stream:
                if self._stop.is_set():
                    break
                t = reading_time(raw)
                if t is None:
                    break  # the container stopped
                sample = parse_stats(raw, previous_raw)
                if previous_raw is not None:  # the first document has no CPU baseline yet
                    self._emit(self.key, to_point(t, sample, previous, t - previous_t))
                previous_raw, previous, previous_t = raw, sample, t
        except CanfarError as exc:
            self.error = exc.message
        except Exception as exc:  # noqa: BLE001 - the container may vanish or the connection drop mid-stream
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a broken stream can fail in many ways
                    pass
            if self._ended is not None:
                self._ended(self)


class MonitorHub:
    """At most one stats stream per session, shared by everyone who shows it; ring buffers of Points.

    Owners (e.g. "cards", "panel") each declare the sessions they show with `want`; the hub streams
    the union and stops the rest. `pause(True)` stops everything (the app is minimised) and keeps
    the wishes, so `pause(False)` resumes them.
    """

    def __init__(self, service: SessionService, history: int = HISTORY_POINTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.service = service
        self._history_len = history
        self._clock = clock
        self._lock = threading.Lock()
        self._wants: dict[str, dict[Key, Any]] = {}
        self._streams: dict[Key, StatsStream] = {}
        self._ended_at: dict[Key, float] = {}
        self._history: dict[Key, deque[Point]] = {}
        self._listeners: list[Listener] = []
        self._glances = CgroupGlances(GLANCE_EVERY_S, self._record_glance, self._on_glance_ended)
        self._cgroups: dict[str, CgroupFiles | None] = {}  # container id -> its files; None: ask the engine
        self._paused = False
        self._closed = False

    # --- wishes ----------------------------------------------------------------------------------

    def want(self, owner: str, sessions: Iterable[Any]) -> None:
        """`owner` now shows exactly these sessions (Session objects; those not running are ignored)."""
        chosen = {(s.host, s.id): s for s in sessions if getattr(s, "status", "running") == "running"}
        # where a glanced session's counters are is looked up once, outside the lock (it reads a few files)
        found = {s.container_id: self._cgroup_files(s) for s in chosen.values()
                 if owner in GLANCE_OWNERS and s.container_id not in self._cgroups}
        with self._lock:
            self._cgroups.update(found)
            if chosen:
                self._wants[owner] = chosen
            else:
                self._wants.pop(owner, None)
        self._reconcile()

    def wanted(self, owner: str | None = None) -> set[Key]:
        with self._lock:
            if owner is not None:
                return set(self._wants.get(owner, {}))
            return {k for wants in self._wants.values() for k in wants}

    def pause(self, paused: bool) -> None:
        with self._lock:
            self._paused = paused
        self._reconcile()

    @property
    def paused(self) -> bool:
        return self._paused

    def close(self) -> None:
        """Stop every stream for good (the app quits)."""
        with self._lock:
            self._closed = True
            self._wants.clear()
        self._reconcile()

    # --- reading ---------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """`listener(key, point)` is called on a reader thread for every new Point."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def history(self, key: Key) -> list[Point]:
        with self._lock:
            return list(self._history.get(key, ()))

    def latest(self, key: Key) -> Point | None:
        with self._lock:
            points = self._history.get(key)
            return points[-1] if points else None

    def streaming(self) -> set[Key]:
        """Sessions with a live reader (stopping ones excluded)."""
        with self._lock:
            return {k for k, s in self._streams.items() if s.alive()} | self._glances.sessions()

    def threads(self) -> list[threading.Thread]:
        """Reader threads still running, stopping ones included (tests check none is left)."""
        with self._lock:
            return [s.thread for s in self._streams.values() if s.thread.is_alive()] + self._glances.threads()

    # --- internals -------------------------------------------------------------------------------

    def _reconcile(self) -> None:
        to_start: list[StatsStream | CgroupReader] = []
        with self._lock:
            wanted: dict[Key, Any] = {}
            if not self._paused and not self._closed:
                for wants in self._wants.values():
                    wanted.update(wants)
            glances = {key for key in wanted
                       if all(owner in GLANCE_OWNERS for owner, wants in self._wants.items() if key in wants)}
            for key, stream in list(self._streams.items()):
                if key not in wanted:
                    stream.stop()
                    if not stream.thread.is_alive():
                        del self._streams[key]
            now = self._clock()
            for key, s in wanted.items():
                glance = key in glances
                current = self._streams.get(key)
                if glance and self._read_cgroup(key, s, now, to_start):
                    if current is not None:
                        current.stop()  # the engine's stream or glances give way to the cgroup reader
                    continue
                if current is not None and current.alive():
                    if current.glance == glance:
                        continue
                    current.stop()  # someone now wants every second (or no longer does): switch
                elif now - self._ended_at.get(key, -1e9) < RESTART_AFTER_S:
                    continue
                stream = StatsStream(key, self._opener(s, glance), self._record, self._on_ended, glance)
                self._streams[key] = stream
                to_start.append(stream)
            self._glances.keep(glances)
        for runner in to_start:
            runner.start()

    def _cgroup_files(self, s: Any) -> CgroupFiles | None:
        """A session's cgroup files when its engine is this computer's own (a local socket), else None.

        Only the host's configuration is read: opening a host here could block the caller's thread."""
        try:
            if self.service.registry.is_remote(s.host):
                return None
        except CanfarError:  # a host no longer configured: the engine's path reports it
            return None
        return find(s.container_id)

    def _read_cgroup(self, key: Key, s: Any, now: float, to_start: list[StatsStream | CgroupReader]) -> bool:
        """Glance at `key` through its engine's cgroup reader (made when needed); False: ask the engine."""
        files = self._cgroups.get(s.container_id)
        if files is None:
            return False
        # a container that just stopped is not read again for a while, and not through the engine either
        if not self._glances.holds(key) and now - self._ended_at.get(key, -1e9) >= RESTART_AFTER_S:
            made = self._glances.add(key, files)
            if made is not None:
                to_start.append(made)
        return True

    def _record_glance(self, key: Key, before: Reading, now: Reading) -> None:
        self._record(key, Point(now.t, now.cpu_percent(before), now.memory_bytes, now.limit_bytes,
                                *now.rates(before), now.pids))

    def _on_glance_ended(self, key: Key) -> None:
        with self._lock:
            self._ended_at[key] = self._clock()
            self._glances.prune()  # its reader stops if that was its last session

    def _opener(self, s: Any, glance: bool) -> Callable[[threading.Event], Iterator[dict[str, Any]]]:
        def open_stream(stop: threading.Event) -> Iterator[dict[str, Any]]:
            return iter(self.service.host(s.host).stats_stream(s.container_id))

        def glances(stop: threading.Event) -> Iterator[dict[str, Any]]:
            host = self.service.host(s.host)
            while not stop.is_set():
                yield host.stats(s.container_id, one_shot=True)
                if stop.wait(GLANCE_EVERY_S):
                    return

        return glances if glance else open_stream

    def _record(self, key: Key, point: Point) -> None:
        with self._lock:
            points = self._history.get(key)
            if points is None:
                points = self._history[key] = deque(maxlen=self._history_len)
            points.append(point)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(key, point)
            except RuntimeError:  # a Qt receiver was deleted; the next `want` drops it
                pass

    def _on_ended(self, stream: StatsStream) -> None:
        with self._lock:
            if self._streams.get(stream.key) is stream:
                del self._streams[stream.key]
            if not stream.stopping:
                self._ended_at[stream.key] = self._clock()
