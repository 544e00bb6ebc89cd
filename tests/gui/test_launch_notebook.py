"""The main path, end to end: launch a notebook from the dialog, use it in a tab, close, reopen, delete."""

from __future__ import annotations

import json
import time
from typing import Any

import docker
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton

from canfar_desktop.core.lifecycle import State

from .conftest import card_named, press_in_modal, screenshot, state_of, wait_js_true

# The dock panel exists and the splash screen has gone: JupyterLab's shell is up and drawn.
JUPYTERLAB_LOADED = ("document.querySelector('#jp-main-dock-panel') !== null"
                     " && document.querySelector('#jupyterlab-splash') === null")


def test_notebook_from_dialog_to_delete(make_window: Any, qtbot: Any, paths: Any,
                                        session_images: dict[str, str]) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    assert window.dashboard.stack.currentWidget() is window.dashboard.empty
    assert window.dashboard.empty_heading.text() == "No sessions yet"
    screenshot(window, "empty-first-start.png")

    dialog = window.new_session("notebook")
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=15000)
    dialog.image.setCurrentText(session_images["notebook"])
    dialog.name.setText("gui-notebook")
    assert dialog.launch_button.isEnabled()
    assert "CPUs" in dialog.capacity.text()
    screenshot(dialog, "launch-dialog.png")
    started = time.monotonic()
    qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)

    # The card shows the launch, then Running; the tab opens by itself.
    qtbot.waitUntil(lambda: card_named(window, "gui-notebook") is not None, timeout=15000)
    qtbot.waitUntil(lambda: state_of(window, "gui-notebook") == State.RUNNING, timeout=120000)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    assert tab.kind == "notebook"
    wait_js_true(qtbot, tab, JUPYTERLAB_LOADED, timeout=60000)
    qtbot.waitUntil(lambda: "JupyterLab" in tab.page.title(), timeout=20000)
    print(f"launch click to live JupyterLab in its tab: {time.monotonic() - started:.1f} s")

    # The dialog remembered this choice for the next notebook.
    remembered = json.loads(paths.settings_file.read_text())["last_choices"]["notebook"]
    assert remembered["image"] == session_images["notebook"]
    again = window.new_session("notebook")
    qtbot.waitUntil(lambda: again.facts is not None, timeout=15000)
    assert again.image.currentText() == session_images["notebook"]
    again.reject()
    session = card_named(window, "gui-notebook").session
    assert session is not None and session.owner == window.service.settings.user
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "notebook-tab.png", qtbot, settle_ms=2000)

    # Closing the tab leaves the session running, seen as Suspended (no viewer connected).
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(tab))
    qtbot.waitUntil(lambda: not window.session_tabs, timeout=15000)  # the page agreed (nothing unsaved)
    qtbot.waitUntil(lambda: state_of(window, "gui-notebook") == State.SUSPENDED, timeout=30000)
    assert not window.tabs.isVisible()

    # Reopening from the card reconnects: Running again, JupyterLab again.
    card = card_named(window, "gui-notebook")
    assert card.open_button.isEnabled()
    qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    wait_js_true(qtbot, tab, JUPYTERLAB_LOADED, timeout=60000)
    qtbot.waitUntil(lambda: state_of(window, "gui-notebook") == State.RUNNING, timeout=30000)

    # Delete from the card, through the real confirmation box; the container is gone.
    seen = press_in_modal(qtbot, "Delete")
    qtbot.mouseClick(card_named(window, "gui-notebook").delete_button, Qt.MouseButton.LeftButton)
    assert seen["clicked"]
    assert "/arc" in seen["text"] and "/scratch" in seen["text"], "the box says what is kept and what goes"
    client = docker.from_env()
    qtbot.waitUntil(lambda: not client.containers.list(all=True, sparse=True, filters={"id": session.container_id}),
                    timeout=30000)
    qtbot.waitUntil(lambda: card_named(window, "gui-notebook") is None, timeout=15000)
    assert not window.session_tabs

    # No session left: the page says so (not "yet"), offers each kind, and the toolbar's New session is
    # the one New session button.
    dashboard = window.dashboard
    qtbot.waitUntil(lambda: dashboard.stack.currentWidget() is dashboard.empty, timeout=15000)
    assert dashboard.empty_heading.text() == "No sessions now"
    assert all(b.isVisible() for b in dashboard.kind_buttons.values()) and "notebook" in dashboard.kind_buttons
    news = [w for w in window.findChildren(QAbstractButton) if w.isVisible() and "New session" in w.text()]
    assert len(news) == 1, [w.text() for w in news]
    screenshot(window, "empty-after-sessions.png")
    picked = []
    window.new_session = lambda kind=None: picked.append(kind)  # type: ignore[method-assign]
    qtbot.mouseClick(dashboard.kind_buttons["desktop"], Qt.MouseButton.LeftButton)
    assert picked == ["desktop"], "a kind's tile opens the dialog on that kind"
