"""The window's layout with tabs open, at a small size: a session list that narrows (compact cards) with
a divider that works, a toggle that hides it (F9), Troubleshooting (F12) on the tab in front at a
modest height, a stopped page that never grows the window, and the window's size kept for next time."""

from __future__ import annotations

from typing import Any

import docker
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State
from canfar_desktop.ui.dashboard import COMPACT_WIDTH
from canfar_desktop.ui.troubleshooting import TroubleshootingPanel

from .conftest import card_named, screenshot, state_of


def press(qtbot: Any, window: Any, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget() or window, key, modifiers)


def drag_divider(qtbot: Any, window: Any, dx: int) -> None:
    """A person drags the divider between the list and the tabs with the mouse."""
    handle = window.splitter.handle(1)
    start = QPoint(handle.width() // 2, handle.height() // 2)
    QTest.mousePress(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 11):
        QTest.mouseMove(handle, start + QPoint(dx * step // 10, 0))
        qtbot.wait(10)  # not synchronisation: the moves of a drag are spread over time
    QTest.mouseRelease(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(dx, 0))


def test_narrow_list_toggle_troubleshooting_and_window_size(make_window: Any, qtbot: Any, paths: Any,
                                                             session_images: dict[str, str]) -> None:
    window = make_window()
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    made = [service.launch(service.prepare_launch("contributed", session_images["contributed"], name))
            for name in ("left-one", "right-one")]
    qtbot.waitUntil(lambda: all(state_of(window, s.name) == State.RUNNING for s in made), timeout=60000)
    window.resize(900, 600)
    for s in made:
        window.open_session(s.id, s.host)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 2, timeout=30000)
    qtbot.waitUntil(lambda: window.splitter.sizes()[0] > 0, timeout=5000)
    assert window.size() == QSize(900, 600)
    assert window.refresh_action.text().endswith("\tF5") and window.list_action.text().endswith("\tF9"), \
        "the menus show the keys"

    # The divider works: the list goes down to about 200 px, its cards turn compact, the page gets the room.
    drag_divider(qtbot, window, -(window.dashboard.width() - 150))
    qtbot.waitUntil(lambda: window.dashboard.width() <= 230, timeout=5000)
    assert window.tabs.width() >= 900 - 260
    card = card_named(window, "left-one")
    assert window.dashboard.width() < COMPACT_WIDTH and card.compact
    assert not card.image.isVisible() and not card.delete_button.isVisible() and card.more_button.isVisible()
    assert card.open_button.isVisible() and card.badge.isVisible()
    assert not window.dashboard.scroll.horizontalScrollBar().isVisible(), "no sideways scrolling in the list"
    screenshot(window, "narrow-list.png", qtbot, settle_ms=1000)
    assert card.mapTo(window.dashboard, QPoint(card.width(), 0)).x() <= window.dashboard.width()

    # F9 hides the list (the toolbar's Session list too); again, it comes back as narrow as it was.
    narrow = window.dashboard.width()
    press(qtbot, window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: not window.dashboard.isVisible() and window.tabs.width() >= 900 - 20, timeout=5000)
    assert not window.list_action.isChecked()
    screenshot(window, "list-hidden.png", qtbot, settle_ms=800)
    qtbot.mouseClick(window.list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.dashboard.isVisible() and abs(window.dashboard.width() - narrow) <= 8,
                    timeout=5000)

    # F12 opens Troubleshooting on the tab in front, at about a third of the window, and follows the tabs.
    right = next(t for t in window.session_tabs.values() if t.session.name == "right-one")
    window.tabs.setCurrentWidget(right)
    press(qtbot, window, Qt.Key.Key_F12)
    dock = window.troubleshooting_dock
    qtbot.waitUntil(dock.isVisible, timeout=5000)
    panel = window.findChild(TroubleshootingPanel)
    qtbot.waitUntil(lambda: panel.key == (right.session.host, right.session.id), timeout=5000)
    assert window.size() == QSize(900, 600), "the panel fits in the window; it does not grow it"
    qtbot.waitUntil(lambda: dock.height() <= window.height() * 0.42, timeout=5000)
    window.tabs.setCurrentIndex(window.tabs.indexOf(next(t for t in window.session_tabs.values() if t is not right)))
    left = made[0]
    qtbot.waitUntil(lambda: panel.key == (left.host, left.id), timeout=5000)
    screenshot(window, "troubleshooting-follows-tab.png", qtbot, settle_ms=800)
    press(qtbot, window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5000)

    # A session stops behind its tab's back: the tab says so, the window keeps its size.
    docker.from_env().containers.get(left.container_id).kill()
    tab = window.session_tabs[(left.host, left.id)]
    qtbot.waitUntil(lambda: tab.stopped, timeout=30000)
    window.tabs.setCurrentWidget(tab)
    qtbot.wait(300)  # not synchronisation: a layout pass, had the panel wanted more room
    assert window.size() == QSize(900, 600)

    # Closed (its pages asked, none objects) and opened again: the same size, the same list width.
    list_width = window.dashboard.width()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=15000)
    from canfar_desktop.ui.app import build_app

    again = build_app(service, paths, start=False)
    qtbot.addWidget(again.window)
    assert again.window.size() == QSize(900, 600)
    assert abs(again.window.place.list_width - list_width) <= 8
    again.runner.shutdown()
