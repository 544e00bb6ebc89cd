"""A session's engine events as a list, coloured by what happened (the troubleshooting panel's Events tab)."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from ..core.events import EngineEvent
from ..core.report import redact
from . import icons

EVENT_COLOURS = {"create": "#2b6cb0", "start": "#2f855a", "restart": "#2f855a", "unpause": "#2f855a",
                 "die": "#c53030", "oom": "#c53030", "kill": "#c53030", "stop": "#718096", "destroy": "#718096",
                 "pause": "#b7791f", "health_status": "#b7791f"}


class EventList(QTreeWidget):
    """When, what (a coloured mark) and the detail of each event, oldest first; secrets hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["When", "Event", "Detail"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setAccessibleName("Engine events")
        self.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

    def show_events(self, events: list[EngineEvent], secrets: list[str]) -> None:
        self.clear()
        for e in events:
            self.add(e, secrets)

    def add(self, e: EngineEvent, secrets: list[str]) -> None:
        item = QTreeWidgetItem([e.when.astimezone().strftime("%H:%M:%S  %d %b"), e.action, redact(e.detail, secrets)])
        colour = EVENT_COLOURS.get(e.action, "#718096")
        item.setIcon(1, icons.dot(colour))
        item.setForeground(1, QColor(colour))
        bold = item.font(1)
        bold.setBold(True)
        item.setFont(1, bold)
        self.addTopLevelItem(item)
        self.resizeColumnToContents(0)
        self.resizeColumnToContents(1)
        self.scrollToBottom()
