"""The troubleshooting panel on real sessions: live graphs of a busy one, its processes and logs,
the OOM diagnosis of a killed one, card sparklines, and no stream left once nothing shows them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.record import replace
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources

from .conftest import card_named, screenshot

BUSY = ("sh", "-c", "echo 'ready-marker: serving /lab?token=abc123secret'; echo 'spinning one core'; "
        "exec python3 -c 'while True: pass'")
OOM = ("python3", "-c", "b = [bytearray(32 * 2**20) for _ in range(64)]")


def launch(service: SessionService, image: str, name: str, command: tuple[str, ...], cores: float,
           ram_gb: float) -> Session:
    req = service.prepare_launch("contributed", image, name, Resources(mode="fixed", cores=cores, ram_gb=ram_gb))
    return service.launch(replace(req, command=command))


def stats_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("canfar-stats-")]


def test_panel_on_a_busy_and_an_oom_killed_session(qtbot: Any, make_app: Callable[..., Any],
                                                   session_images: dict[str, str]) -> None:
    parts = make_app()
    window = parts.window
    service = window.service
    busy = launch(service, session_images["contributed"], "busy-analysis", BUSY, 0.5, 1)
    qtbot.waitUntil(lambda: card_named(window, "busy-analysis") is not None
                    and card_named(window, "busy-analysis").session.status == "running", timeout=30_000)
    card = card_named(window, "busy-analysis")
    ts = parts.troubleshooting

    # the card's sparklines run while the card is on screen, on their own clock: no signal per reading
    signals: list[Any] = []
    parts.monitors.point.connect(lambda key, _p: signals.append(key))
    qtbot.waitUntil(lambda: card.monitors.isVisible() and len(card.monitors.cpu.values) >= 2, timeout=20_000)
    assert card.monitors.cpu.text.endswith("%") and "of 1 GB" in card.monitors.memory.text
    seen = len(card.monitors.cpu.values)
    qtbot.waitUntil(lambda: len(card.monitors.cpu.values) > seen, timeout=10_000)
    assert signals == [], "the cards alone wake the window for no reading"
    drawn: list[int] = []
    real_set_points = card.monitors.set_points
    card.monitors.set_points = lambda points: (drawn.append(len(points)), real_set_points(points))  # type: ignore[method-assign]
    sparklines = window.dashboard.sparklines
    assert sparklines is not None
    sparklines.repaint_cards()
    sparklines.repaint_cards()  # readings come every few seconds: none between these two
    assert len(drawn) <= 1, "a card is redrawn only when a reading came since it was last drawn"
    card.monitors.set_points = real_set_points  # type: ignore[method-assign]

    # the card's Troubleshoot button opens the panel on this session
    assert not ts.dock.isVisible()
    qtbot.mouseClick(card.troubleshoot_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ts.dock.isVisible() and ts.panel.active, timeout=5000)
    panel = ts.panel
    assert panel.key == (busy.host, busy.id)
    # the cards' glance reader hands over to the panel's stream: one reader once it has left
    qtbot.waitUntil(lambda: len([t for t in stats_threads() if t.name.endswith(busy.id)]) == 1, timeout=5000)

    # live CPU: several points above 35 % (one loop held at half a core)
    qtbot.waitUntil(lambda: sum(v > 35 for v in panel.cpu_chart.values()) >= 4, timeout=30_000)
    assert set(signals) == {(busy.host, busy.id)}, "the panel follows every reading"
    assert max(panel.cpu_chart.values()) < 75
    assert panel.memory_chart.limit_series is not None and panel.memory_chart.limit_series.count() == 2
    assert panel.pids_chart.values()[-1] >= 1

    # the host overview and the diagnosis list
    qtbot.waitUntil(lambda: "Docker" in panel.host_box.text() and "/arc" in panel.host_box.text(), timeout=20_000)
    assert "in use of" in panel.host_box.text() and "images" in panel.host_box.text()
    qtbot.waitUntil(lambda: any(c.id == "cpu" for c in panel.diagnosis.checks), timeout=30_000)

    # logs: followed, redacted, searchable
    panel.tabs.setCurrentWidget(panel.logs)
    qtbot.waitUntil(lambda: "spinning one core" in panel.logs.text.toPlainText(), timeout=15_000)
    assert "abc123secret" not in panel.logs.text.toPlainText() and "token=********" in panel.logs.text.toPlainText()
    qtbot.keyClicks(panel.logs.search, "ready-marker")
    qtbot.keyClick(panel.logs.search, Qt.Key.Key_Return)
    assert panel.logs.matches.text() == "1 match"
    assert panel.logs.text.textCursor().selectedText() == "ready-marker"
    assert panel.logs.find("no-such-words") == 0 and panel.logs.matches.text() == "no match"
    panel.logs.copy()
    assert "spinning one core" in QApplication.clipboard().text()

    # processes: the python loop, on top when sorted by CPU
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: any("python3 -c while True: pass" in c for c in panel.process_commands()),
                    timeout=15_000)
    assert "python3" in panel.process_commands()[0]
    # each process's user as the session knows it (the host may have another name, or none, for the uid)
    users = {panel.processes.table.item(r, 1).text() for r in range(panel.processes.table.rowCount())}
    assert service.settings.user in users, users

    # events: the engine's create and start
    panel.tabs.setCurrentWidget(panel.events)
    qtbot.waitUntil(lambda: {"create", "start"} <= {panel.events.topLevelItem(i).text(1)
                                                     for i in range(panel.events.topLevelItemCount())},
                    timeout=10_000)

    # the screenshot: live graphs of the busy session
    panel.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: sum(v > 35 for v in panel.cpu_chart.values()) >= 8, timeout=30_000)
    screenshot(ts.dock, "troubleshooting.png", qtbot)

    # the support report: copied, with the facts and without the secret
    with qtbot.waitSignal(panel.report_copied, timeout=30_000) as copied:
        qtbot.mouseClick(panel.report_button, Qt.MouseButton.LeftButton)
    report = copied.args[0]
    assert QApplication.clipboard().text() == report
    assert f"id:         {busy.id}" in report and "spinning one core" in report and "abc123secret" not in report
    assert "Launching" in report.split("== State history seen by the app this run")[1]

    # an OOM-killed session: "out of memory" with its limit and the fix
    oom = launch(service, session_images["contributed"], "too-big", OOM, 1, 0.25)
    qtbot.waitUntil(lambda: window.store.find(oom.id) is not None and window.store.find(oom.id).status == "exited",
                    timeout=60_000)
    panel.select((oom.host, oom.id))
    qtbot.waitUntil(lambda: any(c.id == "oom" for c in panel.diagnosis.checks), timeout=30_000)
    check = next(c for c in panel.diagnosis.checks if c.id == "oom")
    assert check.level == "fail" and check.verdict.startswith("out of memory")
    assert check.figure == "limit 256 MB" and "fixed session with more memory" in check.hint
    assert panel.diagnosis.checks[0].id in ("oom", "start"), "failures come first"
    assert "out of memory" in panel.diagnosis.text() and "limit 256 MB" in panel.diagnosis.text()
    assert panel.hub.wanted("panel") == set(), "a stopped session is not streamed"

    # hiding the panel drops its stream wish; a minimised window stops the cards' too: no reader left
    panel.select((busy.host, busy.id))
    qtbot.waitUntil(lambda: panel.hub.wanted("panel") == {(busy.host, busy.id)}, timeout=5000)
    ts.dock.hide()
    qtbot.waitUntil(lambda: not panel.active and panel.hub.wanted("panel") == set(), timeout=5000)
    assert panel.follower is None and not panel._process_timer.isActive()
    assert panel.hub.wanted("cards") == {(busy.host, busy.id)}
    window.showMinimized()
    qtbot.waitUntil(lambda: panel.hub.paused, timeout=5000)
    qtbot.waitUntil(lambda: not stats_threads(), timeout=10_000)
    assert window.store.watcher.reconcile_s == 15.0, "unseen, the periodic listing slows down"
    window.showNormal()
    qtbot.waitUntil(lambda: len(stats_threads()) == 1, timeout=10_000)
    assert window.store.watcher.reconcile_s == 5.0
