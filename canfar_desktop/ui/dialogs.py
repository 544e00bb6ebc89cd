"""Small dialogs the cards open: delete confirmation, logs and events."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout, QWidget

from ..core.events import EngineEvent
from ..core.session import Session
from .log_view import LogView
from .tasks import Runner
from .wording import hint_of, message_of


def confirm_delete(parent: QWidget | None, s: Session) -> bool:
    """Ask before deleting; say plainly what is kept and what is lost."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Delete session")
    box.setText(f"Delete the {s.kind} session “{s.name}”?")
    box.setInformativeText("The session stops and its container is removed. Your files in /arc are kept; "
                           "everything in this session's /scratch is wiped.")
    delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAccessibleName("Confirm deleting the session")
    box.exec()
    return box.clickedButton() is delete


class TextDialog(QDialog):
    """Read-only lines (logs, events) with search, wrap and copy, as in the troubleshooting panel;
    non-modal so the dashboard stays usable."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 480)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.view = LogView(follow=False, name=title)
        self.text = self.view.text
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.accepted.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.text.setPlainText("Loading…")

    def set_lines(self, lines: list[str], empty: str) -> None:
        self.text.setPlainText("\n".join(lines) if lines else empty)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())


def show_lines(parent: QWidget, runner: Runner, title: str, heading: str, read: Callable[[], list[str]],
               empty: str) -> TextDialog:
    """A card's Logs or Events: the dialog at once, its lines (read on a worker) when they come."""
    dialog = TextDialog(title, parent)
    dialog.heading.setText(heading)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    runner.run(read, on_done=lambda lines: dialog.set_lines(lines, empty),
               on_error=lambda e: dialog.set_lines([message_of(e), hint_of(e)], ""))
    return dialog


def format_events(events: list[EngineEvent]) -> list[str]:
    return [f"{e.when.astimezone():%Y-%m-%d %H:%M:%S}  {e.action:<14} {e.detail}".rstrip() for e in events]
