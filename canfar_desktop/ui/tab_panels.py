"""What a session tab shows besides its page: the stopped panel, a one-time hint above the page, and the
question the page's own close request asks (unsaved work), worded for what is happening."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.lifecycle import State
from . import icons
from .widgets import soft_wrap


def unsaved_question(parent: QWidget | None, name: str, purpose: str, message: str,
                     unload: bool) -> tuple[QMessageBox, QAbstractButton]:
    """The page's question as the app's dialog, and its go-ahead button.

    `unload`: the page objects to being left (beforeunload); `purpose` says why it is being left
    ("close", "delete", "quit"; "" for a reload or a link). Otherwise the page's own confirm()."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning if unload else QMessageBox.Icon.Question)
    if unload and purpose:
        words = {
            "delete": ("Delete anyway", "Keep the session", f"Deleting “{name}” loses them."),
            "quit": ("Quit anyway", "Keep it open", f"Quitting closes “{name}” and loses them."),
        }.get(purpose, ("Close anyway", "Keep the tab", "Closing the tab loses them."))
        box.setWindowTitle("Unsaved changes")
        box.setText(f"“{name}” has changes that are not saved.")
        box.setInformativeText(f"{words[2]} Keep it to save them first (in JupyterLab: File › Save, Ctrl+S).")
        go = box.addButton(words[0], QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton(words[1], QMessageBox.ButtonRole.RejectRole)
    elif unload:
        box.setWindowTitle("Leave this page?")
        box.setText(f"The page in “{name}” has changes that are not saved.")
        box.setInformativeText("Leaving it loses them.")
        go = box.addButton("Leave the page", QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton("Stay", QMessageBox.ButtonRole.RejectRole)
    else:
        box.setWindowTitle(f"“{name}” asks")
        box.setText(message)
        go = box.addButton(QMessageBox.StandardButton.Ok)
        stay = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(stay)  # type: ignore[arg-type]
    box.setAccessibleName(box.windowTitle())
    return box, go


class StoppedPanel(QFrame):
    """What a tab shows once its session has stopped, instead of a browser error page."""

    renew_clicked = Signal()
    close_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stopped")
        self.picture = QLabel()
        self.picture.setPixmap(icons.icon("warning", "#b7791f").pixmap(56, 56))
        self.title = QLabel()
        self.title.setObjectName("emptyTitle")
        self.title.setWordWrap(True)  # a long name wraps; the window never grows for it
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setObjectName("muted")
        self.renew_button = QPushButton(icons.icon("renew", "#ffffff"), "Renew and restart")
        self.renew_button.setObjectName("primary")
        self.renew_button.setAccessibleName("Renew the session")
        self.renew_button.clicked.connect(self.renew_clicked)
        self.close_button = QPushButton(icons.icon("close"), "Close tab")
        self.close_button.setAccessibleName("Close this tab")
        self.close_button.clicked.connect(self.close_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.renew_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.picture, self.title, self.reason):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(widget)
        for label in (self.title, self.reason):  # wrapped to the tab's width, whatever it says
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addSpacing(12)
        layout.addLayout(buttons)

    def show_state(self, name: str, state: State, reason: str) -> None:
        title = f"“{name}” is starting again" if state == State.LAUNCHING else f"“{name}” has stopped: {state.value}"
        self.title.setText(soft_wrap(title))
        self.reason.setText(soft_wrap(reason or ""))
        self.renew_button.setVisible(state == State.EXPIRED)
        self.setAccessibleName(title)


class KeysHint(QFrame):
    """A line above a page that says something once (which keys a remote desktop takes), with Got it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keysHint")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.ok_button = QPushButton("Got it")
        self.ok_button.setAccessibleName("Dismiss the keyboard hint")
        self.ok_button.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 8, 6)
        picture = QLabel()
        picture.setPixmap(icons.icon("keyboard").pixmap(18, 18))
        row.addWidget(picture)
        row.addWidget(self.label, 1)
        row.addWidget(self.ok_button)

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleName(text)
        self.setVisible(True)
