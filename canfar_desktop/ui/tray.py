"""The tray icon: quick-launch, the running sessions, show/hide, quit; and close-to-tray.

The menu is rebuilt from `tray_entries` each time it opens, so it is never stale and a test can
read the entries and run their actions without a system tray (there is none under bare Xvfb).
Every action goes through the app's own code: a quick-launch is the launch dialog's launch
(`Launches.start`: validated by the core, the choice remembered), Open/Renew/Delete are the card's.

Without a system tray the window stays the app: closing it quits as usual and nothing is said
about the missing tray (many desktops simply have none).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QSystemTrayIcon

from ..core.errors import CanfarError
from ..core.kinds import KINDS
from ..core.lifecycle import State
from ..core.notify import Notice
from ..core.record import record
from ..core.service import SessionService
from ..core.session import Session
from ..core.settings import LaunchChoice, Settings
from . import icons
from .launches import Launches
from .recent_launches import with_recent
from .store import SessionStore
from .tasks import Runner
from .widgets import duration

if TYPE_CHECKING:
    from .window import MainWindow

log = logging.getLogger(__name__)

TRAY_SHOWN = (State.LAUNCHING, State.RUNNING, State.SUSPENDED, State.EXPIRED)  # Expired: Renew restarts it


# --- the menu as data ---------------------------------------------------------------------------

@record
class Entry:
    """One menu line: an action, a submenu (children), a heading (section) or a separator."""

    key: str
    text: str = ""
    icon: str = ""
    tip: str = ""
    run: Callable[[], None] | None = None
    children: tuple[Entry, ...] = ()
    enabled: bool = True
    section: bool = False
    separator: bool = False


class TrayActions(Protocol):
    def quick_launch(self, kind: str) -> None: ...
    def new_session(self) -> None: ...
    def open(self, s: Session) -> None: ...
    def renew(self, s: Session) -> None: ...
    def delete(self, s: Session) -> None: ...
    def toggle_window(self) -> None: ...
    def quit(self) -> None: ...
    def quit_and_delete(self) -> None: ...


def _short_image(ref: str) -> str:
    return ref.rsplit("/", 1)[-1] if ref else "default image"


def choice_for(settings: Settings, kind: str) -> LaunchChoice:
    """The kind's last launch, else its default image (resolved at launch) and the default resources."""
    return settings.last_choices.get(kind) or LaunchChoice(resources=settings.default_resources,
                                                           host=settings.default_host)


def describe_choice(choice: LaunchChoice) -> str:
    r = choice.resources
    res = "flexible" if r.mode == "flexible" else f"{r.cores:g} core{'s' if r.cores != 1 else ''} · {r.ram_gb:g} GB"
    if r.gpus:
        res += f" · {r.gpus} GPU"
    return f"{_short_image(choice.image)} · {res}"


def session_label(s: Session, now: datetime) -> str:
    """Name, then (in the menu's right-hand column) the state and the time left."""
    left = s.time_left(now)
    text = f"{s.name}\t{s.state.value}"
    if s.active and left is not None:
        text += f" · {duration(left)} left"
    return text


def tray_entries(sessions: Sequence[Session], settings: Settings, actions: TrayActions, now: datetime,
                 window_visible: bool, can_hide: bool = True) -> list[Entry]:
    """The tray menu for these sessions and settings; pure, so tests can check it line by line."""
    out: list[Entry] = [Entry("section/launch", "Quick launch", section=True)]
    for kind in KINDS.values():
        choice = choice_for(settings, kind.name)
        detail = describe_choice(choice)
        out.append(Entry(f"launch/{kind.name}", f"{kind.title}\t{detail}", kind.name,
                         f"Launch a {kind.title} session now with {detail} on host “{choice.host}”",
                         lambda k=kind.name: actions.quick_launch(k)))
    out.append(Entry("launch/dialog", "New session…", "add", "Choose the kind, image and resources",
                     actions.new_session))
    shown = [s for s in sessions if s.state in TRAY_SHOWN]
    out.append(Entry("section/sessions", "Sessions", section=True))
    if not shown:
        out.append(Entry("sessions/none", "No sessions running", enabled=False))
    for s in shown:
        base = f"session/{s.host}/{s.id}"
        children = (
            Entry(f"{base}/open", "Open", "open", "Open the session in a tab",
                  lambda s=s: actions.open(s), enabled=s.state in (State.RUNNING, State.SUSPENDED)),
            Entry(f"{base}/renew", "Renew", "renew", f"Run it for another {settings.session_lifetime_hours:g} hours",
                  lambda s=s: actions.renew(s)),
            Entry(f"{base}/delete", "Delete…", "delete", "Stop it and remove its container (asks first)",
                  lambda s=s: actions.delete(s)),
        )
        out.append(Entry(base, session_label(s, now), s.kind if s.kind in KINDS else "contributed",
                         f"{s.kind} session {s.id} on host “{s.host}”", children=children))
    out.append(Entry("sep/window", separator=True))
    hide = window_visible and can_hide
    out.append(Entry("window", "Hide window" if hide else "Show window", "app", "", actions.toggle_window))
    out.append(Entry("sep/quit", separator=True))
    out.append(Entry("quit", "Quit", "", "Quit the app; sessions keep running", actions.quit))
    if any(s.active for s in shown):
        out.append(Entry("quit/delete", "Quit and delete all sessions…", "delete",
                         "Delete every active session, then quit (asks first)", actions.quit_and_delete))
    return out


