"""Cards' live graphs: a hand-painted CPU and memory sparkline per running session's card.

A chart view per card would cost far more than painting a few lines, and QtCharts would load with
the dashboard at start; the troubleshooting panel's QtCharts charts are in ui/charts.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from ..core.formats import human_bytes
from .theme import ACCENT
from .theme import current as current_colours

if TYPE_CHECKING:
    from ..core.monitor import Point  # the monitors load with the window, after the cards show


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
    """A tiny filled line of one measure with its current value written over it (for cards)."""

    def __init__(self, label: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.colour = colour
        self.values: list[float] = []
        self.top = 100.0
        self.text = ""
        self.setFixedHeight(26)
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # it paints every pixel itself (the card's colour in the corners), so a repaint every few
        # seconds redraws this small rectangle only, not the card's styled frame beneath it
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_values(self, values: Sequence[float], top: float, text: str) -> None:
        self.values, self.top, self.text = list(values), max(top, 1e-9), text
        self.setAccessibleName(f"{self.label}: {text}" if text else f"{self.label}: no reading")
        self.setToolTip(f"{self.label} over the last {len(self.values)} s: {text}" if text else "")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        c = current_colours()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(c.card))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(QColor(c.border), 1))
        painter.setBrush(QColor(c.window))
        painter.drawRoundedRect(rect, 5, 5)
        values = self.values[-90:]
        if len(values) >= 2:
            inner = rect.adjusted(2, 3, -2, -2)
            step = inner.width() / (len(values) - 1)

            def y(v: float) -> float:
                return inner.bottom() - min(1.0, max(0.0, v / self.top)) * inner.height()

            path = QPainterPath(QPointF(inner.left(), y(values[0])))
            for i, v in enumerate(values[1:], 1):
                path.lineTo(inner.left() + i * step, y(v))
            fill = QPainterPath(path)
            fill.lineTo(inner.right(), inner.bottom())
            fill.lineTo(inner.left(), inner.bottom())
            fill.closeSubpath()
            tint = QColor(self.colour)
            tint.setAlpha(60)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(tint)
            painter.drawPath(fill)
            painter.setPen(QPen(QColor(self.colour), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        painter.setPen(QColor(c.text))
        painter.drawText(rect.adjusted(7, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         f"{self.label}  {self.text or '–'}")
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
        last = points[-1]
        cpu = [p.cpu_percent for p in points]
        self.cpu.set_values(cpu, nice_ceiling(max(100.0, *cpu)), f"{last.cpu_percent:.0f} %")
        memory = [float(p.memory_bytes) for p in points]
        top = float(last.limit_bytes) or max(memory)
        self.memory.set_values(memory, top, f"{human_bytes(last.memory_bytes)} of {human_bytes(last.limit_bytes)}"
                               if last.limit_bytes else human_bytes(last.memory_bytes))
