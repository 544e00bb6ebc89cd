"""Card glances of real sessions on this computer's engine come from their cgroup files: one reader thread
for all of them, no stats request to the engine, a busy session's CPU high, memory as the engine counts it,
and no thread left once nothing is glanced."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from canfar_desktop.core.cgroup_stats import find
from canfar_desktop.core.monitor import MonitorHub, parse_stats
from canfar_desktop.core.record import replace
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources

from ..helpers import wait_for


def launch(service: SessionService, image: str, name: str, command: tuple[str, ...], cores: float) -> Session:
    req = service.prepare_launch("notebook", image, name, Resources(mode="fixed", cores=cores, ram_gb=1))
    s = service.launch(replace(req, command=command))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, f"{name} running")
    return service.get(s.id)


def stats_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("canfar-stats-")]


def test_local_glances_read_cgroup_files_on_one_thread(make_service: Callable[..., SessionService],
                                                       session_images: dict[str, str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    service = make_service()
    image = session_images["notebook"]
    busy = launch(service, image, "burn", ("python3", "-c", "while True: pass"), 1)
    idle = [launch(service, image, f"idle{i}", ("sleep", "600"), 0.5) for i in range(2)]
    sessions = [busy, *idle]
    for s in sessions:
        assert find(s.container_id) is not None, "this engine's cgroup files are readable on this computer"
    engine = service.host(busy.host)
    asked: list[str] = []
    real_stats = engine.stats

    def counted(container_id: str, one_shot: bool = False) -> dict[str, Any]:
        asked.append(container_id)
        return real_stats(container_id, one_shot=one_shot)

    monkeypatch.setattr(engine, "stats", counted)

    hub = MonitorHub(service)
    keys = {(s.host, s.id) for s in sessions}
    try:
        hub.want("cards", sessions)
        assert hub.streaming() == keys
        assert wait_for(lambda: all(hub.latest(k) for k in keys), 20, "a glance of every session")
        names = [t.name for t in stats_threads()]
        assert names == [f"canfar-stats-cgroup-{busy.host}"], f"one reader for the engine's sessions: {names}"
        assert len(hub.threads()) == 1
        busy_key = (busy.host, busy.id)
        assert wait_for(lambda: any(p.cpu_percent > 50 for p in hub.history(busy_key)), 30,
                        "the busy loop's CPU above half a core")
        assert max(p.cpu_percent for p in hub.history(busy_key)) < 130, "held at one core"
        for s in idle:
            last = hub.latest((s.host, s.id))
            assert last is not None and last.cpu_percent < 20, f"a sleeping session is idle: {last}"
        assert asked == [], "no stats request to the engine for a glance"

        # memory and its limit as the engine's own stats count them
        last = hub.latest(busy_key)
        assert last is not None and last.pids >= 1
        sample = parse_stats(real_stats(busy.container_id, one_shot=True))
        assert 0 < last.memory_bytes < last.limit_bytes
        assert last.limit_bytes == sample.limit_bytes == 2**30
        assert abs(last.memory_bytes - sample.memory_bytes) < 16 * 2**20, (last.memory_bytes, sample.memory_bytes)

        # a stopped container leaves the reader; the reader stays one thread
        engine.stop(idle[0].container_id, timeout=1)
        assert wait_for(lambda: (idle[0].host, idle[0].id) not in hub.streaming(), 20, "the stopped one dropped")
        assert [t.name for t in stats_threads()] == [f"canfar-stats-cgroup-{busy.host}"]

        hub.pause(True)
        assert hub.streaming() == set()
        assert wait_for(lambda: not hub.threads() and not stats_threads(), 10, "no reader while paused")
        hub.pause(False)
        assert wait_for(lambda: len(stats_threads()) == 1 and busy_key in hub.streaming(), 10, "the reader back")
    finally:
        hub.close()
    assert wait_for(lambda: not hub.threads() and not stats_threads(), 10, "no reader after close")
