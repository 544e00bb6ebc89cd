"""Small widgets shared by the window, cards and dialogs."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ..core.formats import human_duration

ZERO_WIDTH_SPACE = "\u200b"
_BREAK_AFTER = re.compile(r"([/:._=,;-])")
_LONG_RUN = re.compile(r"(\S{24})(?=\S)")


def soft_wrap(text: str) -> str:
    """The text with invisible break points after path and URL separators and inside very long words,
    so a word-wrapped label can always wrap it rather than widen its window."""
    marked = _BREAK_AFTER.sub("\\1" + ZERO_WIDTH_SPACE, text)
    return _LONG_RUN.sub("\\1" + ZERO_WIDTH_SPACE, marked)


def restyle(widget: QWidget, sheet: str) -> None:
    """Set a widget's style sheet unless it has it already: each setting restyles the widget and its
    children, and cards are shown again with every change of any session."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


class ElidedLabel(QLabel):
    """A one-line label that elides with "…" and then shows the full text as its tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(20)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming
        if text == self._full:
            return  # elided already, for this width (a resize elides again)
        self._full = text
        self.setAccessibleDescription(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt naming
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the same text may take another width now
            self._elide()

    def _elide(self) -> None:
        metrics = QFontMetrics(self.font())
        width = max(10, self.width() - 2)
        shown = metrics.elidedText(self._full, self._mode, width)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        hint = super().minimumSizeHint()
        hint.setWidth(20)
        return hint


duration = human_duration  # one formatter for the CLI and the app
