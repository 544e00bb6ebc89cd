"""Non-blocking messages: toasts with a hint that fade on their own, and the engine banner.

Nothing here is modal: a failure a person can act on says what happened and what to do,
and never interrupts what they are doing in a session tab.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from ..core.diagnostics import Check
from ..core.errors import CanfarError
from . import icons

LEVEL_COLOURS = {"info": "#2f6fdf", "warning": "#b7791f", "error": "#c53030"}


class Toast(QFrame):
    closed = Signal(object)

    def __init__(self, text: str, hint: str, level: str, parent: QWidget | None = None,
                 actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setStyleSheet(f"QFrame#toast {{ background: {LEVEL_COLOURS.get(level, '#2f6fdf')}; }}"
                           "QPushButton#toastAction { background: rgba(255, 255, 255, 0.16); color: white;"
                           " border: 1px solid rgba(255, 255, 255, 0.75); border-radius: 6px; padding: 4px 14px;"
                           " font-weight: 600; }"
                           "QPushButton#toastAction:hover { background: rgba(255, 255, 255, 0.3); }")
        self.level = level
        self.text = text
        self.hint = hint
        label = QLabel(f"<b>{_escape(text)}</b>" + (f"<br>{_escape(hint)}" if hint else ""))
        label.setWordWrap(True)
        label.setAccessibleName(f"{level}: {text}. {hint}")
        close = QToolButton()
        close.setIcon(icons.icon("close", "#ffffff"))
        close.setToolTip("Dismiss this message")
        close.setAccessibleName("Dismiss message")
        close.clicked.connect(lambda: self.closed.emit(self))
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        row.addWidget(label, 1)
        self.buttons: list[QPushButton] = []
        for caption, slot in actions:  # e.g. Renew on an expiry notice
            button = QPushButton(caption)
            button.setObjectName("toastAction")
            button.setAccessibleName(f"{caption}: {text}")
            button.clicked.connect(lambda _c=False, slot=slot: (slot(), self.closed.emit(self)))
            row.addWidget(button)
            self.buttons.append(button)
        row.addWidget(close)


class MessageBar(QWidget):
    """A stack of toasts at the top of the window; info and warnings go away by themselves."""

    LIMIT = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 0)
        self._layout.setSpacing(4)
        self.toasts: list[Toast] = []
        self.setVisible(False)

    def show_message(self, text: str, hint: str = "", level: str = "info", timeout_ms: int | None = None,
                     actions: Sequence[tuple[str, Callable[[], None]]] = ()) -> Toast:
        """Show a toast; one already showing the same headline is kept instead of stacking a twin."""
        for shown in self.toasts:
            if shown.text == text and shown.level == level and not actions:
                return shown
        toast = Toast(text, hint, level, actions=actions)
        toast.closed.connect(self.dismiss)
        self.toasts.append(toast)
        self._layout.addWidget(toast)
        while len(self.toasts) > self.LIMIT:  # the oldest goes, but one still waiting for an answer (Renew) stays
            self.dismiss(next((t for t in self.toasts if not t.buttons), self.toasts[0]))
        self.setVisible(True)
        wait = timeout_ms if timeout_ms is not None else {"info": 6000, "warning": 12000}.get(level, 0)
        if wait:
            QTimer.singleShot(wait, toast, lambda: self.dismiss(toast))
        return toast

    def show_error(self, err: CanfarError) -> Toast:
        return self.show_message(err.message, err.hint, "error", timeout_ms=20000)

    def dismiss(self, toast: Toast) -> None:
        if toast in self.toasts:
            self.toasts.remove(toast)
            toast.hide()
            toast.deleteLater()
        self.setVisible(bool(self.toasts))


class EngineBanner(QFrame):
    """Shown while a Docker host cannot be reached: what failed, what to do, Retry, the doctor's view."""

    retry_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.host = ""
        self._error: CanfarError | None = None
        self.picture = QLabel()
        self.picture.setPixmap(icons.icon("warning", "#b7791f").pixmap(28, 28))
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.findings = QLabel()
        self.findings.setWordWrap(True)
        self.findings.setVisible(False)
        self.retry_button = QPushButton("Retry")
        icons.set_icon(self.retry_button, "refresh")
        self.retry_button.setToolTip("Try to reach the Docker engine again now")
        self.retry_button.setAccessibleName("Retry connecting to the Docker engine")
        self.retry_button.clicked.connect(lambda: self.retry_requested.emit(self.host))
        self.status = QLabel()
        text = QVBoxLayout()
        text.setSpacing(2)
        for widget in (self.title, self.hint, self.findings, self.status):
            text.addWidget(widget)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 10, 12, 10)
        row.addWidget(self.picture)
        row.addLayout(text, 1)
        row.addWidget(self.retry_button)
        self.setAccessibleName("Docker engine unreachable")
        self.setVisible(False)

    def show_error(self, host: str, err: CanfarError) -> None:
        self.host = host
        self._error = err
        self.title.setText(f"<b>Cannot reach the Docker engine of host “{_escape(host)}”.</b> {_escape(err.message)}")
        self.hint.setText(f"What to do: {_escape(err.hint)}. The dashboard reconnects by itself when the engine is "
                          "back." if err.hint else "The dashboard reconnects by itself when the engine is back.")
        self.findings.setVisible(False)
        self.status.setText("")
        self.setVisible(True)

    def show_findings(self, checks: list[Check]) -> None:
        lines = []
        for c in checks:
            verdict = c.verdict
            if self._error is not None and verdict.endswith(self._error.message):
                verdict = verdict[: -len(self._error.message)].rstrip(": ")  # the banner already says the rest
                lines.append(f"{c.symbol} {_escape(c.title)}: {_escape(verdict)}")
                continue
            line = f"{c.symbol} {_escape(c.title)}: {_escape(verdict)}"
            if c.figure:
                line += f" ({_escape(c.figure)})"
            if c.hint and c.level in ("warn", "fail"):
                line += f" — {_escape(c.hint)}"
            lines.append(line)
        stamp = datetime.now().strftime("%H:%M:%S")
        self.findings.setText(f"<i>Doctor (checked at {stamp}):</i> " + "<br>".join(lines))
        self.findings.setVisible(bool(lines))

    def retrying(self) -> None:
        self.status.setText("Retrying…")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
