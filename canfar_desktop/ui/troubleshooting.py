"""The troubleshooting panel: host overview, diagnosis, live monitors, processes, logs and events.

`install(window)` docks the panel and wires it to the window: the View menu (F12) and each card's
Troubleshoot button open it; card sparklines and the panel share one stats stream per session
through the core's MonitorHub. Nothing streams unless it is on screen: the panel drops its wish
when hidden, cards only ask while visible and running, and a minimised window pauses the hub.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.diagnostics import Check, run_checks
from ..core.errors import CanfarError
from ..core.events import EngineEvent
from ..core.formats import human_bytes
from ..core.lifecycle import State
from ..core.monitor import Key, MonitorHub, Point
from ..core.report import HostOverview, host_overview, redact, support_report
from ..core.session import Session
from . import icons
from .charts import SECOND, Line, TimeChart, cpu_line
from .theme import STATE_COLOURS
from .theme import current as current_colours

log = logging.getLogger(__name__)

LEVEL_COLOURS = {"ok": "#2f855a", "info": "#2b6cb0", "warn": "#b7791f", "fail": "#c53030"}
EVENT_COLOURS = {"create": "#2b6cb0", "start": "#2f855a", "restart": "#2f855a", "unpause": "#2f855a",
                 "die": "#c53030", "oom": "#c53030", "kill": "#c53030", "stop": "#718096", "destroy": "#718096",
                 "pause": "#b7791f", "health_status": "#b7791f"}
PROCESS_REFRESH_MS = 3000
CARD_REFRESH_S = 2.0  # how often a card's sparkline is repainted
SPARK_POINTS = 90  # the last minute and a half
LOG_TAIL = 400


def _mono() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("panelHeading")
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class LogFollower(QObject):
    """Reads a session's log stream on a thread and posts redacted lines; `stop` closes the stream."""

    lines = Signal(list)

    def __init__(self, service: Any, s: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service, self.session = service, s
        self._stream: Any = None
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"canfar-logs-{s.id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stopped.set()
        stream, self._stream = self._stream, None
        if stream is not None and hasattr(stream, "close"):
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a broken stream can fail in many ways
                pass

    def _run(self) -> None:
        s = self.session
        pending = b""
        try:
            stream = self.service.host(s.host).follow_logs(s.container_id, tail=LOG_TAIL)
            self._stream = stream
            if self._stopped.is_set():
                self.stop()
                return
            for chunk in stream:
                if self._stopped.is_set():
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                if complete:
                    text = [redact(self.service.redact(line.decode(errors="replace"), s), [s.secret])
                            for line in complete]
                    self.lines.emit(text)
        except Exception as exc:  # noqa: BLE001 - the stream ends when closed, or when the container goes
            log.debug("log stream of %s ended: %s", s.id, exc)
        finally:
            if pending and not self._stopped.is_set():
                try:
                    self.lines.emit([redact(self.service.redact(pending.decode(errors="replace"), s), [s.secret])])
                except RuntimeError:
                    pass


class LogView(QWidget):
    """The session's output with follow, search (all matches highlighted) and copy."""

    def __init__(self, parent: QWidget | None = None) -> None:
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
        self.follow.setChecked(True)
        self.follow.setToolTip("Keep reading new output as the session writes it")
        self.copy_button = QPushButton("Copy")
        icons.set_icon(self.copy_button, "copy")
        self.copy_button.setToolTip("Copy the log (secrets hidden) to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.matches)
        bar.addWidget(self.follow)
        bar.addWidget(self.copy_button)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(_mono())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMaximumBlockCount(5000)
        self.text.setAccessibleName("Session log")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)

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
        QGuiApplication.clipboard().setText(self.text.toPlainText())


class DiagnosisList(QScrollArea):
    """The doctor's checks as rows: a coloured mark, the title and verdict, the figure, and the hint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Diagnosis")
        self.checks: list[Check] = []
        self.box = QWidget()
        self.box.setObjectName("diagnosisBox")
        self.rows = QVBoxLayout(self.box)
        self.rows.setContentsMargins(0, 0, 6, 0)
        self.rows.setSpacing(6)
        self.rows.addStretch(1)
        self.setWidget(self.box)

    def show_message(self, text: str) -> None:
        self._clear()
        self.checks = []
        label = QLabel(text)
        label.setObjectName("muted")
        label.setWordWrap(True)
        self.rows.insertWidget(0, label)

    def _clear(self) -> None:
        while self.rows.count() > 1:
            item = self.rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def show_checks(self, checks: list[Check]) -> None:
        self._clear()
        order = {"fail": 0, "warn": 1, "info": 2, "ok": 3}
        self.checks = sorted(checks, key=lambda c: order.get(c.level, 4))
        muted = current_colours().muted
        for index, c in enumerate(self.checks):
            colour = LEVEL_COLOURS.get(c.level, "#718096")
            row = QFrame()
            row.setObjectName("checkRow")
            row.setStyleSheet(f"QFrame#checkRow {{ border-left: 3px solid {colour}; }}")
            mark = QLabel(c.symbol)
            mark.setFixedWidth(16)
            mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            mark.setStyleSheet(f"color: {colour}; font-weight: 700;")
            parts = [f"<b>{_esc(c.title)}</b>: {_esc(c.verdict)}"]
            if c.figure:
                parts.append(f"<span style='color:{muted}'>{_esc(c.figure)}</span>")
            if c.hint and c.level != "ok":
                parts.append(f"<span style='color:{colour}'>→ {_esc(c.hint)}</span>")
            text = QLabel("<br>".join(parts))
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setAccessibleName(f"{c.title}: {c.verdict}")
            layout = QHBoxLayout(row)
            layout.setContentsMargins(6, 2, 2, 2)
            layout.addWidget(mark)
            layout.addWidget(text, 1)
            self.rows.insertWidget(index, row)

    def text(self) -> str:
        return "\n".join(f"{c.symbol} {c.title}: {c.verdict} [{c.figure}] {c.hint}" for c in self.checks)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TroubleshootingPanel(QWidget):
    """Everything about one host and one session that answers "why won't it start / why is it slow"."""

    report_copied = Signal(str)

    def __init__(self, service: Any, tasks: Any, store: Any, hub: MonitorHub,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("troubleshootingPanel")
        self.service, self.tasks, self.store, self.hub = service, tasks, store, hub
        self.active = False
        self.key: Key | None = None
        self.session: Session | None = None
        self.detail: Session | None = None  # with the secret, for redaction
        self.history: dict[Key, list[tuple[datetime, str, str]]] = {}
        self.follower: LogFollower | None = None
        self._generation = 0

        self.picker = QComboBox()
        self.picker.setMinimumWidth(260)
        self.picker.setAccessibleName("Session to troubleshoot")
        self.picker.currentIndexChanged.connect(self._picked)
        self.state_label = QLabel()
        self.state_label.setObjectName("badge")
        self.refresh_button = QPushButton("Run checks")
        icons.set_icon(self.refresh_button, "refresh")
        self.refresh_button.setToolTip("Measure again: host, storage and the session")
        self.refresh_button.clicked.connect(self.refresh)
        self.report_button = QPushButton("Copy support report")
        icons.set_icon(self.report_button, "copy")
        self.report_button.setToolTip("Session, image, state history, errors, last log lines and host facts, "
                                      "secrets hidden, to paste into a support request")
        self.report_button.clicked.connect(self.copy_report)
        self.status = QLabel()
        self.status.setObjectName("muted")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Session"))
        top.addWidget(self.picker)
        top.addWidget(self.state_label)
        top.addWidget(self.status, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.report_button)

        # left: host and diagnosis
        self.host_box = QLabel("Measuring the host…")
        self.host_box.setObjectName("hostBox")
        self.host_box.setWordWrap(True)
        self.host_box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diagnosis = DiagnosisList()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_heading("Host"))
        left_layout.addWidget(self.host_box)
        left_layout.addSpacing(4)
        left_layout.addWidget(_heading("Diagnosis"))
        left_layout.addWidget(self.diagnosis, 1)

        # right: monitors, processes, logs, events
        self.cpu_chart = TimeChart("CPU", [cpu_line()], "percent", floor=100)
        self.memory_chart = TimeChart("Memory", [Line("used", lambda p: p.memory_bytes, "#2f855a")], "bytes",
                                      limit=lambda p: p.limit_bytes)
        self.net_chart = TimeChart("Network", [Line("in", lambda p: p.net_rx_rate, "#2b6cb0"),
                                               Line("out", lambda p: p.net_tx_rate, SECOND)], "rate", floor=1024)
        self.io_chart = TimeChart("Disk I/O", [Line("read", lambda p: p.blk_read_rate, "#6b46c1"),
                                               Line("write", lambda p: p.blk_write_rate, SECOND)], "rate", floor=1024)
        self.pids_chart = TimeChart("Processes", [Line("processes", lambda p: p.pids, "#718096")], "number",
                                    floor=4)
        self.charts = [self.cpu_chart, self.memory_chart, self.net_chart, self.io_chart, self.pids_chart]
        monitors = QWidget()
        grid = QGridLayout(monitors)
        grid.setContentsMargins(0, 6, 0, 0)
        grid.setSpacing(8)
        grid.addWidget(self.cpu_chart, 0, 0, 1, 2)
        grid.addWidget(self.memory_chart, 0, 2, 1, 2)
        grid.addWidget(self.pids_chart, 0, 4, 1, 2)
        grid.addWidget(self.net_chart, 1, 0, 1, 3)
        grid.addWidget(self.io_chart, 1, 3, 1, 3)
        self.monitor_note = QLabel()
        self.monitor_note.setObjectName("muted")
        self.monitor_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(self.monitor_note, 2, 0, 1, 6)

        self.sort_by = QComboBox()
        self.sort_by.addItems(["CPU", "Memory"])
        self.sort_by.setAccessibleName("Sort processes by")
        self.sort_by.currentIndexChanged.connect(lambda _i: self._sort_processes())
        self.processes = QTableWidget(0, 6)
        self.processes.setHorizontalHeaderLabels(["PID", "User", "CPU %", "Memory", "Running for", "Command"])
        self.processes.verticalHeader().setVisible(False)
        self.processes.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.processes.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.processes.setAlternatingRowColors(True)
        self.processes.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.processes.setAccessibleName("Processes in the session")
        procs = QWidget()
        procs_layout = QVBoxLayout(procs)
        procs_layout.setContentsMargins(0, 6, 0, 0)
        sort_row = QHBoxLayout()
        sort_row.addWidget(QLabel("Sort by"))
        sort_row.addWidget(self.sort_by)
        sort_row.addStretch(1)
        procs_layout.addLayout(sort_row)
        procs_layout.addWidget(self.processes, 1)
        self._process_timer = QTimer(self, interval=PROCESS_REFRESH_MS, timeout=self.load_processes)

        self.logs = LogView()
        self.logs.follow.toggled.connect(lambda on: on and self._start_logs())

        self.events = QTreeWidget()
        self.events.setHeaderLabels(["When", "Event", "Detail"])
        self.events.setRootIsDecorated(False)
        self.events.setAlternatingRowColors(True)
        self.events.setAccessibleName("Engine events")
        self.events.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(monitors, "Monitors")
        self.tabs.addTab(procs, "Processes")
        self.tabs.addTab(self.logs, "Logs")
        self.tabs.addTab(self.events, "Events")
        self.tabs.currentChanged.connect(lambda _i: self._tab_changed())

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 1000])
        split.setChildrenCollapsible(False)
        left.setMinimumWidth(300)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.sessions_changed()

    # --- life ---------------------------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        """Shown (stream, follow, poll) or hidden (stop all of it)."""
        if active == self.active:
            return
        self.active = active
        if active:
            self.select(self.key)
            self.refresh()
        else:
            self.hub.want("panel", [])
            self._stop_logs()
            self._process_timer.stop()

    def shutdown(self) -> None:
        self.set_active(False)

    # --- sessions -----------------------------------------------------------------------------

    def sessions_changed(self) -> None:
        """The store's sessions changed: note state changes, refresh the picker, keep monitoring."""
        now = datetime.now(UTC)
        sessions = self.store.all()
        for s in sessions:
            seen = self.history.setdefault((s.host, s.id), [])
            if not seen or seen[-1][1:] != (s.state.value, s.reason):
                seen.append((now, s.state.value, s.reason))
        keys = [(s.host, s.id) for s in sessions]
        current = [self.picker.itemData(i) for i in range(self.picker.count())]
        if keys != current:
            self.picker.blockSignals(True)
            self.picker.clear()
            for s in sessions:
                self.picker.addItem(icons.icon(s.kind), f"{s.name}  ({s.id})", (s.host, s.id))
            index = keys.index(self.key) if self.key in keys else (0 if keys else -1)
            self.picker.setCurrentIndex(index)
            self.picker.blockSignals(False)
            if index >= 0 and keys[index] != self.key:
                self.select(keys[index])
        if self.key is not None:
            s = self.store.find(self.key[1], self.key[0])
            if s is not None:
                was_running = self.session is not None and self.session.status == "running"
                self.session = s
                self._show_state(s)
                if self.active and (s.status == "running") != was_running:
                    self.select(self.key)
        if not keys:
            self.key = self.session = None
            self._show_state(None)
            self.hub.want("panel", [])

    def _picked(self, index: int) -> None:
        key = self.picker.itemData(index)
        if key is not None:
            self.select(tuple(key))  # type: ignore[arg-type]

    def select(self, key: Key | None) -> None:
        """Show one session: monitors from the hub's buffer, then logs, processes, events, checks."""
        if key is not None and key != self.key:
            index = next((i for i in range(self.picker.count()) if self.picker.itemData(i) == key), -1)
            if index >= 0 and index != self.picker.currentIndex():
                self.picker.blockSignals(True)
                self.picker.setCurrentIndex(index)
                self.picker.blockSignals(False)
        changed = key != self.key
        self.key = key
        self.session = self.store.find(key[1], key[0]) if key else None
        self._generation += 1
        self._show_state(self.session)
        if changed:
            self.detail = None
            self.logs.clear()
            self.events.clear()
            self.processes.setRowCount(0)
            self.diagnosis.show_message("Measuring…")
            self._show_points(self.hub.history(key) if key else [])
        if not self.active:
            return
        s = self.session
        running = s is not None and s.status == "running"
        self.hub.want("panel", [s] if running and s is not None else [])
        self.monitor_note.setText("" if running else "Live graphs need a running session." if s else
                                  "No session selected.")
        self._stop_logs()
        if s is None:
            return
        generation = self._generation

        def got_detail(detail: Session) -> None:
            if generation == self._generation:
                self.detail = detail
                self._start_logs()
                self.load_events()

        self.tasks.run(self.service.get, s.id, s.host, on_done=got_detail,
                       on_error=lambda e: self.status.setText(e.message))
        if changed:
            self.refresh_checks()
        self._tab_changed()

    def _show_state(self, s: Session | None) -> None:
        if s is None:
            self.state_label.setVisible(False)
            return
        self.state_label.setVisible(True)
        self.state_label.setText(s.state.value)
        self.state_label.setStyleSheet(f"background: {STATE_COLOURS.get(s.state, '#718096')};")
        self.state_label.setToolTip(s.reason)

    # --- monitors -----------------------------------------------------------------------------

    def on_point(self, key: Key, _point: Point) -> None:
        if key == self.key and self.active:
            self._show_points(self.hub.history(key))

    def _show_points(self, points: list[Point]) -> None:
        for chart in self.charts:
            chart.set_points(points)

    # --- processes ----------------------------------------------------------------------------

    def _tab_changed(self) -> None:
        on_processes = self.active and self.tabs.currentIndex() == 1
        if on_processes and self.session is not None and self.session.status == "running":
            self.load_processes()
            self._process_timer.start()
        else:
            self._process_timer.stop()

    def load_processes(self) -> None:
        s = self.session
        if s is None or s.status != "running":
            return
        generation = self._generation

        def done(top: dict[str, Any]) -> None:
            if generation == self._generation:
                self._fill_processes(top)

        self.tasks.run(self.service.processes, s, on_done=done,
                       on_error=lambda e: self.status.setText(e.message))

    def _fill_processes(self, top: dict[str, Any]) -> None:
        titles = [t.upper() for t in top.get("Titles") or []]
        secret = [self.detail.secret] if self.detail else []
        rows = []
        for proc in top.get("Processes") or []:
            row = dict(zip(titles, proc, strict=False))
            command = row.get("COMMAND") or row.get("ARGS") or row.get("CMD") or ""
            rows.append((row.get("PID", ""), row.get("USER", ""), _num(row.get("%CPU")), _num(row.get("RSS")) * 1024,
                         row.get("ELAPSED", ""), redact(command, secret)))
        self.processes.setSortingEnabled(False)
        self.processes.setRowCount(len(rows))
        for r, (pid, user, cpu, rss, elapsed, command) in enumerate(rows):
            items = [QTableWidgetItem(str(pid)), QTableWidgetItem(str(user)), QTableWidgetItem(f"{cpu:.1f}"),
                     QTableWidgetItem(human_bytes(rss)), QTableWidgetItem(str(elapsed)), QTableWidgetItem(command)]
            items[2].setData(Qt.ItemDataRole.UserRole, cpu)
            items[3].setData(Qt.ItemDataRole.UserRole, rss)
            for item in items[2:4]:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[5].setToolTip(command)
            for c, item in enumerate(items):
                self.processes.setItem(r, c, item)
        self._sort_processes()
        self.processes.resizeColumnsToContents()
        self.processes.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)

    def _sort_processes(self) -> None:
        column = 2 if self.sort_by.currentIndex() == 0 else 3
        rows = []
        for r in range(self.processes.rowCount()):
            rows.append([self.processes.takeItem(r, c) for c in range(self.processes.columnCount())])
        rows.sort(key=lambda items: float(items[column].data(Qt.ItemDataRole.UserRole) or 0), reverse=True)
        for r, items in enumerate(rows):
            for c, item in enumerate(items):
                self.processes.setItem(r, c, item)

    def process_commands(self) -> list[str]:
        return [self.processes.item(r, 5).text() for r in range(self.processes.rowCount())
                if self.processes.item(r, 5) is not None]

    # --- logs ---------------------------------------------------------------------------------

    def _start_logs(self) -> None:
        self._stop_logs()
        s = self.detail
        if s is None or not self.active:
            return
        self.logs.clear()
        if self.logs.follow.isChecked() and s.status == "running":
            self.follower = LogFollower(self.service, s, self)
            self.follower.lines.connect(self.logs.append)
            self.follower.start()
        else:
            generation = self._generation

            def done(lines: list[str]) -> None:
                if generation == self._generation:
                    self.logs.append([redact(line, [s.secret]) for line in lines] or ["(no output)"])

            self.tasks.run(self.service.tail_logs, s, LOG_TAIL, on_done=done,
                           on_error=lambda e: self.logs.append([e.message]))

    def _stop_logs(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower.deleteLater()
            self.follower = None

    # --- events -------------------------------------------------------------------------------

    def load_events(self) -> None:
        s = self.detail
        if s is None:
            return
        generation = self._generation

        def done(events: list[EngineEvent]) -> None:
            if generation == self._generation:
                self.events.clear()
                for e in events:
                    self.add_event(e)

        self.tasks.run(self.service.events_of, s, on_done=done, on_error=lambda e: self.status.setText(e.message))

    def on_engine_event(self, _host: str, event: object) -> None:
        if (isinstance(event, EngineEvent) and self.session is not None
                and event.container_id == self.session.container_id):
            self.add_event(event)

    def add_event(self, e: EngineEvent) -> None:
        secret = [self.detail.secret] if self.detail else []
        item = QTreeWidgetItem([e.when.astimezone().strftime("%H:%M:%S  %d %b"), e.action, redact(e.detail, secret)])
        colour = EVENT_COLOURS.get(e.action, "#718096")
        item.setIcon(1, icons.dot(colour))
        item.setForeground(1, QColor(colour))
        bold = item.font(1)
        bold.setBold(True)
        item.setFont(1, bold)
        self.events.addTopLevelItem(item)
        self.events.resizeColumnToContents(0)
        self.events.resizeColumnToContents(1)
        self.events.scrollToBottom()

    # --- host, checks and report --------------------------------------------------------------

    def refresh(self) -> None:
        self.refresh_host()
        self.refresh_checks()

    def refresh_host(self) -> None:
        host = self.key[0] if self.key else None
        self.tasks.run(host_overview, self.service, host, on_done=self._show_host,
                       on_error=lambda e: self.host_box.setText(e.message))

    def _show_host(self, o: HostOverview) -> None:
        muted = current_colours().muted
        if o.error:
            self.host_box.setText(f"<b>{_esc(o.name)}</b>: {_esc(o.error)}")
            return
        memory = human_bytes(o.memory_total)
        if o.memory_used is not None and o.memory_total:
            memory = f"{human_bytes(o.memory_used)} in use of {memory} ({100 * o.memory_used / o.memory_total:.0f} %)"
        rows = [("Engine", f"Docker {o.engine} · {o.os}"), ("CPUs", str(o.cpus)), ("Memory", memory)]
        if o.images_bytes is not None:
            rows.append(("Engine disk", f"images {human_bytes(o.images_bytes)} · containers "
                         f"{human_bytes(o.containers_bytes or 0)} · volumes {human_bytes(o.volumes_bytes or 0)}"))
        if o.arc_free is not None and o.arc_total:
            rows.append(("/arc", f"{human_bytes(o.arc_free)} free of {human_bytes(o.arc_total)} "
                         f"<span style='color:{muted}'>at {_esc(o.arc_where)}</span>"))
        else:
            rows.append(("/arc", _esc(o.arc_where)))
        self.host_overview = o
        self.host_box.setText("<table cellspacing='0' cellpadding='1'>" + "".join(
            f"<tr><td style='color:{muted}; padding-right:10px'>{k}</td><td>{v}</td></tr>" for k, v in rows)
            + "</table>")

    def refresh_checks(self) -> None:
        host = self.key[0] if self.key else None
        session_id = self.key[1] if self.key else None
        asked = self.key
        self.refresh_button.setEnabled(False)
        self.status.setText("running the checks…")

        def done(checks: list[Check]) -> None:
            self.refresh_button.setEnabled(True)
            if asked == self.key:
                self.status.setText(f"checked at {datetime.now():%H:%M:%S}")
                self.diagnosis.show_checks(checks)

        def failed(err: CanfarError) -> None:
            self.refresh_button.setEnabled(True)
            self.status.setText(err.message)

        self.tasks.run(run_checks, self.service, session_id, host, on_done=done, on_error=failed)

    def copy_report(self) -> None:
        s = self.detail or self.session
        if s is None:
            self.status.setText("pick a session first")
            return
        self.report_button.setEnabled(False)
        self.status.setText("writing the support report…")
        seen = list(self.history.get((s.host, s.id), []))

        def done(text: str) -> None:
            self.report_button.setEnabled(True)
            QGuiApplication.clipboard().setText(text)
            self.status.setText("support report copied to the clipboard (secrets hidden)")
            self.report_copied.emit(text)

        def failed(err: CanfarError) -> None:
            self.report_button.setEnabled(True)
            self.status.setText(err.message)

        self.tasks.run(support_report, self.service, s, seen, on_done=done, on_error=failed)


def _num(raw: object) -> float:
    try:
        return float(str(raw).replace(",", "."))
    except ValueError:
        return 0.0


class Troubleshooting(QObject):
    """Wires the panel, the card sparklines and the monitor hub into the main window."""

    _posted = Signal(object, object)  # key, Point: from reader threads to the GUI thread

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.hub = MonitorHub(window.service)
        self.panel = TroubleshootingPanel(window.service, window.tasks, window.store, self.hub)
        self.dock = window.add_dock(self.panel, "Troubleshooting")
        self.dock.hide()
        self.dock.setMinimumHeight(360)
        toggle = self.dock.toggleViewAction()
        toggle.setText("&Troubleshooting")
        toggle.setShortcut(QKeySequence("F12"))
        toggle.setToolTip("Show the troubleshooting panel: live monitors, logs, events and diagnosis (F12)")
        icons.set_icon(toggle, "troubleshoot")
        self.dock.visibilityChanged.connect(self._dock_visible)
        self._cards_timer = QTimer(self, singleShot=True, interval=150, timeout=self.update_cards)
        self._card_painted: dict[Key, float] = {}
        self._posted.connect(self._on_point)
        self.hub.add_listener(self._post)
        window.store.changed.connect(self._sessions_changed)
        window.store.engine_event.connect(self.panel.on_engine_event)
        window.dashboard.scroll.verticalScrollBar().valueChanged.connect(lambda _v: self._cards_timer.start())
        window.installEventFilter(self)
        if hasattr(window, "troubleshoot_requested"):
            window.troubleshoot_requested.connect(self.show_session)
        window.destroyed.connect(self.close)
        app = QGuiApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def close(self) -> None:
        """Stop every stream and stop listening: reader threads must not reach deleted Qt objects."""
        self.hub.remove_listener(self._post)
        self.hub.close()

    def _post(self, key: Key, point: Point) -> None:
        try:
            self._posted.emit(key, point)
        except RuntimeError:  # the window was deleted while a reader ran
            pass

    def show_session(self, s: Session | None) -> None:
        """Open the panel on a session (the card's Troubleshoot button)."""
        self.dock.show()
        self.dock.raise_()
        if s is not None:
            self.panel.select((s.host, s.id))

    def _dock_visible(self, visible: bool) -> None:
        self.panel.set_active(visible and not self.window.isMinimized())

    def _sessions_changed(self) -> None:
        self.panel.sessions_changed()
        self._cards_timer.start()

    def update_cards(self) -> None:
        """Stream the running sessions whose cards are on screen; clear sparklines of the others."""
        shown = []
        for card in self.window.dashboard.cards.values():
            s = card.session
            monitors = getattr(card, "monitors", None)
            if s is None or monitors is None:
                continue
            running = s.status == "running" and s.state != State.TERMINATING  # launching ones too: slow starts
            monitors.setVisible(running)
            if running and card.isVisible() and not card.visibleRegion().isEmpty():
                shown.append(s)
                monitors.set_points(self.hub.history((s.host, s.id))[-SPARK_POINTS:])
        self.hub.want("cards", shown)

    def _on_point(self, key: Key, point: Point) -> None:
        card = self.window.dashboard.cards.get(f"{key[0]}/{key[1]}")
        monitors = getattr(card, "monitors", None) if card is not None else None
        now = time.monotonic()
        # Sparklines are a glance, not a graph: repainting them every couple of seconds with the last
        # minute and a half keeps an idle window with many sessions cheap.
        if monitors is not None and monitors.isVisible() and now - self._card_painted.get(key, 0.0) >= CARD_REFRESH_S:
            self._card_painted[key] = now
            monitors.set_points(self.hub.history(key)[-SPARK_POINTS:])
        self.panel.on_point(key, point)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if watched is self.window and isinstance(event, QEvent):
            try:
                self._window_event(event.type())
            except RuntimeError:  # the window's C++ side is going away at shutdown
                pass
        return False

    def _window_event(self, kind: QEvent.Type) -> None:
        if kind == QEvent.Type.WindowStateChange:
            minimised = self.window.isMinimized()
            self.hub.pause(minimised)
            self.panel.set_active(self.dock.isVisible() and not minimised)
            if not minimised:
                self._cards_timer.start()
        elif kind in (QEvent.Type.Close, QEvent.Type.Hide):  # closed, or hidden to the tray
            self.hub.pause(True)
            self.panel.set_active(False)
        elif kind == QEvent.Type.Show:
            self.hub.pause(self.window.isMinimized())
            self.panel.set_active(self.dock.isVisible() and not self.window.isMinimized())
            self._cards_timer.start()


def install(window: Any) -> Troubleshooting:
    """Add the troubleshooting panel and the card monitors to a main window (app.build_window calls this)."""
    window.troubleshooting = Troubleshooting(window)
    return window.troubleshooting
