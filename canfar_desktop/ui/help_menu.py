"""The Help menu: the guide's sections, CANFAR's documentation, the support contact, the support
report of a session, and About.

The window gives it its menu bar and what it already has (service, runner, store, tabs, messages);
nothing here changes a session. The report is written on a worker and lands on the clipboard.
"""

from __future__ import annotations

import platform
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core.errors import CanfarError
from ..core.report import support_report
from ..core.session import Session
from .guide import DOCS_URL, SECTIONS, SUPPORT_EMAIL

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QMainWindow

    from ..core.service import SessionService
    from .messages import MessageBar
    from .store import SessionStore
    from .tasks import Runner


class GuideDialog(QDialog):
    """One section of the guide, rendered from Markdown; links open in the system browser."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Guide — {title}")
        self.resize(640, 480)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(f"# {title}\n{text}")
        self.browser.setAccessibleName(f"Guide: {title}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


class HelpMenu:
    """Builds the Help menu on the window's menu bar; `copy_report(session)` is also a public hook."""

    def __init__(self, window: QMainWindow, service: SessionService, runner: Runner, store: SessionStore,
                 messages: MessageBar, front: Callable[[], tuple[str, str] | None]) -> None:
        self.window = window  # the menu bar's owner and the dialogs' parent
        self.service, self.runner, self.store, self.messages = service, runner, store, messages
        self.front = front  # (host, id) of the session whose tab is in front, if any
        self.menu = window.menuBar().addMenu("&Help")
        self.menu.setObjectName("helpMenu")
        guide = self.menu.addMenu("&Guide")
        guide.setObjectName("guideMenu")
        for title, text in SECTIONS:
            act = QAction(title, window)
            act.triggered.connect(lambda _c=False, t=title, x=text: self.show_section(t, x))
            guide.addAction(act)
        docs = self.menu.addAction("CANFAR &documentation online")
        docs.triggered.connect(lambda: QDesktopServices.openUrl(QUrl(DOCS_URL)))
        self.menu.addSeparator()
        self.reports = self.menu.addMenu("Copy &support report")
        self.reports.setObjectName("reportMenu")
        self.reports.aboutToShow.connect(self._fill_reports)
        contact = self.menu.addAction(f"&Contact support ({SUPPORT_EMAIL})…")
        contact.triggered.connect(self.show_contact)
        self.menu.addSeparator()
        about = self.menu.addAction("&About CANFAR Desktop")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        self.dialog: QDialog | None = None  # the last guide dialog shown (tests read it)
        self.last_report = ""

    # --- guide and contact --------------------------------------------------------------------

    def show_section(self, title: str, text: str) -> GuideDialog:
        dialog = GuideDialog(title, text, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialog = dialog
        return dialog

    def show_contact(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, "Contact support",
                          f"Write to <a href='mailto:{SUPPORT_EMAIL}'>{SUPPORT_EMAIL}</a>.", parent=self.window)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setInformativeText("Include the session's support report (Help › Copy support report: id, image, "
                               "state history, errors, last log lines and host facts, secrets removed) and the "
                               "steps that led to the problem.")
        copy = box.addButton("Copy address", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(SUPPORT_EMAIL))
        box.addButton(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def show_about(self) -> QMessageBox:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        paths = self.service.paths
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About CANFAR Desktop",
                          f"<b>CANFAR Desktop {__version__}</b>", parent=self.window)
        box.setIconPixmap(self.window.windowIcon().pixmap(64, 64))
        box.setInformativeText(
            "Interactive CANFAR sessions (notebooks, desktops, CARTA, Firefly, contributed apps) as containers "
            "on the Docker hosts you choose.<br><br>"
            f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {pyside_version} · "
            f"{platform.system()} {platform.machine()}<br>"
            f"Settings: {paths.settings_file}<br>License: AGPL-3.0-or-later")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    # --- support report ----------------------------------------------------------------------

    def _candidates(self) -> list[Session]:
        """The session in front first, then every other one the dashboard shows."""
        sessions = list(self.store.all())
        front = self.front()
        sessions.sort(key=lambda s: (front != (s.host, s.id), s.name))
        return sessions

    def _fill_reports(self) -> None:
        self.reports.clear()
        sessions = self._candidates()
        if not sessions:
            none = self.reports.addAction("No sessions: launch one first")
            none.setEnabled(False)
            return
        for s in sessions:
            act = self.reports.addAction(f"{s.name} ({s.id}, {s.state.value})")
            act.triggered.connect(lambda _c=False, chosen=s: self.copy_report(chosen))

    def copy_report(self, s: Session) -> None:
        def done(text: str) -> None:
            self.last_report = text
            QGuiApplication.clipboard().setText(text)
            self.messages.show_message(f"Support report of {s.name} copied",
                                       f"secrets are removed; paste it into a mail to {SUPPORT_EMAIL}", "info")

        def failed(err: CanfarError) -> None:
            self.messages.show_error(err, f"Could not write the support report of {s.name}")

        self.runner.run(support_report, self.service, s, on_done=done, on_error=failed)
