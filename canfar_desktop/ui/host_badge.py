"""Which host a card's session runs on, and how a card looks while that host cannot be reached.

A session on an unreachable host is not gone: it keeps its last known facts, greyed, with a
"Host unreachable" badge. Every action needs the host's engine (even Delete), so the actions are
disabled with a tooltip that says why, and come back by themselves when the host answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QWidget

from ..core.errors import CanfarError
from ..core.kinds import KINDS
from . import icons
from .widgets import duration

if TYPE_CHECKING:
    from .cards import SessionCard

UNREACHABLE_COLOUR = "#718096"


class HostBadge(QLabel):
    """A small outlined chip with the host's name; hidden while only one host is configured."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hostBadge")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setVisible(False)
        self.host = ""

    def show_host(self, host: str, shown: bool, unreachable: bool = False) -> None:
        self.host = host
        self.setText(f"{'⚠ ' if unreachable else ''}{host}")
        self.setToolTip(f"Runs on the Docker host “{host}”" + (" (unreachable now)" if unreachable else ""))
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


def mark_host(card: SessionCard, host: str, shown: bool, error: CanfarError | None,
              last_seen: datetime | None = None) -> None:
    """Apply (or lift) the host-unreachable look on a card that was just filled by show_session/show_pending."""
    card.host_badge.show_host(host, shown, error is not None)
    tips: dict[QWidget, str] | None = getattr(card, "_reachable_tips", None)
    buttons = tuple(b for b in (card.open_button, card.renew_button, card.logs_button, card.events_button,
                                getattr(card, "troubleshoot_button", None), card.delete_button) if b is not None)
    if tips is None:
        tips = {b: b.toolTip() for b in buttons}
        card._reachable_tips = tips  # type: ignore[attr-defined]
    card.host_unreachable = error is not None  # type: ignore[attr-defined]
    if card.property("hostUnreachable") != (error is not None):
        card.setProperty("hostUnreachable", error is not None)
        card.style().unpolish(card)
        card.style().polish(card)
    for label in (card.title, card.image, card.meta):
        label.setEnabled(error is None)
    if error is None or card.session is None:
        for button, tip in tips.items():
            button.setToolTip(tip)
        card.badge.setToolTip("")
        return
    s = card.session
    why = f"The host “{host}” is unreachable ({error.message}); this comes back when it answers"
    for button in buttons:
        button.setEnabled(False)
        button.setToolTip(why)
    card.delete_button.setToolTip(f"Deleting needs the engine of “{host}”, which is unreachable now; "
                                  "the session is not lost")
    kind = s.kind if s.kind in KINDS else "contributed"
    card.kind_icon.setPixmap(icons.icon(kind).pixmap(28, 28, QIcon.Mode.Disabled))
    card.badge.setText("Host unreachable")
    card.badge.setStyleSheet(f"background: {UNREACHABLE_COLOUR};")
    card.badge.setAccessibleName("State: host unreachable")
    card.badge.setToolTip(f"{error.message}" + (f" — {error.hint}" if error.hint else ""))
    card.reason.setText(unreachable_reason(host, last_seen, s.state.value.lower()))
    card.reason.setStyleSheet("color: #b7791f;")
    kind_title = KINDS[s.kind].title if s.kind in KINDS else s.kind
    card.setAccessibleName(f"{kind_title} session {s.name}, host {host} unreachable")
