"""The main window: the dashboard of cards on the left, session tabs beside it, status below.

Shortcuts (Ctrl+N, Ctrl+W, Ctrl+Tab, Ctrl+Shift+Tab, F5, F9) are window-wide, except while a
desktop (noVNC) session has the keyboard focus: a remote desktop needs every key (Ctrl+W closes
a window there, Ctrl+Tab switches applications), so the app's shortcuts step aside until the
focus leaves that tab; F8 always takes the keyboard back. Notebook and web-app tabs behave like
browser tabs and keep them.

Closing a tab, deleting a session that has one and quitting ask each page first (unsaved work);
the session list beside the tabs can be narrowed (compact cards) or hidden (F9).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.kinds import is_batch
from ..core.lifecycle import State
from ..core.plan import LaunchRequest
from ..core.service import SessionService
from ..core.session import Session
from ..core.settings import AppPaths, Settings
from . import icons, projects_dialog, theme, window_state
from .api_settings import ApiController
from .cards import PendingLaunch, SessionCard
from .dashboard import Dashboard
from .dialogs import confirm_delete, format_events, show_lines
from .help_menu import HelpMenu
from .launches import Launches
from .list_pane import ListPane
from .messages import EngineBanner, MessageBar
from .profiles import discard_profile
from .sharing import Sharing
from .shortcuts import install_shortcuts
from .status_bar import HostStatusBar
from .store import SessionStore
from .tabs import SessionTabs
from .tasks import Runner
from .transfers import Transfers

if TYPE_CHECKING:
    from .browser import SessionTab

log = logging.getLogger(__name__)



class MainWindow(QMainWindow):
    """Composed by `app.build_app`; public hooks: open_session, launch, show_and_raise, renew, delete, report."""

    troubleshoot_requested = Signal(object)  # Session: a card's Troubleshoot button (the composition root wires it)

    def __init__(self, service: SessionService, paths: AppPaths, runner: Runner, store: SessionStore,
                 api: ApiController | None = None, dashboard: Dashboard | None = None) -> None:
        """`dashboard`: the one the start's skeleton filled (ui/early_start.py), taken over with its cards."""
        super().__init__()
        self.service = service
        self.api = api  # the background CANFAR API, whose state the settings dialog shows
        self.paths = paths
        self.runner = runner
        self.store = store
        self.setWindowTitle("CANFAR Desktop")
        self.setWindowIcon(icons.icon("app"))
        self.place = window_state.load(paths)
        window_state.restore(self, self.place)
        self._closing = False  # the pages are being asked before the window closes
        self._listed: set[str] = set()  # "host/id" of the sessions listed last

        self.messages = MessageBar()
        self.banner = EngineBanner()
        self.banner.retry_requested.connect(self.retry_engine)
        self.dashboard = dashboard or Dashboard()
        self.dashboard.new_session_requested.connect(lambda kind: self.new_session(kind or None))
        self.dashboard.card_factory = self._make_card
        self.dashboard.hosts.retry_requested.connect(self.retry_engine)
        self.session_area = SessionTabs(service, runner, store, paths, self.messages, self.renew, self)
        self.tabs = self.session_area.widget
        self.launches = Launches(service, runner, store, self.messages, self.open_session, self)
        self.launches.changed.connect(self._sessions_changed)
        for card in self.dashboard.cards.values():  # the skeleton's, made before this window
            self._wire(card)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("listSplitter")
        self.splitter.addWidget(self.dashboard)
        self.splitter.addWidget(self.tabs)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(1, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        banner_box = QVBoxLayout()
        banner_box.setContentsMargins(10, 4, 10, 0)
        banner_box.addWidget(self.banner)
        layout.addLayout(banner_box)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.messages.attach(central)  # floats over the page: never moves it
        # files dropped on cards, tabs or the dashboard go to /arc, with a panel of copies below the sessions
        self.transfers = Transfers(self, self.tabs, service, runner, store, self.messages)
        layout.addWidget(self.transfers.panel)
        # Share… on cards: a session reachable from other devices for a while
        self.sharing = Sharing(service, runner.loop, store, self.dashboard, self)

        # The troubleshooting panel's place: an empty, hidden dock until the composition root fills it.
        self.troubleshooting_dock = QDockWidget("Troubleshooting", self)
        self.troubleshooting_dock.setObjectName("troubleshooting")
        self.troubleshooting_dock.setAccessibleName("Troubleshooting")
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.troubleshooting_dock)
        self.troubleshooting_dock.hide()

        self._build_actions()
        self.status = HostStatusBar(self.statusBar(), service, store, self.dashboard.hosts, self.messages)
        self.shortcuts, self.return_shortcut = install_shortcuts(self)

        store.changed.connect(self._sessions_changed)
        store.engine_unreachable.connect(self._engine_down)
        store.engine_recovered.connect(self._engine_up)
        store.diagnosis_ready.connect(lambda h, checks: h == self.banner.host and self.banner.show_findings(checks))
        self._ticker = QTimer(self, interval=30_000, timeout=self._sessions_changed)  # ages and time left
        self._ticker.start()
        if dashboard is None or store.loaded:  # a filled dashboard stays as it is until the store's first listing
            self._sessions_changed()

    # --- building -----------------------------------------------------------------------------

    def _action(self, text: str, icon_name: str, slot: Any, tip: str, keys: str = "") -> QAction:
        """An action; `keys` is shown beside it in menus (the window's shortcuts handle the keys)."""
        act = QAction(f"{text}\t{keys}" if keys else text, self)
        act.setIconText(text.replace("&", "").rstrip("…"))
        icons.set_icon(act, icon_name)
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        self.new_action = self._action("&New session…", "add", lambda: self.new_session(), "Launch a new session (Ctrl+N)",
                                       "Ctrl+N")
        self.refresh_action = self._action("&Refresh", "refresh", self.refresh, "Refresh the sessions now (F5)", "F5")
        self.list_pane = ListPane(self, self.place, self.splitter, self.dashboard, self.tabs,
                                  self.session_area.shown)  # the list beside the tabs: width, divider, toggle (F9); F8
        self.list_action, self.return_action = self.list_pane.toggle_action, self.list_pane.return_action
        self.settings_action = self._action("&Settings…", "settings", self.open_settings, "Docker host, /arc, "
                                            "defaults, limits and theme")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.quit_action = quit_action  # the tray re-points it at a real quit (close only hides to the tray)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.settings_action)
        projects_dialog.add_menu_item(self, file_menu, self.service, self.runner)  # project folders and their groups
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        view = menu.addMenu("&View")
        view.addAction(self.refresh_action)
        view.addAction(self.troubleshooting_dock.toggleViewAction())
        view.addSeparator()
        view.addAction(self.return_action)
        self.help_menu = HelpMenu(self, self.service, self.runner, self.store, self.messages,
                                  self.session_area.current_key)  # guide, support contact and report, About
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(20, 20))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setAccessibleName("Main toolbar")
        for act in (self.new_action, self.refresh_action, self.settings_action):
            toolbar.addAction(act)
            button = toolbar.widgetForAction(act)
            if button is not None:
                button.setAccessibleName(act.iconText())
        self.list_button = self.list_pane.install(view, toolbar)
        self.addToolBar(toolbar)

    def _make_card(self) -> SessionCard:
        return self._wire(SessionCard())

    def _wire(self, card: SessionCard) -> SessionCard:
        card.open_requested.connect(lambda s: s and self.open_session(s.id, s.host))
        card.renew_requested.connect(self.renew)
        card.delete_requested.connect(self.delete)
        card.logs_requested.connect(self.show_logs)
        card.events_requested.connect(self.show_events)
        card.dismiss_requested.connect(self.launches.dismiss)
        card.troubleshoot_requested.connect(self.troubleshoot_requested)
        card.files_requested.connect(self.show_files)
        card.retry_requested.connect(self.retry)
        return card

    # --- public hooks -------------------------------------------------------------------------

    def show_and_raise(self) -> None:
        """Bring the window forward (single-instance hand-over, tray)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def open_session(self, session_id: str, host: str | None = None) -> None:
        """Open (or focus) a session's tab; it must be Running or Suspended."""
        self.session_area.open_session(session_id, host)

    def launch(self, req: LaunchRequest) -> PendingLaunch:
        """Run a validated launch; its card shows the stages, then the tab opens by itself."""
        return self.launches.launch(req)

    @property
    def session_tabs(self) -> dict[tuple[str, str], SessionTab]:
        return self.session_area.session_tabs

    # --- tabs ---------------------------------------------------------------------------------

    def close_current_tab(self) -> None:
        self.session_area.close_current()

    # --- sessions -----------------------------------------------------------------------------

    def _sessions_changed(self) -> None:
        sessions = self.store.all()
        self.dashboard.show_listing(self.service, sessions, self.store.unreachable, self.store.loaded,
                                    list(self.launches.pending.values()))
        self.session_area.sessions_changed()
        self.status.update_counts()
        self._forget_gone(sessions)

    def _forget_gone(self, sessions: list[Session]) -> None:
        """A session's notices go when the session goes (not while its host is merely unreachable)."""
        now = {f"{s.host}/{s.id}" for s in sessions}
        for key in self._listed - now:
            if key.partition("/")[0] not in self.store.unreachable:
                self.messages.forget(key)
        self._listed = now | {k for k in self._listed if k.partition("/")[0] in self.store.unreachable}

    def _engine_down(self, host: str, err: CanfarError) -> None:
        self.banner.show_error(host, err, host in self.dashboard.platform_hosts)
        self.status.update_hosts()

    def _engine_up(self, host: str) -> None:
        if not self.store.unreachable:
            self.banner.setVisible(False)
        elif self.banner.host == host:  # another host is still down: the banner names that one now
            other, err = next(iter(self.store.unreachable.items()))
            self.banner.show_error(other, err, other in self.dashboard.platform_hosts)
        what = "The science platform" if host in self.dashboard.platform_hosts else "The Docker engine of"
        self.messages.show_message(f"{what} “{host}” is reachable again", level="info")

    def retry_engine(self, host: str = "") -> None:
        self.banner.retrying()
        self.store.retry(host or None)
        if host:
            self.store.diagnose(host)

    def refresh(self) -> None:
        self.store.refresh()

    # --- actions ------------------------------------------------------------------------------

    def report(self, err: CanfarError) -> None:
        self.messages.show_error(err)

    def new_session(self, kind: str | None = None) -> Any:
        """Open the launch dialog (non-modal); returns it so tests and the tray can drive it.

        It counts this host's free session slots as they change; a launch from it is remembered
        as the kind's next default once its session is ready."""
        from .launch_dialog import LaunchDialog

        dialog = LaunchDialog(self.service, self.runner, self, kind=kind, used_slots=self.launches.slots_used)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: dialog.request and self.launches.launch(dialog.request, remember=True))
        self.store.changed.connect(dialog.check)
        self.launches.changed.connect(dialog.check)
        dialog.open()
        return dialog

    def retry(self, item: PendingLaunch | Session | None) -> Any:
        """A failed card's Edit and retry (or Launch again): the dialog, filled with that launch's choices."""
        if item is None:
            return None
        if isinstance(item, Session) and is_batch(item.kind):  # a job runs its command again, no dialog
            return self.launches.run_again(item)
        dialog = self.new_session(item.kind)
        dialog.preset(item.kind, item.image, item.name, item.resources, item.host)
        if isinstance(item, PendingLaunch):  # the new launch takes the failed one's place
            dialog.accepted.connect(lambda: self.launches.dismiss(item))
        return dialog

    def renew(self, s: Session | None) -> None:
        if s is None:
            return

        def done(new: Session) -> None:
            expiry = new.expiry.astimezone().strftime("%a %d %b %H:%M") if new.expiry else "later"
            self.messages.show_message(f"{new.name} renewed", f"it now runs until {expiry}", "info")
            self.store.refresh()

        self.runner.run(self.service.renew, s.id, s.host, on_done=done, on_error=self.report)

    def delete(self, s: Session | None) -> None:
        """Delete after asking; a session whose tab has unsaved work asks that too, and keeping it cancels."""
        if s is None or not confirm_delete(self, s):
            return
        tab = self.session_tabs.get((s.host, s.id))
        if tab is not None:
            def kept() -> None:
                self.messages.show_message(f"{s.name} was not deleted",
                                           "its page has unsaved changes: save them, then delete it", "info")

            self.session_area.request_close(tab, "delete", lambda: self._delete(s), kept)
        else:
            self._delete(s)

    def _delete(self, s: Session) -> None:
        card = self.dashboard.card_for(s.id)
        if card is not None:
            card.show_session(s.with_state(State.TERMINATING, "deleting"))

        def done(_r: object) -> None:
            discard_profile(self.paths.profiles_dir, s.id)  # its login cookie goes with it
            self.messages.show_message(f"{s.name} deleted", "its /arc files are kept", "info")
            self.store.refresh()

        self.runner.run(self.service.delete, s, on_done=done, on_error=self.report)

    def show_logs(self, s: Session | None) -> None:
        if s is not None:
            show_lines(self, self.runner, f"Logs of {s.name}",
                       f"The last 200 lines of {s.name} ({s.id}); secrets are hidden.",
                       lambda: self.service.tail_logs(s, 200), "(no output yet)")

    def show_events(self, s: Session | None) -> None:
        if s is not None:
            show_lines(self, self.runner, f"Events of {s.name}", f"What the Docker engine did with {s.name} ({s.id}).",
                       lambda: format_events(self.service.events_of(s)), "(no events recorded)")

    def show_files(self, s: Session | None) -> Any:
        """The session's files: browse /arc, upload into a folder, download (ui/files_dialog.py)."""
        from .files_dialog import FilesDialog

        if s is None:
            return None
        dialog = FilesDialog(self, self.service, self.runner, self.transfers, s)
        dialog.open()
        return dialog

    def open_settings(self) -> Any:
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.service, self.runner, self.api, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: dialog.result_settings and self.apply_settings(dialog.result_settings))
        dialog.open()
        return dialog

    def apply_settings(self, new: Settings) -> None:
        """Use saved settings; a Docker host whose configuration changed reconnects."""
        self.service.apply_settings(new)
        self.store.follow_hosts()  # added hosts get event followers, removed ones are forgotten
        self.store.retry()
        self._sessions_changed()
        self.status.update_hosts()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, new.theme)
        self.messages.show_message("Settings saved", "new sessions use them; running sessions are unchanged", "info")

    def release_tabs(self, then: Callable[[], object], purpose: str = "quit") -> None:
        """Ask every tab's page to close (unsaved work asks the person), then run `then`; keeping one stops."""
        if self._closing:
            return
        self._closing = True

        def done() -> None:
            self._closing = False
            then()

        def kept() -> None:
            self._closing = False

        self.session_area.close_all(purpose, done, kept)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt naming
        if self.tabs.count():  # the pages first: one with unsaved work may want to stay
            event.ignore()
            self.release_tabs(self.close)  # then close for real
            return
        self.place.geometry = window_state.geometry_of(self)
        window_state.save(self.paths, self.place)
        self.store.stop()
        super().closeEvent(event)
