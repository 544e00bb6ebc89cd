"""Recent launches and presets in the app: a panel in the launch dialog and a submenu of the tray,
each line one click from a new session; a star pins a recent launch as a preset.

The set-ups themselves, their names and their storage are the core's (core/recent.py); a relaunch
is validated by the core exactly as the dialog's own Launch (`prepare_launch`, on a worker), then
launched by the app's one launch path.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import recent
from ..core.errors import CanfarError
from ..core.plan import LaunchRequest
from ..core.service import SessionService
from ..core.settings import RecentLaunch
from .tasks import Latest, Runner

if TYPE_CHECKING:
    from .tray import Entry, TrayController

PIN, PINNED = "☆", "★"
VISIBLE_ROWS = 4  # the dialog's list shows this many lines, then scrolls


def prepare_relaunch(service: SessionService, entry: RecentLaunch) -> LaunchRequest:
    """Worker thread: a fresh name from the entry's pattern, then the core's own launch validation."""
    host = entry.host if entry.host in service.host_names() else service.settings.default_host
    taken = [s.name for s in service.sessions(host, probe=False)]
    return service.prepare_launch(entry.kind, entry.image or None, recent.name_for(entry.name_pattern, taken),
                                  entry.resources, host)


def remember(service: SessionService, req: LaunchRequest) -> None:
    """A launch of the app reached Running: it heads the recent list (a failure to save is not shown)."""
    recent.record(service.paths, service.settings, req)


def entries_of(service: SessionService) -> list[tuple[RecentLaunch, bool]]:
    """(entry, is a preset): presets first, then the recent launches that are not presets too."""
    settings = service.settings
    presets = [(p, True) for p in settings.presets]
    return presets + [(r, False) for r in settings.recent_launches if not recent.is_pinned(settings, r)]


def headline(entry: RecentLaunch, pinned: bool) -> str:
    """A row's first line: a preset's title, else the name it launches under; then the kind."""
    name = entry.name_pattern.replace(recent.NUMBER, "N") if entry.name_pattern else "any name"
    return f"{entry.title if pinned and entry.title else name} · {entry.kind}"


def detail(entry: RecentLaunch) -> str:
    """A row's second line: image, resources and host."""
    return " · ".join(recent.describe(entry).split(" · ")[1:-1])


class RecentRow(QWidget):
    """One set-up: a star to pin or unpin it, what it launches (two lines), and Launch."""

    def __init__(self, entry: RecentLaunch, pinned: bool, panel: RecentPanel) -> None:
        super().__init__()
        self.entry = entry
        text = recent.describe(entry)
        self.label = QLabel(f"<b>{escape(headline(entry, pinned))}</b><br>"
                            f"<span style='font-size: small'>{escape(detail(entry))}</span>")
        self.label.setToolTip(text)
        self.label.setMinimumWidth(40)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.pin = QToolButton()
        self.pin.setText(PINNED if pinned else PIN)
        self.pin.setAutoRaise(True)
        self.pin.setAccessibleName("Unpin preset" if pinned else "Pin as preset")
        self.pin.setToolTip("Remove this preset" if pinned else "Keep this set-up as a preset")
        self.pin.clicked.connect(lambda: panel.toggle_pin(entry, pinned))
        self.launch = QPushButton("Launch")
        self.launch.setAccessibleName(f"Launch again: {text}")
        self.launch.setToolTip(f"Launch a new session now: {text}")
        self.launch.clicked.connect(lambda: panel.relaunch(entry))
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 3, 4, 3)
        row.addWidget(self.pin)
        row.addWidget(self.label, 1)
        row.addWidget(self.launch)


class RecentPanel(QWidget):
    """The launch dialog's list of presets and recent launches; Launch accepts the dialog with the
    validated request (the window launches an accepted dialog's `request`)."""

    chosen = Signal(object)  # the validated LaunchRequest of the entry whose Launch was pressed

    def __init__(self, service: SessionService, runner: Runner, dialog: QDialog) -> None:
        super().__init__(dialog)
        self.service = service
        self._job = Latest(runner)
        dialog.finished.connect(lambda _r: self._job.cancel())
        self.title = QLabel("Recent launches and presets")
        self.title.setObjectName("muted")
        self.list = QListWidget()
        self.list.setObjectName("recentList")
        self.list.setAccessibleName("Recent launches and presets")
        self.list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows elide instead
        self.empty = QLabel("Your launches show here, to launch again in one click.")
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        self.rows: list[RecentRow] = []
        self.fill()

    def fill(self) -> None:
        self.list.clear()
        self.rows = []
        found = entries_of(self.service)
        for entry, pinned in found:
            row = RecentRow(entry, pinned, self)
            item = QListWidgetItem()
            item.setSizeHint(QSize(0, row.sizeHint().height()))
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
            self.rows.append(row)
        self.list.setVisible(bool(found))
        self.empty.setVisible(not found)  # a wrapped line: as a list row it needed a scroll bar
        shown = min(max(self.list.count(), 1), VISIBLE_ROWS)
        height = sum(self.list.sizeHintForRow(i) for i in range(shown)) + 2 * self.list.frameWidth() + 2
        self.list.setFixedHeight(height)

    def toggle_pin(self, entry: RecentLaunch, pinned: bool) -> None:
        try:
            if pinned:
                recent.unpin(self.service.paths, self.service.settings, entry)
            else:
                recent.pin(self.service.paths, self.service.settings, entry)
        except CanfarError as exc:
            self._show_error(f"{exc.message}; {exc.hint}")
            return
        self.fill()

    def relaunch(self, entry: RecentLaunch) -> None:
        self._show_error("")
        for row in self.rows:
            row.launch.setEnabled(False)

        def done(req: LaunchRequest) -> None:
            self.chosen.emit(req)

        def failed(err: CanfarError) -> None:
            for row in self.rows:
                row.launch.setEnabled(True)
            self._show_error(f"{err.message}; {err.hint}" if err.hint else err.message)

        self._job.run(prepare_relaunch, self.service, entry, on_done=done, on_error=failed)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))


# --- the tray ----------------------------------------------------------------------------------------

def with_recent(entries: list[Entry], tray: TrayController) -> list[Entry]:
    """The tray's entries with a "Recent launches" submenu after the quick launches."""
    from .tray import Entry

    found = entries_of(tray.service)
    if not found:
        return entries
    children = tuple(
        Entry(f"recent/{i}", (f"{PINNED} " if pinned else "") + f"{headline(e, pinned)}\t{detail(e)}",
              e.kind, "Launch a new session with this set-up now",
              lambda e=e: relaunch_from_tray(tray, e))
        for i, (e, pinned) in enumerate(found))
    at = next((i + 1 for i, e in enumerate(entries) if e.key == "launch/dialog"), len(entries))
    return [*entries[:at], Entry("recent", "Recent launches", "refresh", children=children), *entries[at:]]


def relaunch_from_tray(tray: TrayController, entry: RecentLaunch) -> None:
    launch: Callable[[LaunchRequest], Any] = tray.launches.launch
    tray.runner.run(prepare_relaunch, tray.service, entry, on_done=launch, on_error=tray._failed)
