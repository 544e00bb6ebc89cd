"""The main window's keys: new session, close and switch tabs, refresh, the session list.

Window-wide shortcuts, so a key works wherever the focus is in the window (a session tab that captures
keys, such as a desktop, still leaves the list key to give the keyboard back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut

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
    return keys, shortcut(RETURN_KEY, window.list_pane.take_keyboard)  # never steps aside
