"""The session list beside the tabs: how wide it is, the divider, the toggle that hides it (F9), and
F8, the key that always takes the keyboard back from a remote desktop.

Without tabs the list is the whole page; with tabs it keeps the width it was given last (down to
the dashboard's MIN_WIDTH, where its cards are compact), or stays hidden if it was hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QSplitter, QTabWidget, QToolBar, QWidget

from . import icons
from .dashboard import MIN_WIDTH
from .tabs import RETURN_KEY

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from .window_state import WindowState

TOGGLE_KEY = "F9"


def action(window: QWidget, text: str, icon_name: str, tip: str, keys: str) -> QAction:
    """An action whose keys are shown beside it in menus (the window's shortcuts handle the keys)."""
    act = QAction(f"{text}\t{keys}", window)
    act.setIconText(text.replace("&", ""))
    icons.set_icon(act, icon_name)
    act.setToolTip(tip)
    act.setStatusTip(tip)
    return act


class ListPane(QObject):
    """The list's width, divider and toggle, and F8; `window` keeps its place between runs."""

    def __init__(self, window: QMainWindow, place: WindowState, splitter: QSplitter, dashboard: QWidget,
                 tabs: QTabWidget, tabs_shown: SignalInstance) -> None:
        super().__init__(window)
        self.window, self.place, self.splitter, self.dashboard, self.tabs = window, place, splitter, dashboard, tabs
        splitter.setHandleWidth(7)
        splitter.handle(1).setToolTip(f"Drag to make the session list wider or narrower; {TOGGLE_KEY} hides it")
        splitter.splitterMoved.connect(self._moved)
        tabs_shown.connect(self.tabs_shown)
        self.toggle_action = action(window, "Session &list", "sidebar",
                                    f"Show or hide the session list beside the tabs ({TOGGLE_KEY})", TOGGLE_KEY)
        self.toggle_action.setCheckable(True)
        self.toggle_action.setChecked(not self.place.list_hidden)
        self.toggle_action.setVisible(False)  # only beside tabs: without them the list is the page
        self.toggle_action.triggered.connect(lambda _checked: self.toggle())
        self.return_action = action(window, "Take the &keyboard back from a desktop", "keyboard",
                                    f"A desktop tab receives every key; {RETURN_KEY} always gives them back to "
                                    "the app", RETURN_KEY)
        self.return_action.triggered.connect(self.take_keyboard)

    def install(self, view_menu: QMenu, toolbar: QToolBar) -> QWidget | None:
        """The toggle in the View menu and at the toolbar's far end; F8 in the View menu."""
        view_menu.addAction(self.toggle_action)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addAction(self.toggle_action)
        button = toolbar.widgetForAction(self.toggle_action)
        if button is not None:
            button.setAccessibleName("Session list")
        return button

    def tabs_shown(self, visible: bool) -> None:
        """With tabs the list keeps the width it was given last (or stays hidden); without, it is the page."""
        self.toggle_action.setVisible(visible)
        if not visible:
            self.dashboard.setVisible(True)
            return
        self.dashboard.setVisible(self.toggle_action.isChecked())
        total = max(self.splitter.width(), 800)
        width = max(MIN_WIDTH, min(self.place.list_width, total - 300))
        self.splitter.setSizes([width, total - width])

    def _moved(self, pos: int, _index: int) -> None:
        if self.tabs.isVisible() and self.dashboard.isVisible():
            self.place.list_width = pos

    def toggle(self) -> None:
        """Hide or show the list beside the tabs (the View menu, the toolbar, F9)."""
        if not self.tabs.isVisible():
            self.toggle_action.setChecked(True)
            return
        shown = not self.dashboard.isVisible()
        self.toggle_action.setChecked(shown)
        self.place.list_hidden = not shown
        self.tabs_shown(True)

    def take_keyboard(self) -> None:
        """F8: the keyboard leaves a remote desktop for the app (its shortcuts work again)."""
        target: QWidget = self.tabs.tabBar() if self.tabs.isVisible() else self.dashboard
        if target.focusPolicy() == Qt.FocusPolicy.NoFocus:
            target.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.window.statusBar().showMessage("The keyboard is the app's again: Ctrl+W, Ctrl+N and the other shortcuts work; "
                                  "click into the desktop to give it the keys again", 6000)
