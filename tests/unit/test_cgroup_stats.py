"""Glance readings from cgroup files, on fake cgroup trees: where a container's files are under cgroup v1
(cgroupfs and systemd drivers) and v2, what a reading holds (memory less inactive file, unlimited as the
machine's memory, block I/O summed), CPU % and rates from two readings, and the monitor hub reading every
glanced session of this computer's engine on one thread, falling back to the engine's stats elsewhere
(the same on a real engine is in tests/integration/test_cgroup_glances.py)."""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core import cgroup_stats, monitor
from canfar_desktop.core.cgroup_stats import Reading, find, read
from canfar_desktop.core.monitor import MonitorHub, Point

from ..helpers import wait_for

GIB = 2**30
V1_UNLIMITED = 9223372036854771712  # what memory.limit_in_bytes reads without a limit


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def v1_tree(root: Path, cid: str, place: str = "docker/{id}", cpu_ns: int = 5_000_000_000,
            limit: int = GIB) -> None:
    rel = place.format(id=cid)
    write(root / "cpuacct" / rel / "cpuacct.usage", f"{cpu_ns}\n")
    memory = root / "memory" / rel
    write(memory / "memory.usage_in_bytes", f"{300 * 2**20}\n")
    write(memory / "memory.limit_in_bytes", f"{limit}\n")
    # the container's own inactive_file differs from the hierarchy's total: `docker stats` takes the total
    write(memory / "memory.stat", f"cache 1\ninactive_file 7\ntotal_cache 2\ntotal_inactive_file {100 * 2**20}\n")
    write(memory / "cgroup.procs", f"{os.getpid()}\n")
    write(root / "pids" / rel / "pids.current", "4\n")
    write(root / "blkio" / rel / "blkio.throttle.io_service_bytes_recursive",
          "8:0 Read 1000\n8:0 Write 500\n8:0 Sync 1500\n8:0 Total 1500\n8:16 Read 24\n8:16 Write 0\nTotal 1524\n")


def v2_tree(root: Path, cid: str, place: str = "system.slice/docker-{id}.scope", usage_usec: int = 1500,
            limit: str = "max") -> None:
    folder = root / place.format(id=cid)
    write(folder / "cpu.stat", f"usage_usec {usage_usec}\nuser_usec 1000\nsystem_usec 500\n")
    write(folder / "memory.current", f"{200 * 2**20}\n")
    write(folder / "memory.max", f"{limit}\n")
    write(folder / "memory.stat", f"anon 1\nfile 2\ninactive_file {50 * 2**20}\nactive_file 3\n")
    write(folder / "pids.current", "2\n")
    write(folder / "io.stat", "8:0 rbytes=100 wbytes=40 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2\n")
    write(folder / "cgroup.procs", f"{os.getpid()}\n")


def cid() -> str:
    return secrets.token_hex(32)


# --- where the files are ------------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["docker/{id}", "system.slice/docker-{id}.scope"])
def test_finds_cgroup_v1_files_of_either_driver(tmp_path: Path, place: str) -> None:
    c = cid()
    v1_tree(tmp_path, c, place)
    rel = place.format(id=c)
    files = find(c, tmp_path)
    assert files is not None and not files.v2
    memory = tmp_path / "memory" / rel
    assert files.cpu == str(tmp_path / "cpuacct" / rel / "cpuacct.usage")
    assert (files.usage, files.limit, files.stat, files.procs) == (
        str(memory / "memory.usage_in_bytes"), str(memory / "memory.limit_in_bytes"), str(memory / "memory.stat"),
        str(memory / "cgroup.procs"))
    assert files.pids == str(tmp_path / "pids" / rel / "pids.current")
    assert files.io == str(tmp_path / "blkio" / rel / "blkio.throttle.io_service_bytes_recursive")