def fill_menu(menu: QMenu, entries: Sequence[Entry]) -> None:
    """Replace the menu's contents with `entries` (each QAction's objectName is its entry key)."""
    for sub in menu.findChildren(QMenu):
        sub.deleteLater()
    menu.clear()
    for e in entries:
        if e.separator:
            menu.addSeparator()
        elif e.section:
            menu.addSection(e.text).setObjectName(e.key)
        elif e.children:
            sub = menu.addMenu(icons.icon(e.icon) if e.icon else icons.icon("contributed"), e.text)
            sub.setObjectName(e.key)
            sub.menuAction().setObjectName(e.key)
            sub.setToolTipsVisible(True)
            fill_menu(sub, e.children)
        else:
            act = QAction(e.text, menu)
            act.setObjectName(e.key)
            if e.icon:
                act.setIcon(icons.icon(e.icon))
            act.setToolTip(e.tip or e.text)
            act.setEnabled(e.enabled)
            if e.run is not None:
                act.triggered.connect(lambda _checked=False, run=e.run: run())
            menu.addAction(act)
    menu.setToolTipsVisible(True)


# --- the tray -------------------------------------------------------------------------------------

class TrayController(QObject):
    """Owns the tray icon and its menu; the menu exists (and works) even when no tray does."""

    def __init__(self, window: MainWindow, store: SessionStore, service: SessionService, runner: Runner,
                 launches: Launches, quit_app: Callable[[], None] | None = None,
                 available: bool | None = None) -> None:
        super().__init__(window)
        self.window = window  # what the tray shows, hides and raises, and whose card actions it offers
        self.store, self.service, self.runner, self.launches = store, service, runner, launches
        self.quit_app = quit_app or QApplication.quit
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if available is None else available
        self.quitting = False
        self._told_hidden = False
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.menu.aboutToShow.connect(self.rebuild)
        window.destroyed.connect(self.menu.deleteLater)
        self.icon: QSystemTrayIcon | None = None
        if self.available:
            self.icon = QSystemTrayIcon(icons.icon("app"), self)
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.icon.messageClicked.connect(window.show_and_raise)
            store.changed.connect(self._update_tooltip)
            self._update_tooltip()
            self.icon.show()
            window.quit_action.triggered.disconnect()
            window.quit_action.triggered.connect(self.quit)
        else:
            log.info("no system tray: the window stays the app")
        window.installEventFilter(self)
        self.rebuild()

    # --- menu -------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        w = self.window
        visible = w.isVisible() and not w.isMinimized()
        entries = tray_entries(self.store.all(), self.service.settings, self, self.service.clock(), visible,
                               can_hide=self.available)
        return with_recent(entries, self)  # the recent launches and presets submenu

    def rebuild(self) -> None:
        fill_menu(self.menu, self.entries())

    def action(self, key: str) -> QAction | None:
        """The menu's action for an entry key (tests, and accessibility tools, find lines by key)."""
        todo = list(self.menu.actions())
        while todo:
            act = todo.pop(0)
            if act.objectName() == key:
                return act
            if act.menu() is not None:
                todo += act.menu().actions()
        return None

    def _update_tooltip(self) -> None:
        if self.icon is not None:
            active = self.store.active_count()
            self.icon.setToolTip(f"CANFAR Desktop — {active} active session{'s' if active != 1 else ''}")

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    # --- actions (TrayActions) ------------------------------------------------------------------

    def quick_launch(self, kind: str) -> None:
        """The kind's remembered (or default) launch, checked by the core exactly as the dialog's."""
        settings = self.service.settings
        choice = choice_for(settings, kind)
        host = choice.host if choice.host in self.service.host_names() else settings.default_host
        self.launches.start(kind, choice.image or None, None, choice.resources, host, remember=True,
                            on_error=self._failed)

    def _failed(self, err: CanfarError) -> None:
        self.window.report(err)
        self.window.show_and_raise()  # a launch that cannot start must not fail unseen

    def new_session(self) -> None:
        self.window.show_and_raise()
        self.window.new_session()

    def open(self, s: Session) -> None:
        self.window.show_and_raise()
        self.window.open_session(s.id, s.host)

    def renew(self, s: Session) -> None:
        self.window.renew(s)

    def delete(self, s: Session) -> None:
        self.window.delete(s)  # asks first, like the card

    def toggle_window(self) -> None:
        w = self.window
        if self.available and w.isVisible() and not w.isMinimized():
            w.hide()
        else:
            w.show_and_raise()

    def quit(self) -> None:
        """Quit the app; sessions keep running and show again at the next start.

        Each open tab's page is asked first: one with unsaved work may keep the app open."""
        def go() -> None:
            self.quitting = True
            self.window.close()
            if self.icon is not None:
                self.icon.hide()
            self.quit_app()

        if self.window.tabs.count() and not self.window.isVisible():
            self.window.show_and_raise()  # its question needs the window
        self.window.release_tabs(go)

    def quit_and_delete(self) -> None:
        mine = [s for s in self.store.all() if s.active]
        if not mine or not self._confirm_delete_all(mine):
            return
        service = self.service

        def delete_all() -> None:
            for s in mine:
                service.delete(s)

        if self.icon is not None:
            self.icon.showMessage("Deleting sessions", f"deleting {len(mine)} session(s), then quitting",
                                  QSystemTrayIcon.MessageIcon.Information, 4000)
        self.runner.run(delete_all, on_done=lambda _r: self.quit(), on_error=self._failed)

    def _confirm_delete_all(self, sessions: list[Session]) -> bool:
        box = QMessageBox(self.window if self.window.isVisible() else None)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Quit and delete all sessions")
        names = ", ".join(s.name for s in sessions[:5]) + (" …" if len(sessions) > 5 else "")
        box.setText(f"Delete {len(sessions)} session{'s' if len(sessions) != 1 else ''} and quit?")
        box.setInformativeText(f"{names}. Their containers are removed; your files in /arc are kept, each "
                               "session's /scratch is wiped. Choose Quit to leave them running instead.")
        delete = box.addButton("Delete and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is delete

    # --- notices and closing --------------------------------------------------------------------

    def show_notice(self, n: Notice) -> None:
        """A desktop notification for a notice, unless the person is looking at the window already."""
        if self.icon is None or (self.window.isActiveWindow() and self.window.isVisible()):
            return
        level = {"error": QSystemTrayIcon.MessageIcon.Critical, "warning": QSystemTrayIcon.MessageIcon.Warning}
        hint = " Open the app to renew it." if n.can_renew else ""
        self.icon.showMessage(n.title, n.message + hint, level.get(n.level, QSystemTrayIcon.MessageIcon.Information),
                              15000)

    def hides_on_close(self) -> bool:
        return bool(self.available and self.icon is not None and self.icon.isVisible()
                    and self.service.settings.close_to_tray and not self.quitting)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if watched is self.window and event.type() == QEvent.Type.Close:
            if self.hides_on_close():
                event.ignore()
                self.window.hide()
                if not self._told_hidden and self.icon is not None:
                    self._told_hidden = True
                    self.icon.showMessage("CANFAR Desktop is still running",
                                          "Your sessions keep running. Use the tray icon to open the window or quit.",
                                          QSystemTrayIcon.MessageIcon.Information, 6000)
                return True
            if self.available and not self.quitting:
                # Closing for real with close-to-tray off: quit (the app does not quit on its own with a tray),
                # once the tabs' pages agreed.
                event.ignore()
                self.quit()
                return True
        return False
