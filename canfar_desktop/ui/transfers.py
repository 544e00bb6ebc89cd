"""Copies in and out of sessions: files or folders dropped on a card, a session's tab or the dashboard
are copied into that session's /arc/home/<user>; the file browser (ui/files_dialog.py) uploads into
any folder and downloads. Each copy has a row with a progress bar and Cancel.

The copy itself is the core's (`SessionService.copy_in`: streamed through the engine, so remote
hosts work the same, and a cancelled copy leaves nothing under its final name); it runs on a worker
and reports progress here at most ten times a second. A drop on the dashboard outside any card goes
to the only running session, or asks which one.
"""

from __future__ import annotations

import os
import posixpath
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QCursor, QDropEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..core.errors import CanfarError
from ..core.lifecycle import State
from ..core.session import Session
from ..core.transfer import Progress
from .cards import SessionCard

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTabWidget

    from ..core.service import SessionService
    from .messages import MessageBar
    from .store import SessionStore
    from .tasks import Runner

UPDATE_S = 0.1
COPYABLE = (State.RUNNING, State.SUSPENDED)


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class TransferRow(QWidget):
    """One copy under way: what goes where, a progress bar, Cancel."""

    def __init__(self, title: str, cancel: threading.Event) -> None:
        super().__init__()
        self.cancel_event = cancel
        self.label = QLabel(title)
        self.label.setMinimumWidth(40)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the size is known
        self.bar.setAccessibleName("Copy progress")
        self.bar.setFixedWidth(260)
        self.detail = QLabel("")
        self.detail.setObjectName("muted")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName(f"Cancel copy: {title}")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 2, 10, 2)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.detail)
        row.addWidget(self.cancel_button)
        row.addStretch(1)  # the right-hand corner is where notices appear

    def show_progress(self, done: int, total: int | None) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(done, total) / total))
            self.detail.setText(f"{human(done)} of {human(total)}")
        else:
            self.detail.setText(human(done))

    def cancel(self) -> None:
        self.cancel_event.set()
        self.cancel_button.setEnabled(False)
        self.detail.setText("cancelling…")


