"""Session tabs: each session top-level in its own QWebEngineView with its own persistent profile.

This module imports QtWebEngine, so the window imports it only when the first tab opens.
The URL carries the session's secret: it is never logged, and copying it warns.

A tab shows its session's pages only: links, scripts, redirects and `window.open` that lead to
another origin go to the system browser. Pages get the clipboard only through QtWebEngine's
permission request, which is granted to the session's own origin and nothing else.

A tab closes the way a browser tab does: it asks its page first (`ask_to_close`, the page's own
close request), so a page with unsaved work (JupyterLab's beforeunload) gets its say, shown as a
question in the app; keeping the page keeps the tab.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWebEngineCore import (
    QWebEngineDownloadRequest,
    QWebEnginePage,
    QWebEnginePermission,
    QWebEngineProfile,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import (
    QFileDialog,
    QPushButton,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.lifecycle import State
from ..core.session import Session
from . import icons
from .profiles import profile_folder
from .tab_panels import KeysHint, StoppedPanel, unsaved_question

log = logging.getLogger(__name__)

NOVNC_START_MS = 8000
CLOSE_ANSWER_MS = 4000  # how long a close request waits before checking that the page still answers
CLOSE_PATIENCE = 8  # checks before a page that answers but never decides is left open (with a message)
UNLOAD_TEXT = "Are you sure you want to leave this page? Changes that you made may not be saved."
Confirm = Callable[[str, bool], bool]  # (message, is the page's unsaved-changes question) -> go on?
ZOOM_STEPS = (0.5, 0.67, 0.75, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)
OPENABLE = (State.RUNNING, State.SUSPENDED)


def make_profile(profiles_dir: Path, session_id: str) -> QWebEngineProfile:
    """A disk-backed profile for one session: its cookies and storage never meet another session's."""
    folder = profile_folder(profiles_dir, session_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    profile = QWebEngineProfile(f"canfar-{session_id}")
    profile.setPersistentStoragePath(str(folder))
    profile.setCachePath(str(folder / "cache"))
    profile.setDownloadPath(str(Path.home() / "Downloads"))
    return profile


def same_origin(a: QUrl, b: QUrl) -> bool:
    return (a.scheme(), a.host(), a.port()) == (b.scheme(), b.host(), b.port())


def within_origin(url: QUrl, origin: QUrl) -> bool:
    """Whether a top-level document at `url` belongs to the session: its origin, or a blob of it."""
    if url.scheme() == "blob":
        return same_origin(QUrl(url.path()), origin)
    if url.scheme() == "about":
        return url.path() in ("blank", "srcdoc")
    return same_origin(url, origin)


class SessionPage(QWebEnginePage):
    """A page that stays on its session's origin, turns window.open into a new tab, and grants the
    clipboard to its own session only (through the permission request, never for the whole page)."""

    left_origin = Signal(QUrl)  # a navigation the page made to another origin, refused

    def __init__(self, profile: QWebEngineProfile, origin: QUrl, popup: Callable[[], QWebEnginePage | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(profile, parent)
        self._origin = origin
        self._popup = popup
        self.confirm: Confirm | None = None  # who answers the page's questions (the tab)
        for attr in (QWebEngineSettings.WebAttribute.JavascriptCanAccessClipboard,
                     QWebEngineSettings.WebAttribute.JavascriptCanPaste):
            self.settings().setAttribute(attr, False)  # on, they would skip the origin check below
        self.permissionRequested.connect(self._permission)

    def createWindow(self, _kind: QWebEnginePage.WebWindowType) -> QWebEnginePage | None:  # noqa: N802 - Qt API
        return self._popup()

    def acceptNavigationRequest(self, url: QUrl | str, kind: QWebEnginePage.NavigationType,  # noqa: N802 - Qt API
                                is_main_frame: bool) -> bool:
        """Frames may load anything; the tab itself stays on the session's origin.

        Navigations the app makes (typed: the tab's own loads) pass; those the page makes (links,
        scripts, redirects, forms, a new window's first load) to another origin are refused and
        reported, and the tab hands them to the system browser."""
        if not is_main_frame or kind == QWebEnginePage.NavigationType.NavigationTypeTyped:
            return True
        url = QUrl(url)
        if within_origin(url, self._origin):
            return True
        self.left_origin.emit(url)
        return False

    def javaScriptConfirm(self, origin: QUrl | str, message: str) -> bool:  # noqa: N802 - Qt API
        """The page's confirm(), and QtWebEngine's question for a beforeunload handler that objects."""
        if self.confirm is None:
            return bool(super().javaScriptConfirm(QUrl(origin), message))
        unload = message in (UNLOAD_TEXT, QCoreApplication.translate("QWebEnginePage", UNLOAD_TEXT))
        return self.confirm(message, unload)

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str,  # noqa: N802
                                 line: int, _source: str) -> None:
        """Keep the page's console out of Qt's log: its source URL would carry the session secret."""
        log.debug("page console (%s, line %d): %s", level.name, line, message[:500])

    def _permission(self, permission: QWebEnginePermission) -> None:
        kind = permission.permissionType()
        if kind == QWebEnginePermission.PermissionType.ClipboardReadWrite and same_origin(permission.origin(),
                                                                                          self._origin):
            permission.grant()
        else:
            permission.deny()


class SessionTab(QWidget):
    """One session (or a window it opened) in a web view, with zoom, reload and link tools."""

    close_requested = Signal(object)  # the tab's own Close button (the stopped panel's)
    closed = Signal(object)  # the page agreed to close (or closed itself): the tab may go
    close_kept = Signal(object)  # the person chose to keep the page (unsaved work)
    renew_requested = Signal(object)
    popup_opened = Signal(object)
    message = Signal(str, str, str)  # text, hint, level

    def __init__(self, session: Session, url: str, profile: QWebEngineProfile,
                 owns_profile: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.session_url = url  # carries the secret: never log it
        self.profile = profile
        self.owns_profile = owns_profile
        self.stopped = False
        self.popups: list[SessionTab] = []
        self.opener: SessionTab | None = None  # the tab whose page opened this one (popups only)
        self.shown = owns_profile  # a popup shows once its first page is known to be the session's
        if owns_profile:
            profile.downloadRequested.connect(self._download)

        self.view = QWebEngineView()
        self.view.setAccessibleName(f"{session.kind} session {session.name}")
        self.page = SessionPage(profile, QUrl(url), self._new_popup, self.view)
        self.view.setPage(self.page)
        self.page.titleChanged.connect(self._title_changed)
        self.page.loadFinished.connect(self._load_finished)
        self.page.left_origin.connect(self._left_origin)
        self.page.urlChanged.connect(self._url_changed)
        self.page.windowCloseRequested.connect(self._page_closed)
        self.page.confirm = self._confirm
        self._reloaded_stuck_page = False
        self.closing = ""  # why the page was asked to close ("close", "delete", "quit"), while it decides
        self._asking = False
        self._pinged = False  # a liveness check of the page is under way
        self._waits = 0
        self._close_timer = QTimer(self, singleShot=True, interval=CLOSE_ANSWER_MS, timeout=self._no_answer)
        self.page.renderProcessTerminated.connect(lambda *_a: self.closing and self._page_closed())

        self.toolbar = QToolBar()
        self.toolbar.setIconSize(QSize(18, 18))
        self.toolbar.setAccessibleName("Tab tools")
        self._action("zoom-out", "Zoom out", self.zoom_out)
        self._action("zoom-in", "Zoom in", self.zoom_in)
        self.zoom_label = QPushButton("100 %")
        self.zoom_label.setFlat(True)
        self.zoom_label.setToolTip("Reset zoom")
        self.zoom_label.setAccessibleName("Reset zoom")
        self.zoom_label.clicked.connect(self.zoom_reset)
        self.toolbar.addWidget(self.zoom_label)
        self._action("reload", "Reload the page", self.view.reload)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self._action("external", "Open in the system browser", self.open_external)
        self._action("copy", "Copy the session URL (it contains the session's secret)", self.copy_url)

        self.stopped_panel = StoppedPanel()
        self.stopped_panel.renew_clicked.connect(lambda: self.renew_requested.emit(self.session))
        self.stopped_panel.close_clicked.connect(lambda: self.close_requested.emit(self))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.stopped_panel)
        self.keys_hint = KeysHint()
        self.keys_hint.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.keys_hint)
        layout.addWidget(self.stack, 1)
        self.setFocusProxy(self.view)

    def _action(self, name: str, text: str, slot: Callable[[], Any]) -> None:
        act = self.toolbar.addAction(text)
        icons.set_icon(act, name)
        act.setToolTip(text)
        act.triggered.connect(slot)
        button = self.toolbar.widgetForAction(act)
        if button is not None:
            button.setAccessibleName(text)

    # --- identity -----------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.session.id

    @property
    def kind(self) -> str:
        return self.session.kind

    @property
    def is_popup(self) -> bool:
        return not self.owns_profile

    def title(self) -> str:
        return self.session.name if not self.is_popup else (self.page.title() or "window")[:40]

    # --- loading ------------------------------------------------------------------------------

    def load(self, url: str | None = None) -> None:
        self.stack.setCurrentWidget(self.view)
        self.view.setUrl(QUrl(url or self.session_url))

    def run_js(self, script: str, callback: Callable[[Any], None]) -> None:
        self.page.runJavaScript(script, 0, callback)

    def _load_finished(self, ok: bool) -> None:
        if ok and self.kind == "desktop" and not self.is_popup and not self._reloaded_stuck_page:
            QTimer.singleShot(NOVNC_START_MS, self, self._check_novnc_started)

    def _check_novnc_started(self) -> None:
        """noVNC 1.3 occasionally stops before its UI starts (left `noVNC_loading`); one reload fixes it."""
        def checked(stuck: object) -> None:
            if stuck is True and not self.stopped:
                log.info("the noVNC page of session %s did not start; reloading it once", self.session.id)
                self._reloaded_stuck_page = True
                self.view.reload()

        self.run_js("document.documentElement !== null"
                    " && document.documentElement.classList.contains('noVNC_loading')", checked)

    def _new_popup(self) -> QWebEnginePage | None:
        """A page for window.open; it becomes a tab once its first load stays on the session's origin."""
        tab = SessionTab(self.session, self.session_url, self.profile, owns_profile=False)
        tab.opener = self
        self.popups.append(tab)
        return tab.page

    def _url_changed(self, url: QUrl) -> None:
        if not self.shown and self.opener is not None and within_origin(url, QUrl(self.session_url)) \
                and url.scheme() != "about":
            self.shown = True
            self.opener.popup_opened.emit(self)

    def _left_origin(self, url: QUrl) -> None:
        """Another origin: the system browser opens it, and a popup that never showed a page goes away."""
        speaker = self if self.shown or self.opener is None else self.opener  # a hidden popup has no toasts
        if url.scheme() in ("http", "https"):
            if QDesktopServices.openUrl(url):
                speaker.message.emit(f"Opened {url.host() or 'the link'} in your browser",
                                     "session tabs show only the session's own pages", "info")
            else:
                speaker.message.emit("No system browser could be started", f"the page wanted {url.host()}",
                                     "warning")
        else:
            log.info("a page of session %s tried to open a %s: link; refused", self.session.id, url.scheme())
        if not self.shown and self.opener is not None:
            opener, self.opener = self.opener, None
            if self in opener.popups:
                opener.popups.remove(self)
            QTimer.singleShot(0, self, self.dispose)  # not inside the navigation request that refused it

    def _title_changed(self, _title: str) -> None:
        if self.is_popup and self.shown:
            self.popup_opened.emit(self)  # the window updates the tab text

    def _download(self, download: QWebEngineDownloadRequest) -> None:
        suggested = str(Path(download.downloadDirectory()) / download.downloadFileName())
        target, _ = QFileDialog.getSaveFileName(self, "Save download", suggested)
        if not target:
            download.cancel()
            return
        download.setDownloadDirectory(str(Path(target).parent))
        download.setDownloadFileName(Path(target).name)
        download.accept()
        self.message.emit(f"Downloading {Path(target).name}", f"saving to {Path(target).parent}", "info")

    # --- tools --------------------------------------------------------------------------------

    def zoom_in(self) -> None:
        self._zoom(+1)

    def zoom_out(self) -> None:
        self._zoom(-1)

    def zoom_reset(self) -> None:
        self.view.setZoomFactor(1.0)
        self.zoom_label.setText("100 %")

    def _zoom(self, step: int) -> None:
        current = self.view.zoomFactor()
        index = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - current))
        factor = ZOOM_STEPS[max(0, min(len(ZOOM_STEPS) - 1, index + step))]
        self.view.setZoomFactor(factor)
        self.zoom_label.setText(f"{factor * 100:.0f} %")

    def open_external(self) -> None:
        url = self.view.url() if self.is_popup else QUrl(self.session_url)
        if not QDesktopServices.openUrl(url):
            self.message.emit("No system browser could be started", "copy the URL instead", "warning")

    def copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.session_url if not self.is_popup else self.view.url().toString())
        self.message.emit("Session URL copied",
                          "it contains this session's secret: anyone who has it can use the session, "
                          "so do not share or paste it in public places", "warning")

    # --- closing ------------------------------------------------------------------------------

    def ask_to_close(self, purpose: str = "close") -> None:
        """Ask the page to close (its beforeunload handlers run); `closed` or `close_kept` answers.

        `purpose` words the question: "close" (the tab), "delete" (the session), "quit" (the app)."""
        if self.closing:
            self.closing = purpose
            return  # already asked: one answer serves both
        if self.stopped or self.page.url().isEmpty():
            QTimer.singleShot(0, self, lambda: self.closed.emit(self))  # nothing of the session's is left to lose
            return
        self.closing = purpose
        self._pinged, self._waits = False, 0
        self._close_timer.start()
        self.page.triggerAction(QWebEnginePage.WebAction.RequestClose)

    def _page_closed(self) -> None:
        """The page closed: it agreed to a close request, or a pop-up closed itself (window.close())."""
        if self.closing or self.is_popup:
            self.closing = ""
            self._close_timer.stop()
            self.closed.emit(self)

    def _no_answer(self) -> None:
        """No decision yet: a page whose renderer is stuck or gone has nothing left to save and closes;
        a page that is alive but slow is given time (its work is never dropped for being slow)."""
        if not self.closing or self._asking:
            return
        if self._pinged:
            log.info("the page of session %s does not respond; closing its tab", self.session.id)
            self._page_closed()
            return
        self._waits += 1
        if self._waits > CLOSE_PATIENCE:
            self.closing = ""
            self.close_kept.emit(self)
            self.message.emit(f"“{self.session.name}” did not answer the close request",
                              "its page is busy; close the tab again in a moment", "warning")
            return
        self._pinged = True
        self.page.runJavaScript("0", 0, self._alive)
        self._close_timer.start()

    def _alive(self, _value: object) -> None:
        self._pinged = False

    def _confirm(self, message: str, unload: bool) -> bool:
        """The page's question as a dialog of the app's; for unsaved work, worded for what is happening."""
        self._close_timer.stop()
        self._asking = True
        box, go = unsaved_question(self.window(), self.session.name, self.closing, message, unload)
        box.exec()
        self._asking = False
        try:
            answer = box.clickedButton() is go
        except RuntimeError:  # the window went while asking (the app is closing): let the page go
            return True
        if unload and self.closing and not answer:
            self.closing = ""
            self.close_kept.emit(self)
        elif unload and self.closing:
            self._close_timer.start()  # the page closes now; if it does not say so, close it anyway
        return answer

    def show_keys_hint(self, text: str) -> None:
        self.keys_hint.show_text(text)

    # --- following the session ----------------------------------------------------------------

    def update_session(self, s: Session | None) -> None:
        """Show the stopped panel when the session is no longer openable; reload when it is back."""
        if s is None:
            s = self.session.with_state(State.TERMINATED, "deleted")
        self.session = s
        if s.state in OPENABLE:
            if self.stopped:
                self.stopped = False
                self.load()
            return
        if s.state == State.LAUNCHING and not self.stopped:
            return  # still starting (or restarting briefly): leave the page alone
        if not self.stopped:
            self.stopped = True
            self.view.stop()
        self.stopped_panel.show_state(s.name, s.state, s.reason)
        self.stack.setCurrentWidget(self.stopped_panel)

    def dispose(self) -> None:
        """Free the page before its profile (QtWebEngine requires that order), closing connections."""
        for popup in self.popups:
            popup.dispose()
        self.popups.clear()
        self.view.stop()
        self.page.deleteLater()
        self.view.deleteLater()
        if self.owns_profile:
            self.profile.deleteLater()
        self.deleteLater()
