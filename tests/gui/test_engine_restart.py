"""The engine restarts while sessions run and the app is open (a private engine; never the machine's).

The window must notice the engine is gone, reconnect by itself when it is back, show the same
sessions, and those sessions must come back to Running by the restart policy set once they were
first ready, with what was written under /arc still there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import HostConfig

from ..integration.engine_fixtures import PrivateEngine, private_engine
from .conftest import screenshot, state_of

__all__ = ["private_engine"]  # the fixture, imported so pytest finds it here
PROOF = "survives-engine-restart.txt"


def _running(window: Any, names: list[str]) -> bool:
    return all(state_of(window, n) == State.RUNNING for n in names)


def test_engine_restart_app_reconnects_and_sessions_come_back(make_window: Any, qtbot: Any, tmp_path: Path,
                                                              private_engine: PrivateEngine,
                                                              session_images: dict[str, str]) -> None:
    window = make_window(hosts=[HostConfig(name="local", url=private_engine.url)], session_limit=4)
    service, store = window.service, window.store
    qtbot.waitUntil(lambda: store.loaded and "connected" in window.status.host_label.text(), timeout=20000)
    names = ["before-restart-1", "before-restart-2"]
    for name in names:
        service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"], name)), 60)
    qtbot.waitUntil(lambda: _running(window, names), timeout=30000)
    before = {(s.host, s.id, s.container_id) for s in store.all()}
    assert len(before) == 2
    # the restart policy is what brings them back: it must be set on both once they answered
    engine = private_engine.client()
    for _host, _sid, cid in before:
        policy = engine.api.inspect_container(cid)["HostConfig"]["RestartPolicy"]["Name"]
        assert policy == "unless-stopped", f"{cid[:12]} has restart policy {policy!r}"
    first = next(s for s in store.all() if s.name == names[0])
    user = service.settings.user
    wrote = engine.containers.get(first.container_id).exec_run(
        ["sh", "-c", f"echo kept > /arc/home/{user}/{PROOF} && sync"], user=str(service.settings.uid))
    assert wrote.exit_code == 0, wrote.output
    engine.close()
    on_host = Path(service.settings.arc_folder()) / "home" / user / PROOF
    assert on_host.read_text() == "kept\n"

    # The engine goes away: the window says so (without any click) and keeps the cards it knew.
    private_engine.stop()
    qtbot.waitUntil(lambda: window.banner.isVisible() and "unreachable" in window.status.host_label.text(), timeout=20000)
    assert {(s.host, s.id, s.container_id) for s in store.all()} == before, "cards kept while unreachable"
    screenshot(window, "engine-restart-unreachable.png")

    # It comes back: reconnect by itself, same sessions, both Running again (really probed).
    private_engine.start()
    qtbot.waitUntil(lambda: not window.banner.isVisible() and "connected" in window.status.host_label.text(),
                    timeout=30000)
    qtbot.waitUntil(lambda: {(s.host, s.id, s.container_id) for s in store.all()} == before, timeout=30000)
    qtbot.waitUntil(lambda: _running(window, names), timeout=60000)
    engine = private_engine.client()
    try:
        for _host, _sid, cid in before:
            state = engine.api.inspect_container(cid)["State"]
            assert state["Running"] and state["StartedAt"] > state.get("FinishedAt", ""), state
        read = engine.containers.get(first.container_id).exec_run(["cat", f"/arc/home/{user}/{PROOF}"],
                                                                  user=str(service.settings.uid))
    finally:
        engine.close()
    assert (read.exit_code, read.output) == (0, b"kept\n"), "the file under /arc is there after the restart"
    assert on_host.read_text() == "kept\n"
    assert private_engine.starts == 2
    # The event stream is followed again: a change made now reaches the card without the slow timer.
    store.watcher.set_reconcile_interval(3600)
    second = next(s for s in store.all() if s.name == names[1])
    engine = private_engine.client()
    try:
        engine.api.stop(second.container_id, timeout=0)  # a stop by hand: no restart
    finally:
        engine.close()
    qtbot.waitUntil(lambda: state_of(window, names[1]) != State.RUNNING, timeout=20000)
    screenshot(window, "engine-restart-recovered.png")
