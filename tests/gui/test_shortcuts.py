"""The keyboard and the tab tools a person uses: Ctrl+Tab, Ctrl+Shift+Tab, F5, F12, reload, system browser.

The window runs on a private engine of this test's own: F5 is "list again now", and on the shared
engine any other test's container event makes the app list again too, which would hide whether F5
did anything. On this engine nothing happens that the test does not do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.record import replace
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import HostConfig

from ..integration.engine_fixtures import PrivateEngine, private_engine
from .conftest import card_named, js_value, state_of, wait_js_true

__all__ = ["private_engine"]  # the fixture, imported so pytest finds it here

ARC_BROWSER = "document.title === 'Arc browser' && document.body.innerText.includes('/arc/home')"


def press(qtbot: Any, window: Any, key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed where a person's key goes: the widget with the focus (a web page, often)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget() or window, key, modifiers)


def tool_button(tab: Any, text: str) -> Any:
    action = next(a for a in tab.toolbar.actions() if a.text() == text)
    return tab.toolbar.widgetForAction(action)


@pytest.fixture
def system_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `xdg-open` first on PATH that writes down what it was asked to open (what the desktop's would open)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    stub = bin_dir / "xdg-open"
    stub.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {opened}\n")
    stub.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return opened


def test_refresh_tab_keys_troubleshooting_reload_and_system_browser(
        make_window: Any, qtbot: Any, private_engine: PrivateEngine, session_images: dict[str, str],
        system_browser: Path) -> None:
    window = make_window(hosts=[HostConfig(name="local", url=private_engine.url)], session_lifetime_hours=1)
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=20000)
    names = ("tab-one", "tab-two", "tab-three")
    made = [service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"], n)),
                               60) for n in names]
    qtbot.waitUntil(lambda: all(state_of(window, n) == State.RUNNING for n in names), timeout=30000)

    # F5 lists again now. A renewal made elsewhere (another process's service) changes nothing the engine
    # reports, so only a listing shows it; the periodic listing is pushed an hour away first.
    window.store.watcher.set_reconcile_interval(3600)
    s = made[0]
    other = SessionService(replace(service.settings, session_lifetime_hours=5), service.paths)
    renewed = other.renew(s.id)
    assert renewed.expiry is not None and s.expiry is not None and renewed.expiry > s.expiry
    assert window.store.find(s.id).expiry == s.expiry, "nothing else listed meanwhile"
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.store.find(s.id).expiry == renewed.expiry, timeout=5000)

    # Each card's Open: three tabs.
    for name in names:
        qtbot.mouseClick(card_named(window, name).open_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda name=name: any(t.session.name == name for t in window.session_tabs.values()),
                        timeout=30000)
    tabs = window.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == list(names)

    # Ctrl+Tab moves right and wraps; Ctrl+Shift+Tab (Shift+Tab arrives as Backtab) moves left and wraps.
    tabs.setCurrentIndex(0)
    press(qtbot, window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentIndex() == 1
    press(qtbot, window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentIndex() == 0, "past the last tab comes the first"
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    press(qtbot, window, Qt.Key.Key_Backtab, shift_ctrl)
    assert tabs.currentIndex() == 2, "before the first tab comes the last"
    press(qtbot, window, Qt.Key.Key_Tab, shift_ctrl)
    assert tabs.currentIndex() == 1

    # Reload: the page is loaded again (a mark left in the old page is gone, the content is back).
    tab = tabs.currentWidget()
    wait_js_true(qtbot, tab, ARC_BROWSER, timeout=30000)
    js_value(qtbot, tab, "window.beforeReload = 'yes'")
    assert js_value(qtbot, tab, "window.beforeReload") == "yes"
    qtbot.mouseClick(tool_button(tab, "Reload the page"), Qt.MouseButton.LeftButton)
    wait_js_true(qtbot, tab, f"window.beforeReload === undefined && {ARC_BROWSER}", timeout=30000)

    # "Open in the system browser" hands the session's URL to the desktop's opener.
    qtbot.mouseClick(tool_button(tab, "Open in the system browser"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(system_browser.exists, timeout=10000)
    assert system_browser.read_text().splitlines() == [tab.session_url]
    assert not [t for t in window.messages.toasts if t.text == "No system browser could be started"]

    # F12 shows the troubleshooting panel and hides it again.
    dock = window.troubleshooting_dock
    assert not dock.isVisible()
    press(qtbot, window, Qt.Key.Key_F12)
    qtbot.waitUntil(dock.isVisible, timeout=5000)
    press(qtbot, window, Qt.Key.Key_F12)
    qtbot.waitUntil(lambda: not dock.isVisible(), timeout=5000)