def test_v1_block_io_prefers_the_files_docker_reads_first(tmp_path: Path) -> None:
    c = cid()
    v1_tree(tmp_path, c)
    bfq = tmp_path / "blkio" / "docker" / c / "blkio.bfq.io_service_bytes_recursive"
    write(bfq, "8:0 Read 7\n")
    files = find(c, tmp_path)
    assert files is not None and files.io == str(bfq)


@pytest.mark.parametrize("place", ["system.slice/docker-{id}.scope", "docker/{id}"])
def test_finds_cgroup_v2_files_in_one_folder(tmp_path: Path, place: str) -> None:
    c = cid()
    v2_tree(tmp_path, c, place)
    folder = tmp_path / place.format(id=c)
    files = find(c, tmp_path)
    assert files is not None and files.v2
    assert (files.cpu, files.usage, files.limit, files.stat, files.pids, files.io, files.procs) == tuple(
        str(folder / name) for name in ("cpu.stat", "memory.current", "memory.max", "memory.stat", "pids.current",
                                        "io.stat", "cgroup.procs"))
    (folder / "io.stat").unlink()
    without_io = find(c, tmp_path)
    assert without_io is not None and without_io.io == ""


def test_no_files_means_ask_the_engine(tmp_path: Path) -> None:
    c = cid()
    v1_tree(tmp_path, c)
    assert find(cid(), tmp_path) is None, "another container's files are not this one's"
    assert find(c[:12], tmp_path) is None, "a short id could name several containers"
    assert find("../" + c[3:], tmp_path) is None and find("", tmp_path) is None
    (tmp_path / "memory" / "docker" / c / "memory.usage_in_bytes").unlink()
    assert find(c, tmp_path) is None, "CPU without memory is not enough for a glance"
    rootless = cid()  # a rootless engine's containers live under the user's own slice
    v2_tree(tmp_path, rootless, "user.slice/user-1000.slice/user@1000.service/docker-{id}.scope")
    assert find(rootless, tmp_path) is None


# --- what a reading holds -------------------------------------------------------------------------------


def test_reads_v1_counters_as_docker_stats_counts_them(tmp_path: Path) -> None:
    c = cid()
    v1_tree(tmp_path, c, limit=V1_UNLIMITED)
    files = find(c, tmp_path)
    assert files is not None
    r = read(files, limit_cap=16 * GIB)
    assert r is not None
    assert r.cpu_ns == 5_000_000_000
    assert r.memory_bytes == 200 * 2**20, "usage less the hierarchy's inactive file pages"
    assert r.limit_bytes == 16 * GIB, "no limit reads as the machine's memory"
    assert (r.pids, r.blk_read, r.blk_write) == (4, 1024, 500)
    assert r.net_rx is not None and r.net_tx is not None, "the network of the process listed in cgroup.procs"
    assert abs(r.t - time.time()) < 60 and r.at <= time.monotonic()

    write(Path(files.limit), f"{GIB}\n")
    limited = read(files, limit_cap=16 * GIB)
    assert limited is not None and limited.limit_bytes == GIB


def test_reads_v2_counters(tmp_path: Path) -> None:
    c = cid()
    v2_tree(tmp_path, c)
    files = find(c, tmp_path)
    assert files is not None
    r = read(files, limit_cap=8 * GIB)
    assert r is not None
    assert r.cpu_ns == 1_500_000, "usage_usec in nanoseconds"
    assert r.memory_bytes == 150 * 2**20 and r.limit_bytes == 8 * GIB
    assert (r.pids, r.blk_read, r.blk_write) == (2, 101, 42)
    write(Path(files.limit), f"{GIB}\n")
    limited = read(files, limit_cap=8 * GIB)
    assert limited is not None and limited.limit_bytes == GIB


def test_what_cannot_be_read(tmp_path: Path) -> None:
    c = cid()
    v1_tree(tmp_path, c)
    files = find(c, tmp_path)
    assert files is not None
    Path(files.procs).write_text("")  # no process left to tell the network
    Path(files.pids).unlink()
    Path(files.stat).write_text("cache 1\n")
    r = read(files)
    assert r is not None and r.pids == 0 and r.net_rx is None and r.net_tx is None
    assert r.memory_bytes == 300 * 2**20, "no inactive file count: the whole usage"
    Path(files.cpu).unlink()  # the container stopped: the engine removed its cgroup
    assert read(files) is None
    Path(files.cpu).write_text("not a number\n")
    assert read(files) is None


