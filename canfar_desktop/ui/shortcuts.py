"""The main window's keys: new session, close and switch tabs, refresh, the session list.

Window-wide shortcuts, so a key works wherever the focus is in the window; they step aside while a
remote desktop has the keyboard (it needs every key), and the key that gives the keyboard back never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QWidget

from .list_pane import TOGGLE_KEY as LIST_TOGGLE_KEY
from .tabs import RETURN_KEY

if TYPE_CHECKING:
    from .window import MainWindow


def install_shortcuts(window: MainWindow) -> tuple[list[QShortcut], QShortcut]:
    """The window's shortcuts, and the one that always returns the keyboard to the app."""
    def shortcut(keys: QKeySequence | str, slot: Any) -> QShortcut:
        sc = QShortcut(QKeySequence(keys), window)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(slot)
        return sc

    keys = [
        shortcut("Ctrl+N", lambda: window.new_session()),
        shortcut("Ctrl+W", window.close_current_tab),
        shortcut("Ctrl+Tab", lambda: window.session_area.switch(+1)),
        shortcut("Ctrl+Shift+Tab", lambda: window.session_area.switch(-1)),
        shortcut("Ctrl+Backtab", lambda: window.session_area.switch(-1)),
        shortcut("F5", window.refresh),
        shortcut(LIST_TOGGLE_KEY, window.list_pane.toggle),
    ]
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.focusChanged.connect(_StepAside(window, keys).focus_changed)
    return keys, shortcut(RETURN_KEY, window.list_pane.take_keyboard)  # never steps aside


class _StepAside(QObject):
    """Disables the shortcuts while a remote desktop's tab has the focus; a child of the window, so the
    application's focus signal stops reaching it with the window."""

    def __init__(self, window: QWidget, shortcuts: list[QShortcut]) -> None:
        super().__init__(window)
        self.shortcuts = shortcuts

    def focus_changed(self, _old: QWidget | None, now: QWidget | None) -> None:
        desktop = False
        widget = now
        while widget is not None:
            if hasattr(widget, "dispose") and getattr(widget, "kind", "") == "desktop":
                desktop = True
                break
            widget = widget.parentWidget()
        for sc in self.shortcuts:
            sc.setEnabled(not desktop)
