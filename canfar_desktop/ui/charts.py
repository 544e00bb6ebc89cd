"""Live graphs: QtCharts time charts for the troubleshooting panel (the cards' sparklines are in
ui/card_graphs.py, which needs no QtCharts: the dashboard loads without it).

Charts get plain lists of Points (core.monitor) and redraw from them, so a chart can be rebuilt
from the hub's ring buffer at any time (the panel switches sessions without losing history).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCharts import QAreaSeries, QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QEvent, QMargins, QPointF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy

from ..core.formats import human_bytes
from ..core.monitor import Point
from ..core.record import record
from .card_graphs import nice_ceiling
from .theme import ACCENT
from .theme import current as current_colours

WINDOW_S = 300  # the charts show the last five minutes
SECOND = "#dd6b20"  # the second series of a chart (tx, writes)
LIMIT = "#c53030"


@record
class Line:
    name: str
    value: Callable[[Point], float]
    colour: str


def byte_scale(value: float) -> tuple[float, str]:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if value >= factor:
            return factor, unit
    return 1.0, "B"


class TimeChart(QChartView):
    """One measure over the last minutes: lines (the first filled), an optional limit, a readable axis."""

    def __init__(self, title: str, lines: Sequence[Line], kind: str = "number",
                 limit: Callable[[Point], float] | None = None, floor: float = 1.0) -> None:
        super().__init__()
        self.base_title = title
        self.lines = list(lines)
        self.kind = kind  # percent, bytes, rate or number
        self.limit = limit
        self.floor = floor
        self.points: list[Point] = []
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(QSize(200, 110))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(f"{title} graph")
        chart = QChart()
        chart.setMargins(QMargins(4, 2, 4, 2))
        chart.layout().setContentsMargins(0, 0, 0, 0)
        chart.setBackgroundRoundness(8)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.series: list[QLineSeries] = []
        self.x_axis = QValueAxis()
        self.x_axis.setRange(-WINDOW_S, 0)
        self.x_axis.setTickCount(7)
        self.x_axis.setLabelFormat("%d s")
        self.y_axis = QValueAxis()
        self.y_axis.setTickCount(3)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        for index, line in enumerate(self.lines):
            series = QLineSeries()
            series.setName(line.name)
            pen = QPen(QColor(line.colour), 2)
            series.setPen(pen)
            self.series.append(series)
            if index == 0:
                area = QAreaSeries(series)
                area.setName(line.name)
                fill = QColor(line.colour)
                fill.setAlpha(55)
                area.setBrush(QBrush(fill))
                area.setPen(pen)
                chart.addSeries(area)
                area.attachAxis(self.x_axis)
                area.attachAxis(self.y_axis)
            else:
                chart.addSeries(series)
                series.attachAxis(self.x_axis)
                series.attachAxis(self.y_axis)
        self.limit_series: QLineSeries | None = None
        if limit is not None:
            self.limit_series = QLineSeries()
            self.limit_series.setName("limit")
            self.limit_series.setPen(QPen(QColor(LIMIT), 1.5, Qt.PenStyle.DashLine))
            chart.addSeries(self.limit_series)
            self.limit_series.attachAxis(self.x_axis)
            self.limit_series.attachAxis(self.y_axis)
        legend = chart.legend()
        legend.setVisible(len(self.lines) > 1 or limit is not None)
        legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        legend.setFont(small)
        self.x_axis.setLabelsFont(small)
        self.y_axis.setLabelsFont(small)
        title_font = QFont(self.font())
        title_font.setBold(True)
        chart.setTitleFont(title_font)
        if len(self.lines) > 1 or limit is not None:  # the legend's first entry is the area; hide duplicates
            for marker in legend.markers():
                if marker.series() in self.series[:1]:
                    marker.setVisible(False)
        self.setChart(chart)
        self.apply_theme()
        self.set_points([])

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt naming
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_theme()  # the theme changed while the chart was there

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self.x_axis.setTickCount(max(2, min(7, self.width() // 75)))  # labels that fit, never cut off

    def apply_theme(self) -> None:
        c = current_colours()
        chart = self.chart()
        chart.setBackgroundBrush(QBrush(QColor(c.card)))
        chart.setPlotAreaBackgroundVisible(False)
        chart.setBackgroundPen(QPen(QColor(c.border), 1))
        chart.setTitleBrush(QBrush(QColor(c.text)))
        chart.legend().setLabelColor(QColor(c.muted))
        for axis in (self.x_axis, self.y_axis):
            axis.setLabelsColor(QColor(c.muted))
            axis.setGridLineColor(QColor(c.border))
            axis.setLinePenColor(QColor(c.border))
        self.setBackgroundBrush(QBrush(QColor(c.window)))

    def _format(self, value: float) -> str:
        if self.kind == "percent":
            return f"{value:.0f} %"
        if self.kind == "bytes":
            return human_bytes(value)
        if self.kind == "rate":
            return f"{human_bytes(value)}/s"
        return f"{value:.0f}"

    def set_points(self, points: Sequence[Point]) -> None:
        """Redraw from a session's points (oldest first); x is seconds before the newest point."""
        self.points = list(points)
        now = points[-1].t if points else 0.0
        shown = [p for p in points if now - p.t <= WINDOW_S]
        span = now - shown[0].t if shown else 0.0
        self.x_axis.setRange(-(WINDOW_S if span > WINDOW_S - 60 else max(60, math.ceil(span / 60) * 60)), 0)
        top = 0.0
        for line in self.lines:
            top = max([top, *(line.value(p) * 1.1 for p in shown)])
        top = max(top, self.floor)
        limit_value = self.limit(shown[-1]) if self.limit is not None and shown else 0.0
        if limit_value:
            top = max(top, limit_value * 1.05)
        factor, unit = (byte_scale(top) if self.kind in ("bytes", "rate") else (1.0, ""))
        for line, series in zip(self.lines, self.series, strict=True):
            series.replace([QPointF(p.t - now, line.value(p) / factor) for p in shown])
        if self.limit_series is not None:
            self.limit_series.replace([QPointF(-WINDOW_S, limit_value / factor), QPointF(0, limit_value / factor)]
                                      if limit_value else [])
        self.y_axis.setRange(0, nice_ceiling(top / factor))
        suffix = {"percent": " %", "bytes": f" {unit}", "rate": f" {unit}/s"}.get(self.kind, "")
        self.y_axis.setLabelFormat(("%.0f" if top / factor >= 10 else "%.1f") + suffix.replace("%", "%%"))
        if shown:
            current = " · ".join(self._format(line.value(shown[-1])) for line in self.lines)
            if limit_value:
                current += f" of {self._format(limit_value)}"
            self.chart().setTitle(f"{self.base_title}  <span style='font-weight:normal'>{current}</span>")
        else:
            self.chart().setTitle(self.base_title)

    def values(self, line: int = 0) -> list[float]:
        """The plotted values of one line, in display units (tests read these)."""
        return [p.y() for p in self.series[line].points()]


def cpu_line() -> Line:
    return Line("CPU", lambda p: p.cpu_percent, ACCENT)
