"""Sharing a session in the app: "Share…" on a running session's card, the share dialog (time, address,
link, QR code, certificate fingerprint, New secret, Stop sharing), and a line on the card saying it is
shared and until when. The shares themselves are core/share.py's; they end by themselves, and all end
when the app quits."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.lifecycle import State
from ..core.session import Session
from ..core.share import DURATIONS_MIN, Share, ShareManager, candidate_addresses, landing_of
from . import icons
from .cards import SessionCard

if TYPE_CHECKING:
    import asyncio

    from ..core.service import SessionService
    from .dashboard import Dashboard
    from .store import SessionStore

SHAREABLE = (State.RUNNING, State.SUSPENDED)
SHARED_COLOUR = "#b7791f"


def qr_pixmap(text: str, scale: int = 5) -> QPixmap:
    """The text as a QR code (segno: a small, dependency-free encoder)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def duration_text(minutes: int) -> str:
    return f"{minutes} minutes" if minutes < 60 else f"{minutes // 60} hour{'s' if minutes >= 120 else ''}" \
        if minutes < 1440 else f"{minutes // 1440} day{'s' if minutes >= 2880 else ''}"


class ShareDialog(QDialog):
    """Start, show, renew the secret of, or stop one session's share. Closing it keeps the share."""

    def __init__(self, sharing: Sharing, s: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sharing = sharing
        self.session = s
        self.setWindowTitle(f"Share {s.name}")
        self.setMinimumWidth(560)
        warning = QLabel("Sharing makes this session reachable from other devices on your network, over HTTPS, "
                         "for the time you choose. Whoever has the link can use the session as you: send it only "
                         "to yourself or people you trust.")
        warning.setWordWrap(True)
        self.duration = QComboBox()
        self.duration.setAccessibleName("Share for")
        for minutes in DURATIONS_MIN:
            self.duration.addItem(duration_text(minutes), minutes)
        self.duration.setCurrentIndex(1)
        self.address = QComboBox()
        self.address.setEditable(True)
        self.address.setAccessibleName("Address other devices reach")
        self.address.addItems(candidate_addresses())
        self.start_button = QPushButton("Start sharing")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self.start)
        self.setup = QWidget()
        form = QFormLayout(self.setup)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Share for", self.duration)
        form.addRow("On address", self.address)
        form.addRow("", self.start_button)

        self.until = QLabel()
        self.until.setStyleSheet(f"color: {SHARED_COLOUR}; font-weight: bold;")
        self.qr = QLabel()
        self.qr.setAccessibleName("QR code of the share link")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.link = QLineEdit()
        self.link.setReadOnly(True)
        self.link.setAccessibleName("Share link")
        copy = QPushButton("Copy link")
        icons.set_icon(copy, "copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.link.text()))
        self.fingerprint = QLabel()
        self.fingerprint.setWordWrap(True)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.fingerprint.setFont(mono)
        self.fingerprint.setAccessibleName("Certificate fingerprint")
        self.revoke_button = QPushButton("New secret")
        self.revoke_button.setToolTip("The current link and every device using it stop working; a new link replaces it")
        self.revoke_button.clicked.connect(self.revoke)
        self.stop_button = QPushButton("Stop sharing")
        self.stop_button.clicked.connect(self.stop)
        self.shared = QWidget()
        box = QVBoxLayout(self.shared)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.until)
        box.addWidget(self.qr)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(copy)
        box.addLayout(link_row)
        explain = QLabel("Certificate fingerprint (SHA-256): the other device's browser warns that no authority "
                         "vouches for the certificate; continue only if it shows this fingerprint.")
        explain.setWordWrap(True)
        box.addWidget(explain)
        box.addWidget(self.fingerprint)
        actions = QHBoxLayout()
        actions.addWidget(self.revoke_button)
        actions.addStretch(1)
        actions.addWidget(self.stop_button)
        box.addLayout(actions)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addWidget(self.setup)
        layout.addWidget(self.shared)
        layout.addWidget(self.error)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self.show_state()

    def current(self) -> Share | None:
        return self.sharing.manager.get(self.session)

    def show_state(self) -> None:
        share = self.current()
        self.setup.setVisible(share is None)
        self.shared.setVisible(share is not None)
        if share is not None:
            self.until.setText(f"Shared until {share.until.astimezone():%H:%M} ({share.until.astimezone():%a %d %b})")
            self.link.setText(share.link)
            self.qr.setPixmap(qr_pixmap(share.link))
            self.fingerprint.setText(share.fingerprint)
        self.adjustSize()

    def start(self) -> None:
        self.error.setText("")
        try:
            self.sharing.manager.start(self.session, timedelta(minutes=int(self.duration.currentData())),
                                       self.address.currentText().strip())
        except CanfarError as exc:
            self.error.setText(f"{exc.message}; {exc.hint}" if exc.hint else exc.message)
        self.show_state()

    def revoke(self) -> None:
        try:
            self.sharing.manager.revoke(self.session)
        except CanfarError as exc:
            self.error.setText(exc.message)
        self.show_state()

    def stop(self) -> None:
        self.sharing.manager.stop(self.session)
        self.show_state()


class Sharing(QObject):
    """The app's shares: a Share… button and a "shared until" line on each card of a running session."""

    def __init__(self, service: SessionService, loop: asyncio.AbstractEventLoop, store: SessionStore,
                 dashboard: Dashboard, parent: QWidget) -> None:
        super().__init__(parent)
        self.dashboard, self.parent_widget = dashboard, parent
        self.manager = ShareManager(service.endpoint, lambda s: landing_of(service.open_url(s)),
                                    lambda _share: loop.call_soon_threadsafe(self.refresh_cards))
        self.dialog: ShareDialog | None = None
        # queued: after the window has made the cards of this change
        store.changed.connect(self.refresh_cards, Qt.ConnectionType.QueuedConnection)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.manager.stop_all)

    def attach(self, card: SessionCard) -> None:
        """Give a card its Share… button and its "shared" line, once."""
        if card.share_button is not None:
            return
        button = QToolButton()
        button.setText("Share…")
        button.setAutoRaise(True)
        button.setToolTip("Make this session reachable from other devices for a while, over HTTPS with a link")
        button.setAccessibleName("Share session")
        button.clicked.connect(lambda: card.session is not None and self.open_dialog(card.session))
        line = QLabel()
        line.setStyleSheet(f"color: {SHARED_COLOUR};")
        line.setAccessibleName("Shared")
        line.setVisible(False)
        layout = card.layout()
        actions = layout.itemAt(layout.count() - 1).layout() if layout is not None else None
        if layout is None or actions is None:
            return
        actions.insertWidget(actions.indexOf(card.tools[0]), button)
        layout.insertWidget(layout.count() - 1, line)
        card.share_button, card.share_line = button, line

    def refresh_cards(self) -> None:
        for card in list(self.dashboard.cards.values()):
            self.attach(card)
            s = card.session
            button, line = card.share_button, card.share_line
            if button is None or line is None:
                continue
            share = self.manager.get(s) if s is not None else None
            on_platform = s is not None and s.host in self.dashboard.platform_hosts  # shared there, not here
            button.setVisible(s is not None and s.state in SHAREABLE and not card.compact and not on_platform)
            line.setVisible(share is not None)
            if share is not None:
                line.setText(f"Shared with other devices until {share.until.astimezone():%H:%M}")
                line.setToolTip(f"{share.address}:{share.port} · certificate {share.fingerprint}")
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.show_state()

    def open_dialog(self, s: Session) -> ShareDialog:
        dialog = ShareDialog(self, s, self.parent_widget)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog
