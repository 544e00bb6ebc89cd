"""Cards' live graphs: a hand-painted CPU and memory sparkline per running session's card.

A chart view per card would cost far more than painting a few lines, and QtCharts would load with
the dashboard at start; the troubleshooting panel's QtCharts charts are in ui/charts.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QPixmap, QPolygonF, QStaticText
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from ..core.formats import human_bytes
from .theme import ACCENT
from .theme import current as current_colours

if TYPE_CHECKING:
    from ..core.monitor import Point  # the monitors load with the window, after the cards show

SPARK_VALUES = 90  # at most this many readings
_FRAMES: dict[tuple[int, int, float, str, str, str], QPixmap] = {}  # Sparkline.frame's pictures


def nice_ceiling(value: float) -> float:
    """The next 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^n at or above value: axis tops a person can read."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power


class Sparkline(QWidget):
    """A tiny filled line of one measure with its current value written over it (for cards).

    Ten cards redraw twenty of these every few seconds, so the line's points are computed once per
    change of values or size (not on every paint), the label's text is laid out once per change of
    text, and a reading equal to the one drawn changes nothing (no repaint).
    """

    def __init__(self, label: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.colour = colour
        self.values: list[float] = []
        self.top = 100.0
        self.text = ""
        self._line: QPolygonF | None = None  # in widget coordinates, for _line_size
        self._line_size = QSize()
        self._caption: QStaticText | None = None
        self.setFixedHeight(26)
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # it paints every pixel itself (the card's colour in the corners), so a repaint every few
        # seconds redraws this small rectangle only, not the card's styled frame beneath it
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_values(self, values: Sequence[float], top: float, text: str, span_s: float | None = None) -> None:
        """`span_s`: the seconds the values cover (one a second when not given)."""
        values, top = list(values[-SPARK_VALUES:]), max(top, 1e-9)
        if values == self.values and top == self.top and text == self.text:
            return  # the same picture: nothing to redraw
        if text != self.text:
            self._caption = None
            self.setAccessibleName(f"{self.label}: {text}" if text else f"{self.label}: no reading")
        self.values, self.top, self.text = values, top, text
        span = len(values) if span_s is None else span_s
        self.setToolTip(f"{self.label} over the last {span:.0f} s: {text}" if text else "")
        self._line = None
        self.update()

    def line(self) -> QPolygonF | None:
        """The values' line in this widget's coordinates (None for fewer than two values), kept until
        the values or the size change."""
        if self._line is not None and self._line_size == self.size():
            return self._line
        values = self.values
        if len(values) < 2:
            return None
        inner = QRectF(self.rect()).adjusted(2.5, 3.5, -2.5, -2.5)
        left, bottom, top = inner.left(), inner.bottom(), self.top
        step, scale = inner.width() / (len(values) - 1), inner.height() / top
        self._line = QPolygonF([QPointF(left + i * step, bottom - (top if v > top else v if v > 0 else 0.0) * scale)
                                for i, v in enumerate(values)])
        self._line_size = self.size()
        return self._line

    def frame(self) -> QPixmap:
        """The empty rounded box in the theme's colours; one picture shared by every sparkline of this size
        (an antialiased rounded rectangle costs more to draw than the line in it)."""
        c = current_colours()
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, c.card, c.border, c.window)
        pixmap = _FRAMES.get(key)
        if pixmap is None:
            if len(_FRAMES) > 16:  # sizes and themes seen before: a resize or theme change makes more
                _FRAMES.clear()
            pixmap = _FRAMES[key] = QPixmap(QSize(round(self.width() * ratio), round(self.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(QColor(c.card))
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(c.border), 1))
            painter.setBrush(QColor(c.window))
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
            painter.end()
        return pixmap

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        c = current_colours()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self.frame())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        line = self.line()
        if line is not None:
            bottom = rect.bottom() - 2
            fill = QPolygonF(line)
            fill.append(QPointF(line.last().x(), bottom))
            fill.append(QPointF(line.first().x(), bottom))
            tint = QColor(self.colour)
            tint.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(tint)
            # the fill's only slanted edge lies under the line, which is antialiased: a tenth of the cost
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.drawPolygon(fill)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(self.colour), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolyline(line)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        caption = self._caption
        if caption is None:
            caption = self._caption = QStaticText(f"{self.label}  {self.text or '–'}")
            caption.setTextFormat(Qt.TextFormat.PlainText)
            caption.prepare(painter.transform(), font)
        painter.setPen(QColor(c.text))
        painter.setClipRect(rect.adjusted(7, 0, -6, 0))
        painter.drawStaticText(QPointF(rect.left() + 7, rect.center().y() - caption.size().height() / 2), caption)
        painter.end()


class CardMonitors(QWidget):
    """CPU and memory sparklines side by side, for a running session's card."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cpu = Sparkline("CPU", ACCENT)
        self.memory = Sparkline("Mem", "#2f855a")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.cpu, 1)
        layout.addWidget(self.memory, 1)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # cards in a row keep one height
        self.setSizePolicy(policy)
        self.setAccessibleName("Live CPU and memory")

    def set_points(self, points: Sequence[Point]) -> None:
        if not points:
            self.cpu.set_values([], 100, "")
            self.memory.set_values([], 1, "")
            return
        points = points[-SPARK_VALUES:]
        last = points[-1]
        span = last.t - points[0].t if len(points) > 1 else 0.0  # readings come every few seconds
        cpu = [p.cpu_percent for p in points]
        self.cpu.set_values(cpu, nice_ceiling(max(100.0, *cpu)), f"{last.cpu_percent:.0f} %", span)
        memory = [float(p.memory_bytes) for p in points]
        top = float(last.limit_bytes) or max(memory)
        self.memory.set_values(memory, top, f"{human_bytes(last.memory_bytes)} of {human_bytes(last.limit_bytes)}"
                               if last.limit_bytes else human_bytes(last.memory_bytes), span)
