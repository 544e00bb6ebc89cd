"""The session tabs beside the dashboard: one per open session, plus the pop-up windows its page opened.

Opening asks the core for the session's URL (secret included) on a worker; closing a tab leaves the
session running (it shows Suspended once no viewer is connected). Each tab follows its session
through the store and says so when it stops. QtWebEngine is imported with the first tab.

Closing (Ctrl+W, the tab's ×, deleting its session, quitting) asks the page first, as a browser
does: a page with unsaved work gets its question answered before anything goes (`request_close`).
A desktop tab says once that it takes every key, and which key brings the keyboard back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from ..core.kinds import KINDS
from ..core.service import SessionService
from ..core.session import Session
from ..core.settings import AppPaths
from . import icons
from .messages import MessageBar
from .store import SessionStore
from .tasks import Runner

if TYPE_CHECKING:
    from .browser import SessionTab

Key = tuple[str, str]  # (host, session id)
RETURN_KEY = "F8"  # always takes the keyboard back from a remote desktop (as in VNC viewers)
KEYS_HINT = ("This desktop receives every key, Ctrl+W and Ctrl+N included, so they act inside it. "
             f"Press {RETURN_KEY} to give the keyboard back to the app (then Ctrl+W closes this tab).")
Answer = Callable[[], None]


class SessionTabs(QObject):
    """Owns the tab widget (`widget`) and which session each tab shows (`session_tabs`)."""

    shown = Signal(bool)  # the tab area appears (first tab) or goes (last tab closed)
    current_changed = Signal(object)  # the (host, id) of the session in front, or None

    def __init__(self, service: SessionService, runner: Runner, store: SessionStore, paths: AppPaths,
                 messages: MessageBar, renew: Callable[[Session | None], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service, self.runner, self.store, self.paths, self.messages = service, runner, store, paths, messages
        self.renew = renew
        self.session_tabs: dict[Key, SessionTab] = {}
        self._seen: set[Key] = set()
        self._answers: dict[QWidget, tuple[Answer | None, Answer | None]] = {}  # tab -> (closed, kept)
        self.widget = QTabWidget()
        self.widget.setTabsClosable(True)
        self.widget.setMovable(True)
        self.widget.setDocumentMode(True)
        self.widget.setAccessibleName("Session tabs")
        self.widget.tabCloseRequested.connect(self.close_tab)
        self.widget.currentChanged.connect(lambda _i: self.current_changed.emit(self.current_key()))
        self.widget.setVisible(False)
        self.widget.installEventFilter(self)  # a theme change re-tints the tabs' icons

    def open_session(self, session_id: str, host: str | None = None) -> None:
        """Open (or focus) a session's tab; it must be Running or Suspended."""
        key = (host or self.service.settings.default_host, session_id)
        tab = self.session_tabs.get(key)
        if tab is not None:
            self._focus(tab)
            if tab.stopped:
                tab.update_session(self.store.find(session_id, host))
            return

        def prepare() -> tuple[Session, str]:
            s = self.service.get(session_id, host)
            url = self.service.open_url(s)
            self.service.mark_opened(s)
            return s, url

        self.runner.run(prepare, on_done=lambda r: self._add(*r), on_error=self.messages.show_error)

    def _add(self, s: Session, url: str) -> None:
        key = (s.host, s.id)
        if key in self.session_tabs:
            self._focus(self.session_tabs[key])
            return
        from .browser import SessionTab, make_profile  # QtWebEngine loads here, on the first tab

        tab = SessionTab(s, url, make_profile(self.paths.profiles_dir, s.id))
        self._wire(tab)
        self.session_tabs[key] = tab
        self.widget.addTab(tab, icons.icon(s.kind if s.kind in KINDS else "contributed"), s.name)
        self.widget.setTabToolTip(self.widget.indexOf(tab), f"{s.name} ({s.kind}, {s.id})")
        tab.load()
        if s.kind == "desktop":
            self._hint_keys(tab)
        self._focus(tab)
        QTimer.singleShot(1500, self.store.refresh)

    def _hint_keys(self, tab: SessionTab) -> None:
        """The first desktop tab ever says which keys it takes (once, for this user of the app)."""
        marker = Path(self.paths.state_dir) / "desktop-keys-hint-shown"
        if marker.exists():
            return
        tab.show_keys_hint(KEYS_HINT)
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # a read-only state folder: the hint shows again next time, which is harmless

    def _wire(self, tab: SessionTab) -> None:
        tab.close_requested.connect(lambda t: self.request_close(t))
        tab.closed.connect(self._closed)
        tab.close_kept.connect(self._kept)
        tab.renew_requested.connect(self.renew)
        tab.popup_opened.connect(self._popup)
        tab.message.connect(lambda text, hint, level: self.messages.show_message(text, hint, level))

    def _popup(self, tab: SessionTab) -> None:
        index = self.widget.indexOf(tab)
        if index < 0:
            self._wire(tab)
            self.widget.addTab(tab, icons.icon("external"), "window")
            self._focus(tab)
        else:
            self.widget.setTabText(index, tab.title())

    def _focus(self, tab: QWidget) -> None:
        self._show(True)
        self.widget.setCurrentWidget(tab)

    def _show(self, visible: bool) -> None:
        if visible == self.widget.isHidden():  # hidden on purpose, not merely in a hidden window
            self.widget.setVisible(visible)
            self.shown.emit(visible)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if watched is self.widget and event.type() in (QEvent.Type.PaletteChange,
                                                       QEvent.Type.ApplicationPaletteChange):
            for i in range(self.widget.count()):
                tab = self.widget.widget(i)
                session = getattr(tab, "session", None)
                if session is not None:
                    popup = getattr(tab, "is_popup", False)
                    kind = "external" if popup else session.kind if session.kind in KINDS else "contributed"
                    self.widget.setTabIcon(i, icons.icon(kind))
        return False

    def current_key(self) -> Key | None:
        """The session whose tab (or pop-up) is in front."""
        tab = self.widget.currentWidget() if self.widget.count() else None
        session = getattr(tab, "session", None)
        return (session.host, session.id) if session is not None else None

    def close_current(self) -> None:
        if self.widget.isVisible() and self.widget.count():
            self.close_tab(self.widget.currentIndex())

    def close_tab(self, index: int) -> None:
        """Close a tab once its page agrees; the session keeps running (Suspended once no viewer is connected)."""
        tab = self.widget.widget(index)
        if tab is not None:
            self.request_close(tab)

    def request_close(self, tab: QWidget, purpose: str = "close", on_closed: Answer | None = None,
                      on_kept: Answer | None = None) -> None:
        """Ask a tab's page to close; `on_closed` runs once the tab is gone, `on_kept` if the person kept it."""
        ask = getattr(tab, "ask_to_close", None)
        if not callable(ask):  # a plain page (the self-test's) has nothing to ask
            self._remove(tab)
            if on_closed is not None:
                on_closed()
            return
        self._answers[tab] = (on_closed, on_kept)
        self._focus(tab)  # the question is about the page in front
        ask(purpose)

    def _closed(self, tab: SessionTab) -> None:
        on_closed, _ = self._answers.pop(tab, (None, None))
        self._remove(tab)
        if on_closed is not None:
            on_closed()

    def _kept(self, tab: SessionTab) -> None:
        _, on_kept = self._answers.pop(tab, (None, None))
        if on_kept is not None:
            on_kept()

    def tab_of(self, key: Key) -> SessionTab | None:
        return self.session_tabs.get(key)

    def close_all(self, purpose: str, on_closed: Answer, on_kept: Answer | None = None) -> None:
        """Close every tab, asking each page in turn; stop at the first one the person keeps."""
        owners = [self.widget.widget(i) for i in range(self.widget.count())]
        todo = [t for t in owners if t is not None and getattr(t, "opener", None) is None]

        def next_tab() -> None:
            while todo and self.widget.indexOf(todo[0]) < 0:
                todo.pop(0)  # gone meanwhile (a pop-up with its opener)
            if not todo:
                on_closed()
                return
            self.request_close(todo.pop(0), purpose, next_tab, on_kept)

        next_tab()

    def _remove(self, tab: QWidget) -> None:
        """Take a tab away now (its page agreed, or has nothing to lose)."""
        index = self.widget.indexOf(tab)
        if index < 0:
            return
        self._answers.pop(tab, None)
        self.widget.removeTab(index)
        for key, t in list(self.session_tabs.items()):
            if t is tab:
                del self.session_tabs[key]
                for popup in t.popups:
                    i = self.widget.indexOf(popup)
                    if i >= 0:
                        self.widget.removeTab(i)
        for t in self.session_tabs.values():
            if tab in t.popups:
                t.popups.remove(tab)  # type: ignore[arg-type]
        dispose = getattr(tab, "dispose", None)
        if callable(dispose):
            dispose()
        else:  # a plain page (the self-test's) has nothing of a session to release
            tab.deleteLater()
        if self.widget.count() == 0:
            self._show(False)
        for delay in (700, 2000):
            QTimer.singleShot(delay, self.store.refresh)

    def discard_all(self) -> None:
        """Take every tab away without asking (the window is going and their pages were asked before)."""
        while self.widget.count():
            tab = self.widget.widget(0)
            if tab is None:
                break
            self._remove(tab)

    def switch(self, step: int) -> None:
        count = self.widget.count()
        if count and self.widget.isVisible():
            self.widget.setCurrentIndex((self.widget.currentIndex() + step) % count)

    def sessions_changed(self) -> None:
        """Every tab follows its session (a stopped one says why); hosts that do not answer are left be."""
        for key, tab in self.session_tabs.items():
            if key[0] in self.store.unreachable:
                continue
            s = self.store.find(key[1], key[0])
            if s is not None:
                self._seen.add(key)
            elif key not in self._seen:
                continue  # opened before the store listed it
            tab.update_session(s)
            for popup in tab.popups:
                popup.update_session(s)
