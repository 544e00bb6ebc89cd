"""A desktop session in a tab: noVNC connects to the session's VNC server and draws its canvas."""

from __future__ import annotations

from typing import Any

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

    # While the remote desktop has the keyboard, the app's shortcuts step aside.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    tab.view.setFocus()
    qtbot.waitUntil(lambda: not any(sc.isEnabled() for sc in window.shortcuts), timeout=5000)
    window.dashboard.new_button.setFocus()
    qtbot.waitUntil(lambda: all(sc.isEnabled() for sc in window.shortcuts), timeout=5000)
    screenshot(window, "desktop-tab.png", qtbot, settle_ms=2500)
