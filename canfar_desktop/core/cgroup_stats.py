"""Glance readings of local sessions straight from their containers' cgroup files, on one thread.

Card sparklines want a reading every few seconds. Asked of the engine, that is one thread, one stats
request and one JSON decode per session each time; the kernel keeps the same counters in a few small
files that this computer can read directly, so for its own engine one thread reads them for every
glanced session. `find` answers None where the files are not this computer's to read (remote and
platform hosts, rootless engines, engines in a VM such as Docker Desktop, another cgroup parent): the
hub then keeps asking the engine. A full container id is 64 random hex digits, so a folder named
after it is that container's and no other's.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .record import record

Key = tuple[str, str]  # (host, session id), as the monitor hub keys sessions
CGROUP_ROOT = Path("/sys/fs/cgroup")
FULL_ID = re.compile(r"[0-9a-f]{64}")
# where the engine puts a container (under each controller for cgroup v1): the cgroupfs driver, then systemd's
PLACES = ("docker/{id}", "system.slice/docker-{id}.scope")
# v1 block I/O counters, in the order runc (and so `docker stats`) prefers them
V1_IO_FILES = ("blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive",
               "blkio.throttle.io_service_bytes_recursive")
MIN_SPAN_S = 1.0  # a reading this close to its baseline waits for the next cycle (too short to mean much)


@record
class CgroupFiles:
    """The paths of one container's counter files (plain strings: they are opened every few seconds)."""

    v2: bool
    cpu: str  # v2 cpu.stat (usage_usec), v1 cpuacct.usage (nanoseconds)
    usage: str  # memory.current, memory.usage_in_bytes
    limit: str  # memory.max, memory.limit_in_bytes
    stat: str  # memory.stat
    pids: str  # pids.current
    io: str  # v2 io.stat, v1 one of V1_IO_FILES; "" when there is none
    procs: str  # cgroup.procs: a process in the container, whose /proc entry tells its network traffic


@record
class Reading:
    """Cumulative counters of one container at one moment; rates and CPU % come from two of them."""

    at: float  # monotonic seconds, for spans
    t: float  # epoch seconds, what a graph plots
    cpu_ns: int
    memory_bytes: int  # usage less inactive file pages, as `docker stats` counts it
    limit_bytes: int
    pids: int
    blk_read: int
    blk_write: int
    net_rx: int | None  # None: the container's network namespace could not be read this time
    net_tx: int | None

    def cpu_percent(self, before: Reading) -> float:
        """CPU time over wall time since `before`, in % of one core (200 means two cores busy)."""
        span = self.at - before.at
        return max(0.0, (self.cpu_ns - before.cpu_ns) / (span * 1e9) * 100.0) if span > 0 else 0.0

    def rates(self, before: Reading) -> tuple[float, float, float, float]:
        """Bytes per second since `before`: network in, out, disk read, write (counters that went back: 0)."""
        span = self.at - before.at

        def rate(now: int | None, then: int | None) -> float:
            return max(0.0, (now - then) / span) if now is not None and then is not None and span > 0 else 0.0

        return (rate(self.net_rx, before.net_rx), rate(self.net_tx, before.net_tx),
                rate(self.blk_read, before.blk_read), rate(self.blk_write, before.blk_write))


def find(container_id: str, root: Path | None = None) -> CgroupFiles | None:
    """The container's counter files on this computer, or None when they are not where the engine puts them."""
    if not FULL_ID.fullmatch(container_id):
        return None
    root = root or CGROUP_ROOT
    for place in PLACES:
        d = root / place.format(id=container_id)
        if (d / "cpu.stat").is_file() and (d / "memory.current").is_file():
            io = str(d / "io.stat") if (d / "io.stat").is_file() else ""
            return CgroupFiles(True, str(d / "cpu.stat"), str(d / "memory.current"), str(d / "memory.max"),
                               str(d / "memory.stat"), str(d / "pids.current"), io, str(d / "cgroup.procs"))
    for place in PLACES:
        rel = place.format(id=container_id)
        cpu, mem, blkio = root / "cpuacct" / rel / "cpuacct.usage", root / "memory" / rel, root / "blkio" / rel
        if cpu.is_file() and (mem / "memory.usage_in_bytes").is_file():
            io = next((str(blkio / name) for name in V1_IO_FILES if (blkio / name).is_file()), "")
            return CgroupFiles(False, str(cpu), str(mem / "memory.usage_in_bytes"), str(mem / "memory.limit_in_bytes"),
                               str(mem / "memory.stat"), str(root / "pids" / rel / "pids.current"), io,
                               str(mem / "cgroup.procs"))
    return None


