"""The host strip above the cards: one chip per configured host with its status and round-trip time.

Shown only when more than one host is configured (with one host the status bar says it all). A chip
of an unreachable host asks for a retry when clicked; its tooltip says where /arc lives there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from ..core.errors import CanfarError
from ..core.service import HostStatus
from . import icons

OK_COLOUR = "#2f855a"
DOWN_COLOUR = "#c53030"
WAIT_COLOUR = "#b7791f"


def status_text(status: HostStatus | None, error: CanfarError | None) -> tuple[str, str]:
    """(short text, dot colour) for one host."""
    if error is not None or (status is not None and not status.ok):
        return "unreachable", DOWN_COLOUR
    if status is None:
        return "connecting…", WAIT_COLOUR
    text = f"{status.rtt_ms:.0f} ms" if status.rtt_ms is not None else "connected"
    if status.warning:
        return f"{text} · login expiring", WAIT_COLOUR
    return text, OK_COLOUR


class HostStrip(QWidget):
    """Chips for every host; `retry_requested(name)` when an unreachable host's chip is clicked."""

    retry_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hostStrip")
        self.setAccessibleName("Docker hosts")
        self.chips: dict[str, QToolButton] = {}
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(14, 2, 14, 0)
        self._row.setSpacing(6)
        caption = QLabel("Hosts")
        caption.setObjectName("muted")
        self._row.addWidget(caption)
        self._row.addStretch(1)
        self.setVisible(False)

    def show_hosts(self, names: list[str], statuses: Mapping[str, HostStatus],
                   unreachable: Mapping[str, CanfarError], describe: Callable[[str], str]) -> None:
        """Update the chips in place; `describe(name)` says where /arc lives on that host."""
        for name in [n for n in self.chips if n not in names]:
            chip = self.chips.pop(name)
            self._row.removeWidget(chip)
            chip.deleteLater()
        for index, name in enumerate(names):
            chip = self.chips.get(name)
            if chip is None:
                chip = self.chips[name] = QToolButton()
                chip.setObjectName("hostChip")
                chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
                chip.setCursor(Qt.CursorShape.PointingHandCursor)
                chip.clicked.connect(lambda _c=False, n=name: self._clicked(n))
            if self._row.indexOf(chip) != index + 1:
                self._row.insertWidget(index + 1, chip)
            error = unreachable.get(name)
            status = statuses.get(name)
            text, colour = status_text(status, error)
            chip.setText(f"{name} · {text}")
            chip.setIcon(QIcon(icons.dot(colour)))
            chip.setProperty("unreachable", "true" if colour == DOWN_COLOUR else "false")
            chip.style().unpolish(chip)
            chip.style().polish(chip)
            problem = error.message if error is not None else (status.error if status and not status.ok else "")
            tip = [f"Docker host “{name}”: {text}"]
            if problem:
                tip.append(problem)
                tip.append("Click to retry now (it also reconnects by itself)")
            elif status is not None and status.warning:
                tip.append(status.warning)
            try:
                tip.append(describe(name))
            except CanfarError:
                pass
            chip.setToolTip("\n".join(tip))
            chip.setAccessibleName(f"Host {name}: {text}")
        self.setVisible(len(names) > 1)

    def _clicked(self, name: str) -> None:
        chip = self.chips.get(name)
        if chip is not None and chip.property("unreachable") == "true":
            self.retry_requested.emit(name)
