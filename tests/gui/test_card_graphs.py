"""What an idle window with live cards costs: a sparkline redraws only when its picture changes, says the
time its readings really cover, and busy bars keep no timer running while no card has one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.monitor import Point
from canfar_desktop.core.settings import Resources
from canfar_desktop.ui.card_graphs import CardMonitors
from canfar_desktop.ui.cards import PendingLaunch
from canfar_desktop.ui.dashboard import Dashboard

from .conftest import screenshot


class Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def points(n: int, cpu: float = 2.0, every_s: float = 3.0) -> list[Point]:
    return [Point(1000.0 + i * every_s, cpu, 200 * 2**20, 2**30, 0, 0, 0, 0, 3) for i in range(n)]


def test_a_sparkline_redraws_only_when_its_picture_changes(qtbot: Any) -> None:
    monitors = CardMonitors()
    qtbot.addWidget(monitors)
    monitors.resize(400, 30)
    monitors.show()
    qtbot.waitExposed(monitors)
    paints = Paints()
    monitors.cpu.installEventFilter(paints)
    monitors.set_points(points(10))
    qtbot.waitUntil(lambda: paints.count >= 1, timeout=5000)
    drawn = paints.count
    assert monitors.cpu.toolTip() == "CPU over the last 27 s: 2 %", "ten readings three seconds apart"
    assert monitors.cpu.line() is not None and len(monitors.cpu.line()) == 10  # type: ignore[arg-type]

    monitors.set_points(points(10))  # the same readings again: the same picture
    assert not monitors.cpu.visibleRegion().isEmpty()
    QApplication.processEvents()  # a repaint asked for would be delivered here (posted, not timed)
    assert paints.count == drawn, "the same values draw nothing"
    monitors.set_points(points(10, cpu=40.0))
    qtbot.waitUntil(lambda: paints.count > drawn, timeout=5000)
    assert monitors.cpu.text == "40 %"
    varied = [Point(1000.0 + 3 * i, [5, 12, 30, 55, 48, 70, 65, 40, 35, 42][i], (150 + 25 * i) * 2**20, 2**30,
                    0, 0, 0, 0, 3) for i in range(10)]
    monitors.set_points(varied)
    screenshot(monitors, "card-sparklines.png", qtbot)


def test_busy_bars_keep_a_timer_only_while_a_card_has_one(qtbot: Any) -> None:
    dashboard = Dashboard()
    qtbot.addWidget(dashboard)
    dashboard.resize(900, 600)
    dashboard.show()
    qtbot.waitExposed(dashboard)
    assert not dashboard._pulse.isActive(), "no card, no timer"
    launch = PendingLaunch("p1", "notebook", "pulling-one", "img", Resources(), "local", stage="pulling image")
    dashboard.show_sessions([], [launch], loaded=True)
    assert dashboard._pulse.isActive(), "a stage without a known fraction pulses"
    value = dashboard.cards["p1"].progress.value()
    qtbot.waitUntil(lambda: dashboard.cards["p1"].progress.value() != value, timeout=5000)
    dashboard._animate_cards(False)
    assert not dashboard._pulse.isActive(), "not while the window is off screen"
    dashboard._animate_cards(True)
    assert dashboard._pulse.isActive()
    dashboard.show_sessions([], [], loaded=True)
    qtbot.waitUntil(lambda: not dashboard._pulse.isActive(), timeout=5000)