class Transfers(QObject):
    """Accepts file drops on the window and runs each copy with its row in a panel below the sessions."""

    def __init__(self, target: QWidget, tabs: QTabWidget, service: SessionService, runner: Runner,
                 store: SessionStore, messages: MessageBar) -> None:
        super().__init__(target)
        self.target, self.tabs = target, tabs  # the window files are dropped on, and its session tabs
        self.service, self.runner, self.store, self.messages = service, runner, store, messages
        self.panel = QWidget()
        self.panel.setObjectName("transfers")
        self.panel.setAccessibleName("File copies")
        self.rows_box = QVBoxLayout(self.panel)
        self.rows_box.setContentsMargins(0, 0, 0, 4)
        self.panel.setVisible(False)
        self.rows: list[TransferRow] = []
        self.last_choice: QMenu | None = None  # the "which session?" menu of the last ambiguous drop (tests)
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    # --- dropping -------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(event, QDropEvent):
            if self._local_files(event):
                event.acceptProposedAction()
                return True
        elif event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent):
            files = self._local_files(event)
            if files:
                event.acceptProposedAction()
                self.drop(files, event.position().toPoint())
                return True
        return False

    @staticmethod
    def _local_files(event: QDropEvent) -> list[Path]:
        data = event.mimeData()
        if not data.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]

    def drop(self, files: list[Path], pos: QPoint) -> None:
        """Files dropped at `pos` (window coordinates): into the session under them, or one to choose."""
        target = self.session_at(pos)
        if target is not None:
            self.copy_in(target, files)
            return
        running = [s for s in self.store.all() if s.state in COPYABLE]
        if not running:
            self.messages.show_message("No session to copy into", "launch a session, then drop the files on it",
                                              "warning")
        elif len(running) == 1:
            self.copy_in(running[0], files)
        else:
            menu = QMenu(self.target)
            menu.setObjectName("copyTarget")
            menu.addSection(f"Copy {len(files)} item{'s' if len(files) != 1 else ''} into")
            for s in running:
                act = menu.addAction(f"{s.name} ({s.kind})")
                act.setObjectName(f"copy/{s.host}/{s.id}")
                act.triggered.connect(lambda _c=False, s=s: self.copy_in(s, files))
            self.last_choice = menu
            menu.popup(QCursor.pos())

    def session_at(self, pos: QPoint) -> Session | None:
        """The session of the card, or of the tab in the tab bar, under a window position."""
        widget = self.target.childAt(pos)
        tabs = self.tabs
        while widget is not None:
            if isinstance(widget, SessionCard):
                return widget.session
            if widget is tabs.tabBar():
                index = tabs.tabBar().tabAt(tabs.tabBar().mapFrom(self.target, pos))
                return getattr(tabs.widget(index), "session", None) if index >= 0 else None
            if widget is tabs:
                return getattr(tabs.currentWidget(), "session", None)
            widget = widget.parentWidget()
        return None

    # --- copying --------------------------------------------------------------------------------

    def copy_in(self, s: Session, files: list[Path], dest: str = "",
                then: Callable[[], None] | None = None) -> TransferRow:
        """Copy files into the session's folder `dest` (default /arc/home/<user>), showing a row."""
        home = dest or f"/arc/home/{s.owner}/"
        names = ", ".join(f.name for f in files[:3]) + (" …" if len(files) > 3 else "")

        def landed(result: list[str]) -> str:
            return f"it is in {result[0] if len(result) == 1 else home}"

        return self._copy(f"Copying {names} to {s.name}:{home}", f"Copy of {names}", f"Copied {names} to {s.name}", landed,
                          f"Could not copy {names} to {s.name}", then,
                          lambda progress, cancel: self.service.copy_in(s, files, home, progress, cancel))

    def copy_out(self, s: Session, paths: list[str], folder: Path,
                 then: Callable[[], None] | None = None) -> TransferRow:
        """Download files or folders of the session into a folder of this computer, one after the other."""
        names = ", ".join(posixpath.basename(p.rstrip("/")) for p in paths[:3]) + (" …" if len(paths) > 3 else "")

        def work(progress: Callable[[Progress], None], cancel: threading.Event) -> list[Path]:
            return [self.service.copy_out(s, path, f"{folder}{os.sep}", progress, cancel) for path in paths]

        return self._copy(f"Downloading {names} from {s.name} to {folder}", f"Download of {names}",
                          f"Downloaded {names} from {s.name}",
                          lambda result: f"it is in {result[0] if len(result) == 1 else folder}",
                          f"Could not download {names} from {s.name}", then, work)

    def _copy(self, title: str, noun: str, done_title: str, where: Callable[[Any], str], failed_title: str,
              then: Callable[[], None] | None,
              work: Callable[[Callable[[Progress], None], threading.Event], Any]) -> TransferRow:
        """Run one copy on a worker with its row; progress reaches the row at most ten times a second."""
        cancel = threading.Event()
        row = TransferRow(title, cancel)
        self._add(row)
        loop = self.runner.loop
        last = [0.0]

        def progress(p: Progress) -> None:  # a worker thread
            now = time.monotonic()
            if now - last[0] >= UPDATE_S or p.done == p.total:
                last[0] = now
                loop.call_soon_threadsafe(row.show_progress, p.done, p.total)

        def done(result: Any) -> None:
            self._remove(row)
            self.messages.show_message(done_title, where(result), "info")
            if then is not None:
                then()

        def failed(err: CanfarError) -> None:
            self._remove(row)
            if cancel.is_set():
                self.messages.show_message(f"{noun} cancelled", "nothing was left behind", "info")
            else:
                self.messages.show_error(err, failed_title)
            if then is not None:
                then()

        self.runner.run(work, progress, cancel, on_done=done, on_error=failed)
        return row

    def _add(self, row: TransferRow) -> None:
        self.rows.append(row)
        self.rows_box.addWidget(row)
        self.panel.setVisible(True)

    def _remove(self, row: TransferRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.panel.setVisible(bool(self.rows))
