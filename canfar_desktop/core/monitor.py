"""Resource samples of a session from the engine's stats: CPU %, memory against its limit, I/O, processes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import CanfarError


@dataclass(frozen=True)
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


def sample_once(service: Any, session: Any) -> Sample | None:
    """One sample (the engine waits about a second to measure CPU); None when it is not running."""
    try:
        raw = service.host(session.host).stats(session.container_id, stream=False)
    except CanfarError:
        return None
    except Exception:  # noqa: BLE001 - the container may vanish mid-call
        return None
    if not raw or not raw.get("read") or raw.get("read", "").startswith("0001"):
        return None
    return parse_stats(raw)
