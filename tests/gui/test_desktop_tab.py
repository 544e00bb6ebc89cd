"""A desktop session in a tab: noVNC connects to the session's VNC server and draws its canvas; the tab
says once that it takes every key, and F8 always gives the keyboard back to the app."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State

from .conftest import screenshot, state_of, wait_js_true

# Debian's noVNC 1.3 marks the document `noVNC_connected` once the RFB handshake (password included)
# succeeded, and draws the remote screen into a canvas inside #noVNC_container.
NOVNC_CONNECTED = ("document.documentElement.classList.contains('noVNC_connected')"
                   " && document.querySelector('#noVNC_container canvas') !== null"
                   " && document.querySelector('#noVNC_container canvas').width > 0")


def test_desktop_session_shows_connected_novnc(make_window: Any, qtbot: Any, session_images: dict[str, str]) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    req = window.service.prepare_launch("desktop", session_images["desktop"], "gui-desktop")
    window.launch(req)
    qtbot.waitUntil(lambda: state_of(window, "gui-desktop") == State.RUNNING, timeout=120000)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    assert tab.kind == "desktop"
    wait_js_true(qtbot, tab, NOVNC_CONNECTED, timeout=60000)

    # The first desktop tab says, once, which keys it takes and which key gives them back.
    assert tab.keys_hint.isVisible() and "F8" in tab.keys_hint.label.text() and "Ctrl+W" in tab.keys_hint.label.text()
    assert "F8" in window.return_action.text()  # and the View menu says it too

    # While the remote desktop has the keyboard, the app's shortcuts step aside; F8 always takes it back.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    tab.view.setFocus()
    qtbot.waitUntil(lambda: not any(sc.isEnabled() for sc in window.shortcuts), timeout=5000)
    assert window.return_shortcut.isEnabled()
    screenshot(window, "desktop-tab.png", qtbot, settle_ms=2500)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: all(sc.isEnabled() for sc in window.shortcuts), timeout=5000)
    assert QApplication.focusWidget() is window.tabs.tabBar()

    # Got it: the hint goes, and a desktop tab opened later does not say it again.
    qtbot.mouseClick(tab.keys_hint.ok_button, Qt.MouseButton.LeftButton)
    assert not tab.keys_hint.isVisible()
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(tab))
    qtbot.waitUntil(lambda: not window.session_tabs, timeout=15000)
    window.open_session(tab.session.id, tab.session.host)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    again = next(iter(window.session_tabs.values()))
    assert again is not tab and not again.keys_hint.isVisible()
