"""The processes in a session as a sortable table (the troubleshooting panel's Processes tab).

It shows the engine's `top` answer (`service.processes`): PID, user, CPU, memory, how long each
has run and its command line, secrets hidden, heaviest first. The engine names users as the host
knows them; `container_users` turns those names back into the session's own (the session user is
the person's name inside the container, whatever the host calls that uid).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.formats import human_bytes
from ..core.platform import user_name
from ..core.report import redact

COMMAND = 5  # the column that stretches


def container_users(uid: int, user: str, local_host: bool) -> dict[str, str]:
    """The host's name (or number) for each account the session has → the name inside the session."""
    names = {str(uid): user, "0": "root"}
    host_name = user_name(uid) if local_host else None  # None: no account has the uid, the engine shows it
    if host_name is not None:
        names[host_name] = user
    return names


def _num(raw: object) -> float:
    try:
        return float(str(raw).replace(",", "."))
    except ValueError:
        return 0.0


class ProcessTable(QWidget):
    """Rows from a `top` answer, sorted by CPU or memory."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sort_by = QComboBox()
        self.sort_by.addItems(["CPU", "Memory"])
        self.sort_by.setAccessibleName("Sort processes by")
        self.sort_by.currentIndexChanged.connect(lambda _i: self._sort())
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["PID", "User", "CPU %", "Memory", "Running for", "Command"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(COMMAND, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Processes in the session")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        sort_row = QHBoxLayout()
        sort_row.addWidget(QLabel("Sort by"))
        sort_row.addWidget(self.sort_by)
        sort_row.addStretch(1)
        layout.addLayout(sort_row)
        layout.addWidget(self.table, 1)

    def clear(self) -> None:
        self.table.setRowCount(0)

    def fill(self, top: dict[str, Any], secrets: list[str], users: dict[str, str] | None = None) -> None:
        """Show a `top` answer ({"Titles": [...], "Processes": [[...]]}); command lines are redacted,
        user names are the session's (`users`: the host's name → the session's)."""
        users = users or {}
        titles = [t.upper() for t in top.get("Titles") or []]
        rows = []
        for proc in top.get("Processes") or []:
            row = dict(zip(titles, proc, strict=False))
            command = row.get("COMMAND") or row.get("ARGS") or row.get("CMD") or ""
            user = str(row.get("USER") or row.get("UID") or "")
            rows.append((row.get("PID", ""), users.get(user, user), _num(row.get("%CPU")), _num(row.get("RSS")) * 1024,
                         row.get("ELAPSED", ""), redact(command, secrets)))
        table = self.table
        table.setSortingEnabled(False)
        table.setRowCount(len(rows))
        for r, (pid, user, cpu, rss, elapsed, command) in enumerate(rows):
            items = [QTableWidgetItem(str(pid)), QTableWidgetItem(str(user)), QTableWidgetItem(f"{cpu:.1f}"),
                     QTableWidgetItem(human_bytes(rss)), QTableWidgetItem(str(elapsed)), QTableWidgetItem(command)]
            items[2].setData(Qt.ItemDataRole.UserRole, cpu)
            items[3].setData(Qt.ItemDataRole.UserRole, rss)
            for item in items[2:4]:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[COMMAND].setToolTip(command)
            for c, item in enumerate(items):
                table.setItem(r, c, item)
        self._sort()
        table.resizeColumnsToContents()
        table.horizontalHeader().setSectionResizeMode(COMMAND, QHeaderView.ResizeMode.Stretch)

    def _sort(self) -> None:
        column = 2 if self.sort_by.currentIndex() == 0 else 3
        table = self.table
        rows = [[table.takeItem(r, c) for c in range(table.columnCount())] for r in range(table.rowCount())]
        rows.sort(key=lambda items: float(items[column].data(Qt.ItemDataRole.UserRole) or 0), reverse=True)
        for r, items in enumerate(rows):
            for c, item in enumerate(items):
                table.setItem(r, c, item)

    def commands(self) -> list[str]:
        return [self.table.item(r, COMMAND).text() for r in range(self.table.rowCount())
                if self.table.item(r, COMMAND) is not None]
