"""No lost work: the launch dialog's defaults launch a notebook, and a tab with unsaved work asks before it goes.

A person's path, with a real JupyterLab: New session with nothing changed (the image the CLI would
choose), type a cell and run it, then Ctrl+W: JupyterLab's own unsaved-changes question (its
beforeunload handler) reaches the person as a dialog of the app; keeping the page keeps the tab and
the work in it. Deleting the session and quitting the app ask the same way.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State

from .conftest import card_named, js_value, press_in_modal, screenshot, state_of, wait_js_true
from .test_launch_notebook import JUPYTERLAB_LOADED

NEW_NOTEBOOK = "document.querySelector('.jp-LauncherCard[data-category=\"Notebook\"]')"
CELL_EDITOR = "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content')"
RAN = ("Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
       ".some(o => o.innerText.includes('1764'))")
DIRTY = "document.querySelector('.lm-TabBar-tab.jp-mod-dirty') !== null"
# The notebook's kernel has started and waits (the server's own answer; the toolbar's indicator may be
# folded away in a narrow tab). Each poll asks again and reports the last answer.
KERNEL_IDLE = ("(fetch(location.pathname.split('/lab')[0] + '/api/kernels').then(r => r.json())"
               ".then(k => { window.kernelIdle = k.length > 0 && k.every(x => x.execution_state === 'idle'); }),"
               " window.kernelIdle === true)")
EDITING = "document.activeElement !== null && document.activeElement.classList.contains('cm-content')"


def press_ctrl_w(qtbot: Any, window: Any) -> None:
    """Ctrl+W where a person's Ctrl+W goes: the widget with the focus (the notebook page)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)


def type_and_run_a_cell(qtbot: Any, window: Any, tab: Any) -> None:
    """A new notebook from JupyterLab's launcher, a cell typed with real keys and run (Shift+Enter)."""
    wait_js_true(qtbot, tab, f"{NEW_NOTEBOOK} !== null", timeout=30000)
    js_value(qtbot, tab, f"{NEW_NOTEBOOK}.click(); true")
    wait_js_true(qtbot, tab, f"{CELL_EDITOR} !== null", timeout=60000)
    wait_js_true(qtbot, tab, KERNEL_IDLE, timeout=90000)  # a cell run before the kernel is there does not run
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    target = tab.view.focusProxy() or tab.view

    def click_into_the_cell() -> bool:
        """A real click into the cell's editor (the page may still be laying out: then again)."""
        box = json.loads(js_value(qtbot, tab, f"JSON.stringify({CELL_EDITOR}.getBoundingClientRect())"))
        zoom = tab.view.zoomFactor()
        where = QPoint(int((box["x"] + 20) * zoom), int((box["y"] + box["height"] / 2) * zoom))
        QTest.mouseClick(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
        return js_value(qtbot, tab, EDITING) is True

    qtbot.waitUntil(click_into_the_cell, timeout=20000)
    QTest.keyClicks(target, "42*42")
    QTest.keyClick(target, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    wait_js_true(qtbot, tab, RAN, timeout=90000)
    wait_js_true(qtbot, tab, DIRTY, timeout=10000)


def test_dialog_defaults_launch_a_notebook_and_unsaved_work_asks_first(
        make_window: Any, qtbot: Any, paths: Any, session_images: dict[str, str]) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)

    # New session, nothing changed but the name: the CLI's own default image, found on this host.
    dialog = window.new_session("notebook")
    assert dialog.image.currentText() == "", "nothing is filled in before the host's images are known"
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=15000)
    assert dialog.image.currentText() == window.service.default_image("notebook") == session_images["notebook"]
    assert dialog.image_note.text().startswith("on this host")
    dialog.name.setText("unsaved-work")
    qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(window, "unsaved-work") == State.RUNNING, timeout=180000)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=30000)
    remembered = json.loads(paths.settings_file.read_text())["last_choices"]["notebook"]
    assert remembered["image"] == session_images["notebook"], "remembered once the session was ready"

    tab = next(iter(window.session_tabs.values()))
    wait_js_true(qtbot, tab, JUPYTERLAB_LOADED, timeout=90000)
    type_and_run_a_cell(qtbot, window, tab)

    # Ctrl+W: JupyterLab objects, the app asks; keeping it keeps the tab and the cell.
    seen = press_in_modal(qtbot, "Keep the tab", within_s=30, shot="unsaved-work-question.png")
    press_ctrl_w(qtbot, window)
    qtbot.waitUntil(lambda: seen["clicked"] or seen["expired"], timeout=35000)
    assert seen["clicked"], "no question came before the tab closed"
    assert "not saved" in seen["text"] and "unsaved-work" in seen["text"], seen["text"]
    assert list(window.session_tabs.values()) == [tab] and window.tabs.indexOf(tab) >= 0
    assert js_value(qtbot, tab, RAN) is True, "the page and its cell are still there"
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "unsaved-work-kept.png", qtbot, settle_ms=1500)

    # Deleting the session asks the page too; keeping it cancels the delete.
    box = press_in_modal(qtbot, "Delete", within_s=15)
    page = press_in_modal(qtbot, "Keep the session", within_s=40, shot="unsaved-work-delete-question.png")
    session = card_named(window, "unsaved-work").session
    window.delete(session)
    qtbot.waitUntil(lambda: page["clicked"] or page["expired"], timeout=45000)
    assert box["clicked"] and page["clicked"], (box, page)
    assert "Deleting" in page["text"]
    assert window.tabs.indexOf(tab) >= 0 and state_of(window, "unsaved-work") == State.RUNNING
    assert any("not deleted" in t.text for t in window.messages.toasts)

    # Quitting asks as well: kept, the window stays. Then Ctrl+W and Close anyway: the tab goes.
    stay = press_in_modal(qtbot, "Keep it open", within_s=40)
    assert js_value(qtbot, tab, DIRTY) is True, "the notebook still has unsaved changes"
    window.close()
    qtbot.waitUntil(lambda: stay["clicked"] or stay["expired"], timeout=45000)
    assert stay["clicked"] and window.isVisible() and window.tabs.indexOf(tab) >= 0, stay
    go = press_in_modal(qtbot, "Close anyway", within_s=40)
    press_ctrl_w(qtbot, window)
    qtbot.waitUntil(lambda: not window.session_tabs, timeout=45000)
    assert go["clicked"]
    qtbot.waitUntil(lambda: state_of(window, "unsaved-work") == State.SUSPENDED, timeout=30000)
