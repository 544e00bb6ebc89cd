"""A session's output in the troubleshooting panel: the view (follow, search, copy) and its follower.

The follower reads `service.follow_logs` (redacted lines) on the app's worker pool as an asyncio
task and hands the lines to the GUI thread in batches; `stop` closes the stream at once, so the
worker it held is free again even if the event loop is already going away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.report import redact
from ..core.service import LineStream, SessionService
from ..core.session import Session
from . import icons
from .tasks import Runner

log = logging.getLogger(__name__)

LOG_TAIL = 400


def mono_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


class LogFollower:
    """Follows one session's output until stopped; `deliver(lines)` runs on the GUI thread."""

    def __init__(self, runner: Runner, service: SessionService, s: Session, deliver: Callable[[list[str]], None],
                 tail: int = LOG_TAIL) -> None:
        self.runner, self.service, self.session = runner, service, s
        self.deliver = deliver
        self.tail = tail
        self._stopped = threading.Event()
        self._streams: list[LineStream] = []
        self._lock = threading.Lock()
        self._batch: list[str] = []
        self.task = runner.run(self.runner.in_thread(self._read))
        if self.task is not None:  # the runner shutting down cancels it: the stream must close too
            self.task.add_done_callback(lambda _task: self.stop())

    def stop(self) -> None:
        """End now: close the stream (the worker reading it returns) and cancel the task."""
        self._stopped.set()
        for stream in self._streams:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a broken stream can fail in many ways
                pass
        if self.task is not None:
            self.task.cancel()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _read(self) -> None:
        """Worker thread: read until the stream ends or is closed; post each new batch once."""
        s = self.session
        try:
            stream = self.service.follow_logs(s, tail=self.tail)
            self._streams.append(stream)
            if self._stopped.is_set():  # stopped while the stream was opening
                stream.close()
                return
            for line in stream:
                if self._stopped.is_set():
                    break
                line = redact(line, [s.secret])  # the session's secret is out already; now secret-looking settings
                with self._lock:
                    first = not self._batch
                    self._batch.append(line)
                if first:
                    self.runner.loop.call_soon_threadsafe(self._flush)
        except Exception as exc:  # noqa: BLE001 - the stream ends when closed, or when the container goes
            log.debug("log stream of %s ended: %s", s.id, exc)

    def _flush(self) -> None:
        with self._lock:
            lines, self._batch = self._batch, []
        if lines and not self._stopped.is_set():
            try:
                self.deliver(lines)
            except RuntimeError:  # the view was closed meanwhile
                pass


class LogView(QWidget):
    """The session's output with follow, search (all matches highlighted), wrap and copy.

    Without `follow` (a card's Logs and Events dialogs: a snapshot) there is no Follow box."""

    def __init__(self, parent: QWidget | None = None, follow: bool = True, name: str = "Session log") -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the log (Enter: next match)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the log")
        self.search.returnPressed.connect(lambda: self.find(self.search.text()))
        self.search.textChanged.connect(lambda text: self.find(text, move=False))
        self.matches = QLabel()
        self.matches.setObjectName("muted")
        self.follow = QCheckBox("Follow")
        self.follow.setChecked(follow)
        self.follow.setVisible(follow)
        self.follow.setToolTip("Keep reading new output as the session writes it")
        self.wrap = QCheckBox("Wrap")
        self.wrap.setToolTip("Wrap long lines instead of scrolling sideways")
        self.wrap.setAccessibleName("Wrap long lines")
        self.wrap.toggled.connect(self._wrap)
        self.copy_button = QPushButton("Copy")
        icons.set_icon(self.copy_button, "copy")
        self.copy_button.setToolTip("Copy the log (secrets hidden) to the clipboard; Ctrl+C copies a selection")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.matches)
        bar.addWidget(self.follow)
        bar.addWidget(self.wrap)
        bar.addWidget(self.copy_button)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(mono_font())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumBlockCount(5000)
        self.text.setAccessibleName(name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)

    def _wrap(self, on: bool) -> None:
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth if on
                                  else QPlainTextEdit.LineWrapMode.NoWrap)

    def clear(self, placeholder: str = "") -> None:
        self.text.setPlainText(placeholder)
        self.matches.clear()

    def append(self, lines: list[str]) -> None:
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        for line in lines:
            self.text.appendPlainText(line)
        if self.follow.isChecked() or at_end:
            bar.setValue(bar.maximum())
        if self.search.text():
            self.find(self.search.text(), move=False)

    def find(self, term: str, move: bool = True) -> int:
        """Highlight every match, move to the next one; returns how many there are."""
        selections = []
        count = 0
        if term:
            colour = QColor("#f6e05e")
            doc = self.text.document()
            cursor = doc.find(term)
            while not cursor.isNull():
                count += 1
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor  # type: ignore[attr-defined]
                fmt = QTextCharFormat()
                fmt.setBackground(colour)
                fmt.setForeground(QColor("#1f2328"))
                sel.format = fmt  # type: ignore[attr-defined]
                selections.append(sel)
                cursor = doc.find(term, cursor)
            if move and count:
                self.follow.setChecked(False)
                if not self.text.find(term):
                    self.text.moveCursor(QTextCursor.MoveOperation.Start)
                    self.text.find(term)
        self.text.setExtraSelections(selections)
        self.matches.setText(("no match" if not count else f"{count} match" + ("es" if count > 1 else ""))
                             if term else "")
        return count

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())  # a selection copies with Ctrl+C