def reading(at: float, cpu_ns: int, net: int | None = 0, blk: int = 0) -> Reading:
    return Reading(at, 1000.0 + at, cpu_ns, 10, 20, 1, blk, blk // 2, net, None if net is None else net * 2)


def test_cpu_percent_and_rates_between_two_readings() -> None:
    before, now = reading(10.0, 1_000_000_000, net=100, blk=1000), reading(12.0, 2_600_000_000, net=300, blk=5000)
    assert now.cpu_percent(before) == pytest.approx(80.0), "1.6 s of CPU in 2 s: 80 % of one core"
    assert reading(12.0, 5_000_000_000).cpu_percent(before) == pytest.approx(200.0), "two cores busy"
    assert now.rates(before) == pytest.approx((100.0, 200.0, 2000.0, 1000.0))
    assert before.cpu_percent(now) == 0.0 and before.rates(now) == (0.0, 0.0, 0.0, 0.0), "counters that went back"
    assert now.cpu_percent(now) == 0.0, "no span, no rate"
    unknown = reading(12.0, 2_600_000_000, net=None)
    assert unknown.rates(before)[:2] == (0.0, 0.0), "an unread network counts as no traffic, not a spike"


# --- the hub: one reader for the local engine, the engine's stats elsewhere -----------------------------


@dataclass
class FakeSession:
    host: str
    id: str
    container_id: str
    status: str = "running"


class FakeHost:
    """The engine's stats, for sessions whose cgroup files are not readable here."""

    def __init__(self) -> None:
        self.one_shots = 0
        self.cpu = 0

    def stats(self, container_id: str, one_shot: bool = False) -> dict[str, Any]:
        self.one_shots += 1
        self.cpu += 10**8
        return {"read": datetime.now(UTC).isoformat(),
                "cpu_stats": {"cpu_usage": {"total_usage": self.cpu}, "system_cpu_usage": self.cpu * 4,
                              "online_cpus": 2},
                "memory_stats": {"usage": 5 * 2**20, "limit": GIB}, "pids_stats": {"current": 1}}

    def stats_stream(self, container_id: str) -> Any:
        while True:
            yield self.stats(container_id)
            time.sleep(0.02)  # the engine's pace, much shortened


class FakeService:
    def __init__(self) -> None:
        self.hosts = {"local": FakeHost(), "far": FakeHost()}
        self.registry = self

    def is_remote(self, name: str) -> bool:
        return name == "far"

    def host(self, name: str | None = None) -> FakeHost:
        return self.hosts[name or "local"]


def cgroup_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("canfar-stats-cgroup-")]


def stats_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("canfar-stats-")]


