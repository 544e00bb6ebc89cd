"""Session tabs: a stopped session shows why in its tab; shortcuts; a failed launch keeps its reason."""

from __future__ import annotations

import json
from typing import Any

import docker
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.plan import LaunchRequest
from canfar_desktop.core.settings import Resources

from .conftest import card_named, js_value, screenshot, state_of, wait_js_true


def test_tab_tools_shortcuts_and_stopped_session(make_window: Any, qtbot: Any,
                                                 session_images: dict[str, str]) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    req = window.service.prepare_launch("contributed", session_images["contributed"], "web-app")
    window.launch(req)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=60000)
    tab = next(iter(window.session_tabs.values()))
    qtbot.waitUntil(lambda: tab.page.url().toString().startswith("http://127.0.0.1:"), timeout=10000)
    # The page itself, not only its address: the web app lists the session's /arc/home.
    wait_js_true(qtbot, tab, "document.title === 'Arc browser' && document.body.innerText.includes('/arc/home')",
                 timeout=30000)
    listed = json.loads(js_value(qtbot, tab, "JSON.stringify(Array.from(document.querySelectorAll('h2 + ul')[0]"
                                             ".querySelectorAll('li')).map(li => li.textContent))"))
    assert listed == [window.service.settings.user], f"/arc/home in the page lists {listed}"

    # Zoom and copy URL (with its warning).
    tab.zoom_in()
    assert tab.view.zoomFactor() > 1.0 and tab.zoom_label.text() == "110 %"
    tab.zoom_reset()
    assert tab.view.zoomFactor() == 1.0
    tab.copy_url()
    assert QGuiApplication.clipboard().text() == tab.session_url
    assert any("secret" in t.hint for t in window.messages.toasts)

    # Window shortcuts work while a web-app tab has focus: Ctrl+N opens the launch dialog.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None
                    or any(w.windowTitle() == "New session" and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=5000)
    for w in QApplication.topLevelWidgets():
        if w.windowTitle() == "New session" and w.isVisible():
            w.close()

    # The container stops behind the tab's back: the tab says so instead of a browser error page.
    # It takes no more room than the page did: a small window keeps its size.
    session = card_named(window, "web-app").session
    window.resize(860, 560)
    qtbot.waitUntil(lambda: window.size().width() == 860, timeout=5000)
    before = window.size()
    docker.from_env().containers.get(session.container_id).kill()
    qtbot.waitUntil(lambda: tab.stopped, timeout=15000)
    assert tab.stack.currentWidget() is tab.stopped_panel
    QApplication.processEvents()
    assert window.size() == before and window.minimumSizeHint().width() <= before.width(), \
        (before, window.size(), window.minimumSizeHint())
    assert "has stopped" in tab.stopped_panel.title.text()
    assert not tab.stopped_panel.renew_button.isVisible()
    qtbot.waitUntil(lambda: state_of(window, "web-app") == State.FAILED, timeout=15000)
    card = card_named(window, "web-app")
    assert card.reason.full_text() == "killed (SIGKILL, exit code 137)", "Failed, with the signal that ended it"
    assert "SIGKILL" in tab.stopped_panel.reason.text(), tab.stopped_panel.reason.text()
    # A failed session's card offers Launch again (not a Renew that cannot work) and its whole reason.
    assert card.retry_button.isVisible() and card.retry_button.text() == "Launch again"
    assert not card.renew_button.isVisible() and card.details_button.isVisible()
    screenshot(window, "session-stopped.png")
    # a reason with long unbreakable words (an image reference, a path) wraps within the tab
    panel = tab.stopped_panel
    panel.show_state("abcdefghijabcdefghijabcdefghij12", State.FAILED,
                     "image images.canfar.net/skaha/astroml-notebook-with-a-long-name:latest " + "x" * 150)
    QApplication.processEvents()
    lines = panel.reason.heightForWidth(panel.width()) / panel.reason.fontMetrics().lineSpacing()
    assert lines >= 3 and window.size() == before, (lines, window.size())
    assert panel.accessibleName() == "“abcdefghijabcdefghijabcdefghij12” has stopped: Failed"
    again = window.retry(card.session)
    qtbot.waitUntil(lambda: again.facts is not None, timeout=15000)
    assert (again.kind, again.name.text(), again.image.currentText()) == \
        ("contributed", "web-app", session_images["contributed"])
    again.reject()

    # Ctrl+W closes the tab; the card stays.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.session_tabs, timeout=5000)
    assert card_named(window, "web-app") is not None


def test_failed_launch_shows_reason_on_its_card(make_window: Any, qtbot: Any) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    req = LaunchRequest(kind="contributed", image="canfar-desktop/does-not-exist:latest", name="no-image",
                        resources=Resources(), env={})
    pending = window.launch(req)
    qtbot.waitUntil(lambda: pending.error is not None, timeout=60000)
    card = card_named(window, "no-image")
    assert card is not None and card.state == State.FAILED
    assert "does-not-exist" in card.reason.full_text()
    assert card.dismiss_button.isVisible() and not card.open_button.isVisible()
    assert any(t.level == "error" for t in window.messages.toasts)
    qtbot.mouseClick(card.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card_named(window, "no-image") is None, timeout=5000)