def machine_memory() -> int:
    """This computer's memory: what an unlimited container's limit reads as (as the engine reports it)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 0


MACHINE_MEMORY = machine_memory()


def _read(path: str) -> bytes:
    """A small kernel file's content, without a buffered file object (this runs for every session, often)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _field(data: bytes, name: bytes) -> int:
    """The value of `name value` in a flat-keyed file (cpu.stat, memory.stat); 0 when absent."""
    data = b"\n" + data
    at = data.find(b"\n" + name + b" ")
    if at < 0:
        return 0
    end = data.find(b"\n", at + 1)
    return int(data[at + len(name) + 2:end if end > 0 else None])


def _io(path: str, v2: bool) -> tuple[int, int]:
    """Bytes read and written, summed over devices; zeros when the file is missing or unreadable."""
    read = write = 0
    try:
        for line in _read(path).split(b"\n") if path else ():
            parts = line.split()
            if v2:  # "8:0 rbytes=1 wbytes=2 rios=3 ..."
                for part in parts[1:]:
                    key, _, value = part.partition(b"=")
                    if key == b"rbytes":
                        read += int(value)
                    elif key == b"wbytes":
                        write += int(value)
            elif len(parts) == 3 and parts[1] == b"Read":  # "8:0 Read 1234"
                read += int(parts[2])
            elif len(parts) == 3 and parts[1] == b"Write":
                write += int(parts[2])
    except (OSError, ValueError):
        return 0, 0
    return read, write


def _net(procs: str) -> tuple[int | None, int | None]:
    """Bytes received and sent by the container's interfaces (all but loopback, as `docker stats`)."""
    try:
        pid = int(_read(procs).split(maxsplit=1)[0])
        rx = tx = 0
        for line in _read(f"/proc/{pid}/net/dev").split(b"\n")[2:]:
            name, _, counters = line.partition(b":")
            if counters and name.strip() != b"lo":
                fields = counters.split()
                rx += int(fields[0])
                tx += int(fields[8])
        return rx, tx
    except (OSError, ValueError, IndexError):  # no process left, or it left between the two reads
        return None, None


def read(files: CgroupFiles, limit_cap: int = MACHINE_MEMORY) -> Reading | None:
    """The container's counters now; None when CPU or memory cannot be read (the container is gone)."""
    at, t = time.monotonic(), time.time()
    try:
        cpu = _read(files.cpu)
        cpu_ns = _field(cpu, b"usage_usec") * 1000 if files.v2 else int(cpu)
        usage = int(_read(files.usage))
        limit_text = _read(files.limit).strip()
        limit = 0 if limit_text == b"max" else int(limit_text)
        inactive = _field(_read(files.stat), b"inactive_file" if files.v2 else b"total_inactive_file")
    except (OSError, ValueError):
        return None
    if limit_cap and (limit <= 0 or limit > limit_cap):
        limit = limit_cap  # unlimited reads as a huge number (v1) or "max" (v2)
    try:
        pids = int(_read(files.pids))
    except (OSError, ValueError):
        pids = 0
    blk_read, blk_write = _io(files.io, files.v2)
    net_rx, net_tx = _net(files.procs)
    memory = usage - inactive if inactive < usage else usage
    return Reading(at, t, cpu_ns, memory, limit, pids, blk_read, blk_write, net_rx, net_tx)