def test_hub_reads_every_local_glance_on_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroup_stats, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(cgroup_stats, "MIN_SPAN_S", 0.01)
    monkeypatch.setattr(monitor, "GLANCE_EVERY_S", 0.05)
    service = FakeService()
    local = [FakeSession("local", f"s{i}", cid()) for i in range(10)]
    for s in local:
        v1_tree(tmp_path, s.container_id)
    far = FakeSession("far", "remote1", cid())
    v1_tree(tmp_path, far.container_id)  # files with its id here still say nothing of a remote engine's container
    hidden = FakeSession("local", "vm1", cid())  # a local socket to an engine whose cgroups are elsewhere (a VM)
    hub = MonitorHub(service)  # type: ignore[arg-type]
    points: list[tuple[Any, Point]] = []
    hub.add_listener(lambda key, point: points.append((key, point)))
    try:
        hub.want("cards", [*local, far, hidden])
        keys = {(s.host, s.id) for s in [*local, far, hidden]}
        assert hub.streaming() == keys
        assert wait_for(lambda: all(hub.latest((s.host, s.id)) for s in [*local, far, hidden]), 10,
                        "a point for every glanced session")
        assert len(cgroup_threads()) == 1, "one reader for the ten local sessions"
        assert sorted(t.name for t in stats_threads() if t not in cgroup_threads()) == \
            ["canfar-stats-remote1", "canfar-stats-vm1"], "the others ask their engine, one thread each"
        assert len(hub.threads()) == 3
        before = service.hosts["local"].one_shots
        assert before >= 1, "the hidden one asked the engine"

        first = hub.latest(("local", "s0"))
        assert first is not None
        assert (first.memory_bytes, first.limit_bytes, first.pids) == (200 * 2**20, GIB, 4)
        (tmp_path / "cpuacct" / "docker" / local[0].container_id / "cpuacct.usage").write_text(f"{10**13}\n")
        assert wait_for(lambda: any(k == ("local", "s0") and p.cpu_percent > 1000 for k, p in points), 10,
                        "the CPU time that came shows as CPU %")

        # the panel wants every second of one: it leaves the reader for the engine's stream
        hub.want("panel", [local[1]])
        assert wait_for(lambda: [t.name for t in stats_threads() if t.name.endswith("s1")] == ["canfar-stats-s1"], 10,
                        "the panel's own stream")
        assert hub.streaming() == keys and len(cgroup_threads()) == 1
        hub.want("panel", [])
        assert wait_for(lambda: not [t for t in stats_threads() if t.name.endswith("s1")], 10,
                        "the panel's stream gives way to the reader again")
        assert hub.streaming() == keys

        # a container that stopped: its files go, and so does its reading
        for path in (tmp_path / "cpuacct" / "docker" / local[2].container_id).iterdir():
            path.unlink()
        assert wait_for(lambda: ("local", "s2") not in hub.streaming(), 10, "the stopped session dropped")
        assert len(cgroup_threads()) == 1

        hub.pause(True)
        assert hub.streaming() == set()
        assert wait_for(lambda: not hub.threads() and not stats_threads(), 10, "no reader while paused")
        hub.pause(False)
        assert wait_for(lambda: len(cgroup_threads()) == 1 and ("local", "s3") in hub.streaming(), 10,
                        "the reader back")
        hub.want("cards", [far])
        assert wait_for(lambda: not cgroup_threads(), 10, "no reader for an engine with nothing glanced")
        assert hub.streaming() == {("far", "remote1")}
    finally:
        hub.close()
    assert wait_for(lambda: not hub.threads() and not stats_threads(), 10, "no reader after close")


def test_reader_stops_at_once_and_reports_a_container_gone(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopping never waits out a cycle, and a session whose files went is dropped and reported once."""
    monkeypatch.setattr(cgroup_stats, "MIN_SPAN_S", 0.0)
    c = cid()
    v2_tree(tmp_path, c)
    files = find(c, tmp_path)
    assert files is not None
    pairs: list[tuple[Reading, Reading]] = []
    ended: list[Any] = []
    reader = cgroup_stats.CgroupReader("canfar-stats-cgroup-test", 0.05, lambda k, b, n: pairs.append((b, n)),
                                       ended.append)
    reader.add(("local", "a"), files)
    reader.start()
    assert wait_for(lambda: len(pairs) >= 2, 10, "readings with a baseline")
    assert all(n.at > b.at for b, n in pairs)
    Path(files.usage).unlink()
    assert wait_for(lambda: ended == [("local", "a")], 10, "the session reported gone")
    assert reader.sessions() == set() and reader.alive()
    slow = cgroup_stats.CgroupReader("canfar-stats-cgroup-slow", 3600.0, lambda k, b, n: None, ended.append)
    slow.start()
    slow.stop()
    reader.stop()
    assert wait_for(lambda: not slow.thread.is_alive() and not reader.thread.is_alive(), 5, "both readers gone")
