"""The troubleshooting panel in the window's dock: open exactly while it can be seen, on the session of
the tab in front (F12) or of a card (its Troubleshoot button), at about a third of the window's height
at first; a short dock scrolls the panel rather than growing the window.

The panel (its charts, log and process views, and QtCharts) is built the first time the dock opens,
not at start; the states each session went through are noted from the start, for its support report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QScrollArea

from ..core.monitor import Key, MonitorHub
from ..core.service import SessionService
from ..core.session import Session
from . import icons
from .monitors import Monitors
from .store import SessionStore
from .tasks import Runner

if TYPE_CHECKING:
    from .troubleshooting import TroubleshootingPanel

DOCK_SHARE = 0.32  # of the window's height, when the panel first opens
DOCK_MIN_HEIGHT = 220
History = dict[Key, list[tuple[datetime, str, str]]]


def note_states(history: History, sessions: list[Session], now: datetime) -> None:
    """Add each session's state (and reason) to its history when it differs from the last one noted."""
    for s in sessions:
        seen = history.setdefault((s.host, s.id), [])
        if not seen or seen[-1][1:] != (s.state.value, s.reason):
            seen.append((now, s.state.value, s.reason))


class Troubleshooting(QObject):
    """Puts the panel in the window's dock and keeps it active exactly while it can be seen."""

    def __init__(self, service: SessionService, runner: Runner, store: SessionStore, monitors: Monitors,
                 dock: QDockWidget) -> None:
        super().__init__(dock)
        self.service, self.runner, self.store, self.monitors = service, runner, store, monitors
        self._panel: TroubleshootingPanel | None = None
        self.history: History = {}  # every session's states this run, for the support report
        self.dock = dock
        self.front: Key | None = None  # the session of the tab in front (see follow)
        self._sized = False
        dock.setWindowTitle("Troubleshooting")
        dock.hide()
        dock.setMinimumHeight(DOCK_MIN_HEIGHT)
        toggle = dock.toggleViewAction()
        toggle.setText("&Troubleshooting")
        toggle.setShortcut(QKeySequence("F12"))
        toggle.setToolTip("Show the troubleshooting panel: live monitors, logs, events and diagnosis (F12)")
        icons.set_icon(toggle, "troubleshoot")
        dock.visibilityChanged.connect(self._shown)
        store.changed.connect(lambda: note_states(self.history, store.all(), datetime.now(UTC)))

    @property
    def panel(self) -> TroubleshootingPanel:
        """The panel, built (and put in the dock) on first use."""
        if self._panel is None:
            from .troubleshooting import TroubleshootingPanel

            monitors, dock, store = self.monitors, self.dock, self.store
            panel = self._panel = TroubleshootingPanel(self.service, self.runner, store, monitors.hub, self.history)
            scroll = QScrollArea()  # a short dock scrolls its panel instead of growing the window
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(panel)
            dock.setWidget(scroll)
            dock.visibilityChanged.connect(lambda visible: panel.set_active(visible and monitors.on_screen))
            monitors.on_screen_changed.connect(lambda on: panel.set_active(on and dock.isVisible()))
            monitors.point.connect(panel.on_point)
            store.changed.connect(panel.sessions_changed)
            store.engine_event.connect(panel.on_engine_event)
        return self._panel

    def follow(self, key: Key | None) -> None:
        """The tab in front changed: an open panel shows its session."""
        self.front = key
        if key is not None and self.dock.isVisible():
            self.panel.select(key)

    def _shown(self, visible: bool) -> None:
        if not visible:
            return
        if self._panel is None:  # the first opening: the panel's own handler was not connected yet
            self.panel.set_active(self.monitors.on_screen)
        window = self.dock.parentWidget()
        if not self._sized and isinstance(window, QMainWindow):
            self._sized = True
            height = max(DOCK_MIN_HEIGHT, int(window.height() * DOCK_SHARE))
            # once the dock is laid out (now, the panel's own size hint would win)
            QTimer.singleShot(0, self, lambda: window.resizeDocks([self.dock], [height], Qt.Orientation.Vertical))
        if self.front is not None:
            self.panel.select(self.front)

    def show_session(self, s: Session | None) -> None:
        """Open the panel on a session (the card's Troubleshoot button)."""
        self.dock.show()
        self.dock.raise_()
        if s is not None:
            self.panel.select((s.host, s.id))

    @property
    def hub(self) -> MonitorHub:
        return self.monitors.hub