class CgroupReader:
    """One thread reading every glanced session of one engine every `every` seconds.

    A session added is read at once for its baseline, so its first reading with a rate comes at the
    next cycle. `emit(key, before, now)` gets each pair of readings; `ended(key)` says a session's files
    went away (its container stopped), after the reader dropped it. Both are called on the reader's
    thread, never while it holds its own lock.
    """

    def __init__(self, name: str, every: float, emit: Callable[[Key, Reading, Reading], None],
                 ended: Callable[[Key], None]) -> None:
        self.every = every
        self._emit = emit
        self._ended = ended
        self._cond = threading.Condition()
        self._files: dict[Key, CgroupFiles] = {}
        self._fresh: set[Key] = set()  # added since the last pass: their baseline is due now
        self._stop = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def add(self, key: Key, files: CgroupFiles) -> None:
        with self._cond:
            if key not in self._files:
                self._files[key] = files
                self._fresh.add(key)
                self._cond.notify()

    def remove(self, key: Key) -> None:
        with self._cond:
            self._files.pop(key, None)
            self._fresh.discard(key)

    def sessions(self) -> set[Key]:
        with self._cond:
            return set(self._files)

    def stop(self) -> None:
        """Ask the thread to leave; it does at once, or after the pass it is in (a few file reads)."""
        with self._cond:
            self._stop = True
            self._cond.notify()

    @property
    def stopping(self) -> bool:
        return self._stop

    def alive(self) -> bool:
        return self.thread.is_alive() and not self._stop

    def _run(self) -> None:
        previous: dict[Key, Reading] = {}
        due = 0.0
        while True:
            with self._cond:
                while not self._stop and not self._fresh and (wait := due - time.monotonic()) > 0:
                    self._cond.wait(wait)
                if self._stop:
                    return
                files = dict(self._files)
                fresh, self._fresh = self._fresh, set()
            now = time.monotonic()
            cycle = now >= due
            if cycle:
                due = now + self.every
            for key in list(previous):
                if key not in files:
                    del previous[key]
            for key in files if cycle else fresh & files.keys():
                if self._stop:
                    return  # paused or closed mid-pass: no reading after that
                reading = read(files[key])
                if reading is None:
                    self._gone(key, files[key])
                    continue
                before = previous.get(key)
                if before is None or key in fresh:
                    previous[key] = reading  # a baseline: CPU % needs a span
                elif reading.at - before.at >= MIN_SPAN_S:
                    previous[key] = reading
                    try:
                        self._emit(key, before, reading)
                    except Exception:  # noqa: BLE001 - one failing listener must not end every session's glances
                        pass

    def _gone(self, key: Key, files: CgroupFiles) -> None:
        with self._cond:
            if self._files.get(key) is not files or self._stop:
                return
            del self._files[key]
        self._ended(key)


class CgroupGlances:
    """The hub's cgroup readers: one per engine (host name) with glanced sessions, none for the others.

    It has no lock of its own: the monitor hub calls it under its lock.
    """

    def __init__(self, every: float, emit: Callable[[Key, Reading, Reading], None],
                 ended: Callable[[Key], None]) -> None:
        self.every = every
        self._emit = emit
        self._ended = ended
        self._readers: dict[str, CgroupReader] = {}
        self._retired: list[CgroupReader] = []  # asked to stop, until their thread has left

    def holds(self, key: Key) -> bool:
        reader = self._readers.get(key[0])
        return reader is not None and key in reader.sessions()

    def sessions(self) -> set[Key]:
        """Sessions read by a live reader."""
        return {key for r in self._readers.values() if r.alive() for key in r.sessions()}

    def threads(self) -> list[threading.Thread]:
        """Reader threads still running, stopping ones included."""
        self._retired = [r for r in self._retired if r.thread.is_alive()]
        return [r.thread for r in (*self._readers.values(), *self._retired) if r.thread.is_alive()]

    def add(self, key: Key, files: CgroupFiles) -> CgroupReader | None:
        """Read `key` on its engine's reader; a reader made for it is returned, for the caller to start."""
        reader = self._readers.get(key[0])
        made: CgroupReader | None = None
        if reader is None:
            reader = made = self._readers[key[0]] = CgroupReader(f"canfar-stats-cgroup-{key[0]}", self.every,
                                                                 self._emit, self._ended)
        reader.add(key, files)
        return made

    def keep(self, keys: set[Key]) -> None:
        """Stop reading every session but these; a reader left with none stops (no idle thread)."""
        for reader in self._readers.values():
            for key in reader.sessions() - keys:
                reader.remove(key)
        self.prune()

    def prune(self) -> None:
        """Stop the readers left with no session (the last one's container went away)."""
        self._retired = [r for r in self._retired if r.thread.is_alive()]
        for host, reader in list(self._readers.items()):
            if not reader.sessions():
                del self._readers[host]
                reader.stop()
                self._retired.append(reader)
