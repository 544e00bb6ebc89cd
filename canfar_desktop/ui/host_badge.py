"""Which host a card's session runs on: the card's host chip, and the line it shows while that host is down.

A session on an unreachable host is not gone: the card (`SessionCard.mark_host`) keeps its last
known facts, greyed, with a "Host unreachable" badge and this module's reason line.
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from .widgets import duration

UNREACHABLE_COLOUR = "#718096"


class HostBadge(QLabel):
    """A small outlined chip with the host's name; hidden while only one host is configured."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hostBadge")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setVisible(False)
        self.host = ""
        self.platform = False
        self._look: tuple[str, bool, bool, bool] | None = None

    def show_host(self, host: str, shown: bool, unreachable: bool = False, platform: bool = False) -> None:
        """`platform`: the host is a science platform, marked CANFAR (with its name when that differs)."""
        if self._look == (host, shown, unreachable, platform):
            return  # as shown: a card is shown again with every change of any session, and a restyle costs
        self._look = (host, shown, unreachable, platform)
        self.host, self.platform = host, platform
        label = ("CANFAR" if host.lower() == "canfar" else f"CANFAR · {host}") if platform else host
        self.setText(f"{'⚠ ' if unreachable else ''}{label}")
        where = f"the CANFAR Science Platform “{host}”" if platform else f"the Docker host “{host}”"
        self.setToolTip(f"Runs on {where}" + (" (unreachable now)" if unreachable else ""))
        self.setAccessibleName(f"Host: {host}" + (", unreachable" if unreachable else ""))
        self.setProperty("unreachable", "true" if unreachable else "false")
        self.style().unpolish(self)
        self.style().polish(self)
        self.setVisible(shown)


def unreachable_reason(host: str, last_seen: datetime | None, state: str, now: datetime | None = None) -> str:
    """One line for the card: what we last knew, and when."""
    if last_seen is None:
        return f"“{host}” does not answer; last known state {state}"
    ago = duration(((now or datetime.now(UTC)) - last_seen).total_seconds())
    return f"“{host}” does not answer; {state} {ago} ago"
