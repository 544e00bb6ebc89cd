"""Non-blocking messages: toasts with a hint, and the engine banner.

Nothing here is modal: a failure a person can act on says what happened and what to do,
and never interrupts what they are doing in a session tab. Toasts float over the window's
bottom-right corner and never move the layout (a button stays where the pointer is). Information
and warnings go by themselves; failures stay until they are dismissed. A toast about one session
(`about`) goes when that session goes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from ..core.diagnostics import Check
from ..core.errors import CanfarError
from . import icons
from .wording import for_app, hint_of, message_of

LEVEL_COLOURS = {"info": "#2f6fdf", "warning": "#b7791f", "error": "#c53030"}


class Toast(QFrame):
    closed = Signal(object)

    def __init__(self, text: str, hint: str, level: str, parent: QWidget | None = None,
                 actions: Sequence[tuple[str, Callable[[], None]]] = (), about: str = "") -> None:
        super().__init__(parent)
        self.about = about  # "host/id" of the session it is about (or a pending launch's key), if any
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
    """A stack of toasts floating over a corner of its host widget (see `attach`)."""

    LIMIT = 4
    WIDTH = 460
    MARGIN = 12
    timeouts: ClassVar[dict[str, int]] = {"info": 6000, "warning": 12000}  # errors: none, they wait to be read

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.toasts: list[Toast] = []
        self._host: QWidget | None = None
        self.setVisible(False)

    def attach(self, host: QWidget) -> None:
        """Float over `host`'s bottom-right corner, outside every layout."""
        self._host = host
        self.setParent(host)
        host.installEventFilter(self)
        self._place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Polish, QEvent.Type.FontChange):
            QTimer.singleShot(0, self, self._place)  # a toast's text wrapped anew: its height changed
        return super().event(event)

    def _place(self) -> None:
        """Each toast as tall as its wrapped text at the bar's width; the stack in the bottom-right corner."""
        host = self._host
        if host is None or not self.toasts:
            return
        width = max(220, min(self.WIDTH, host.width() - 2 * self.MARGIN))
        heights = [t.heightForWidth(width) if t.hasHeightForWidth() else t.sizeHint().height() for t in self.toasts]
        height = sum(max(h, t.minimumSizeHint().height()) for h, t in zip(heights, self.toasts, strict=True))
        height += self._layout.spacing() * (len(self.toasts) - 1)
        if (self.width(), self.height()) != (width, height):
            self.setFixedSize(width, height)
        self.move(host.width() - width - self.MARGIN, max(0, host.height() - height - self.MARGIN))
        self.raise_()

    def show_message(self, text: str, hint: str = "", level: str = "info", timeout_ms: int | None = None,
                     actions: Sequence[tuple[str, Callable[[], None]]] = (), about: str = "") -> Toast:
        """Show a toast; one already showing the same headline is kept instead of stacking a twin."""
        text, hint = for_app(text), for_app(hint)
        for shown in self.toasts:
            if shown.text == text and shown.level == level and not actions:
                return shown
        toast = Toast(text, hint, level, actions=actions, about=about)
        toast.closed.connect(self.dismiss)
        self.toasts.append(toast)
        self._layout.addWidget(toast)
        while len(self.toasts) > self.LIMIT:  # the oldest goes; failures and questions (Renew) stay longest
            self.dismiss(next((t for t in self.toasts if not t.buttons and t.level != "error"),
                              next((t for t in self.toasts if not t.buttons), self.toasts[0])))
        self.setVisible(True)
        self._place()
        wait = timeout_ms if timeout_ms is not None else self.timeouts.get(level, 0)
        if wait:
            QTimer.singleShot(wait, toast, lambda: self.dismiss(toast))
        return toast

    def show_error(self, err: CanfarError, title: str = "", about: str = "") -> Toast:
        """A failure, in the app's words; it stays until dismissed."""
        return self.show_message(title or message_of(err), hint_of(err), "error", about=about)

    def forget(self, about: str) -> None:
        """The session (or launch) `about` is gone: so are its toasts."""
        for toast in [t for t in self.toasts if t.about == about]:
            self.dismiss(toast)

    def dismiss(self, toast: Toast) -> None:
        if toast in self.toasts:
            self.toasts.remove(toast)
            self._layout.removeWidget(toast)
            toast.hide()
            toast.deleteLater()
        self.setVisible(bool(self.toasts))
        self._place()


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

    def show_error(self, host: str, err: CanfarError, platform: bool = False) -> None:
        """`platform`: the host is a science platform, not a Docker engine, and is named as one."""
        self.host = host
        self._error = err
        what = f"the science platform “{_escape(host)}”" if platform else f"the Docker engine of host “{_escape(host)}”"
        back = "The dashboard reconnects by itself when " + ("the platform answers again." if platform
                                                             else "the engine is back.")
        self.title.setText(f"<b>Cannot reach {what}.</b> {_escape(err.message)}")
        self.hint.setText(f"What to do: {_escape(for_app(err.hint))}. {back}" if err.hint else back)
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
                line += f" — {_escape(for_app(c.hint))}"
            lines.append(line)
        stamp = datetime.now().strftime("%H:%M:%S")
        self.findings.setText(f"<i>Doctor (checked at {stamp}):</i> " + "<br>".join(lines))
        self.findings.setVisible(bool(lines))

    def retrying(self) -> None:
        self.status.setText("Retrying…")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
