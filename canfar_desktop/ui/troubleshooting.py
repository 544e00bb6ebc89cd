"""The troubleshooting panel: host overview, diagnosis, live monitors, processes, logs and events.

`Troubleshooting` (troubleshooting_dock.py) docks the panel; F12 and each card's Troubleshoot
button open it. The panel shares the app's MonitorHub with the card sparklines (one stats stream
per session). Nothing streams unless it is on screen: the panel drops its wish when hidden or when the window
is minimised. Each kind of request it makes (details, processes, events, log tail, checks) has
at most one in flight; picking another session cancels them.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.diagnostics import Check, run_checks
from ..core.errors import CanfarError
from ..core.events import EngineEvent
from ..core.hosts import is_remote
from ..core.monitor import Key, MonitorHub, Point
from ..core.report import HostOverview, host_overview, redact, support_report
from ..core.service import SessionService
from ..core.session import Session
from . import icons
from .charts import SECOND, Line, TimeChart, cpu_line
from .diagnosis_view import DiagnosisList, overview_html
from .events_view import EventList
from .log_view import LOG_TAIL, LogFollower, LogView
from .processes_view import ProcessTable, container_users
from .store import SessionStore
from .tasks import Latest, Runner
from .theme import STATE_COLOURS

PROCESS_REFRESH_MS = 3000


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("panelHeading")
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class TroubleshootingPanel(QWidget):
    """Everything about one host and one session that answers "why won't it start / why is it slow"."""

    report_copied = Signal(str)

    def __init__(self, service: SessionService, runner: Runner, store: SessionStore, hub: MonitorHub,
                 history: dict[Key, list[tuple[datetime, str, str]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("troubleshootingPanel")
        self.service, self.runner, self.store, self.hub = service, runner, store, hub
        self.active = False
        self.key: Key | None = None
        self.session: Session | None = None
        self.detail: Session | None = None  # with the secret, for redaction
        self.history = history  # each session's states since the app started, noted by its owner (the dock)
        self.follower: LogFollower | None = None
        self._detail_job, self._processes_job, self._events_job, self._tail_job, self._checks_job, self._host_job = (
            Latest(runner) for _ in range(6))

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
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._monitors(), "Monitors")
        self.processes = ProcessTable()
        self._process_timer = QTimer(self, interval=PROCESS_REFRESH_MS, timeout=self.load_processes)
        self.tabs.addTab(self.processes, "Processes")
        self.logs = LogView()
        self.logs.follow.toggled.connect(lambda on: on and self._start_logs())
        self.tabs.addTab(self.logs, "Logs")
        self.events = EventList()
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

    def _monitors(self) -> QWidget:
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
        return monitors

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

    # --- sessions -----------------------------------------------------------------------------

    def sessions_changed(self) -> None:
        """The store's sessions changed: refresh the picker, keep monitoring."""
        sessions = self.store.all()
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
            self._cancel_checks()
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
        for job in (self._detail_job, self._processes_job, self._events_job, self._tail_job):
            job.cancel()  # answers about what was shown before would land on this session
        self._show_state(self.session)
        if changed:
            self._cancel_checks()
            self.detail = None
            self.logs.clear()
            self.events.clear()
            self.processes.clear()
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

        def got_detail(detail: Session) -> None:
            self.detail = detail
            self._start_logs()
            self.load_events()

        self._detail_job.run(self.service.get, s.id, s.host, on_done=got_detail,
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
        on_processes = self.active and self.tabs.currentWidget() is self.processes
        if on_processes and self.session is not None and self.session.status == "running":
            self.load_processes()
            self._process_timer.start()
        else:
            self._process_timer.stop()

    def load_processes(self) -> None:
        s = self.session
        if s is None or s.status != "running":
            return
        secrets = self._secrets()
        settings = self.service.settings
        try:
            local = not is_remote(self.service.host_config(s.host))
        except (CanfarError, ValueError):
            local = False
        users = container_users(settings.uid, settings.user, local)
        self._processes_job.run(self.service.processes, s,
                                on_done=lambda top: self.processes.fill(top, secrets, users),
                                on_error=lambda e: self.status.setText(e.message))

    def process_commands(self) -> list[str]:
        return self.processes.commands()

    # --- logs ---------------------------------------------------------------------------------

    def _start_logs(self) -> None:
        self._stop_logs()
        s = self.detail
        if s is None or not self.active:
            return
        self.logs.clear()
        if self.logs.follow.isChecked() and s.status == "running":
            self.follower = LogFollower(self.runner, self.service, s, self.logs.append)
        else:
            self._tail_job.run(self.service.tail_logs, s, LOG_TAIL,
                               on_done=lambda lines: self.logs.append([redact(line, [s.secret]) for line in lines]
                                                                      or ["(no output)"]),
                               on_error=lambda e: self.logs.append([e.message]))

    def _stop_logs(self) -> None:
        self._tail_job.cancel()
        if self.follower is not None:
            self.follower.stop()
            self.follower = None

    # --- events -------------------------------------------------------------------------------

    def load_events(self) -> None:
        s = self.detail
        if s is None:
            return

        self._events_job.run(self.service.events_of, s, on_done=lambda found: self.events.show_events(
            found, self._secrets()), on_error=lambda e: self.status.setText(e.message))

    def on_engine_event(self, _host: str, event: object) -> None:
        if (isinstance(event, EngineEvent) and self.session is not None
                and event.container_id == self.session.container_id):
            self.events.add(event, self._secrets())

    def _secrets(self) -> list[str]:
        return [self.detail.secret] if self.detail else []

    # --- host, checks and report --------------------------------------------------------------

    def refresh(self) -> None:
        self.refresh_host()
        self.refresh_checks()

    def refresh_host(self) -> None:
        host = self.key[0] if self.key else None
        self._host_job.run(host_overview, self.service, host, on_done=self._show_host,
                           on_error=lambda e: self.host_box.setText(e.message))

    def _show_host(self, o: HostOverview) -> None:
        self.host_box.setText(overview_html(o))

    def refresh_checks(self) -> None:
        host = self.key[0] if self.key else None
        session_id = self.key[1] if self.key else None
        self.refresh_button.setEnabled(False)
        self.status.setText("running the checks…")

        def done(checks: list[Check]) -> None:
            self.refresh_button.setEnabled(True)
            self.status.setText(f"checked at {datetime.now():%H:%M:%S}")
            self.diagnosis.show_checks(checks)

        def failed(err: CanfarError) -> None:
            self.refresh_button.setEnabled(True)
            self.status.setText(err.message)

        self._checks_job.run(run_checks, self.service, session_id, host, on_done=done, on_error=failed)

    def _cancel_checks(self) -> None:
        if self._checks_job.busy:
            self._checks_job.cancel()
            self.refresh_button.setEnabled(True)
            self.status.setText("")

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

        self.runner.run(support_report, self.service, s, seen, on_done=done, on_error=failed)
