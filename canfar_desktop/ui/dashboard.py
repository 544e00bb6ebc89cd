"""The dashboard: a grid of session cards that reflows with the width, or an invitation to launch.

Beside a session tab the list can be narrow: below COMPACT_WIDTH its cards turn compact, so a
notebook keeps the width. With no session, the page offers each kind to launch (the toolbar's
New session is the one button for "a session of any kind").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.kinds import KINDS
from ..core.platform_hosts import is_platform
from ..core.session import Session
from . import icons
from .cards import PendingLaunch, SessionCard
from .hosts_panel import HostStrip

if TYPE_CHECKING:
    from ..core.service import SessionService
    from .monitors import Monitors
    from .sparklines import CardSparklines

CARD_MIN_WIDTH = 320
SPACING = 12
COMPACT_WIDTH = 340  # narrower than this, cards are compact
MIN_WIDTH = 200  # the narrowest the session list goes beside a tab


PULSE_MS = 250  # busy bars step four times a second (Qt's own busy bar repaints every frame)


class CardGrid(QWidget):
    """Lays cards out in as many columns as fit; re-lays them when the width changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardGrid")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(SPACING, SPACING, SPACING, SPACING)
        self._grid.setSpacing(SPACING)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._cards: list[SessionCard] = []
        self._columns = 0

    def set_cards(self, cards: list[SessionCard]) -> None:
        if cards == self._cards:
            return
        for card in self._cards:
            self._grid.removeWidget(card)
        self._cards = list(cards)
        self._columns = 0
        self.relayout()

    def columns_for(self, width: int) -> int:
        return max(1, (width - SPACING) // (CARD_MIN_WIDTH + SPACING))

    def relayout(self) -> None:
        columns = self.columns_for(self.width())
        if columns == self._columns and all(self._grid.indexOf(c) >= 0 for c in self._cards):
            return
        self._columns = columns
        for card in self._cards:
            self._grid.removeWidget(card)
        for i in range(self._grid.columnCount()):
            self._grid.setColumnStretch(i, 0)
        for index, card in enumerate(self._cards):
            self._grid.addWidget(card, index // columns, index % columns, Qt.AlignmentFlag.AlignTop)
            card.show()
        for i in range(columns):
            self._grid.setColumnStretch(i, 1)

    @property
    def columns(self) -> int:
        return self._columns

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self.relayout()


class Dashboard(QWidget):
    """Cards for every session of the user, newest first, plus launches in progress."""

    new_session_requested = Signal(str)  # the kind chosen on the empty page ("" for any)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_screen = True  # busy bars move only while the window is on screen, and one is there
        self._pulse = QTimer(self, interval=PULSE_MS, timeout=self._pulse_cards)
        self.setObjectName("dashboard")
        self.cards: dict[str, SessionCard] = {}  # "host/id" or the pending launch's key
        self.card_factory = SessionCard
        self.host_names: list[str] = []
        self.platform_hosts: set[str] = set()
        self.unreachable_hosts: dict[str, CanfarError] = {}
        self.last_seen: dict[str, datetime | None] = {}
        self.hosts = HostStrip()
        self.hosts.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # narrow: chips clip
        self.sparklines: CardSparklines | None = None
        self.compact = False
        self.had_sessions = False
        self.setMinimumWidth(MIN_WIDTH)

        header = QHBoxLayout()
        header.setContentsMargins(SPACING + 2, 10, SPACING + 2, 0)
        title = QLabel("Sessions")
        title.setObjectName("emptyTitle")
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.count_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header.addWidget(title)
        header.addSpacing(8)
        header.addWidget(self.count_label, 1)

        self.grid = CardGrid()
        self.scroll = QScrollArea()
        self.scroll.setObjectName("dashboardScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # cards narrow instead
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(self.grid)
        self.scroll.setAccessibleName("Session cards")

        self.empty = self._empty_state()
        self.loading = QLabel("Looking for sessions…")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading.setObjectName("muted")
        self.unavailable = QLabel("Sessions cannot be listed while the Docker engine is unreachable.\n"
                                  "They keep running; they appear here again when the engine answers.")
        self.unavailable.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.unavailable.setObjectName("muted")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.loading)
        self.stack.addWidget(self.unavailable)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.scroll)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.hosts)
        layout.addWidget(self.stack, 1)

    def _empty_state(self) -> QWidget:
        """The page for no sessions; its picture and tiles are made when it first shows (_fill_empty)."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_picture = QLabel()
        self.empty_picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_heading = QLabel("No sessions yet")
        self.empty_heading.setObjectName("emptyTitle")
        self.empty_heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text = QLabel()
        self.empty_text.setObjectName("muted")
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        self.kind_row = QHBoxLayout()
        self.kind_buttons: dict[str, QToolButton] = {}
        for widget in (self.empty_picture, self.empty_heading, self.empty_text):
            layout.addWidget(widget)
        layout.addSpacing(8)
        layout.addLayout(self.kind_row)
        self._word_empty()
        return box

    def _fill_empty(self) -> None:
        """The empty page's picture and a tile per kind, made the first time it shows: a start with
        sessions renders none of their icons."""
        if self.kind_buttons:
            return
        self.empty_picture.setPixmap(icons.icon("app").pixmap(QSize(72, 72)))
        row = self.kind_row
        row.addStretch(1)
        for kind in KINDS.values():
            if not kind.interactive:
                continue
            button = QToolButton()
            button.setObjectName("kindTile")
            icons.set_icon(button, kind.name)
            button.setIconSize(QSize(36, 36))
            button.setText(kind.title)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setToolTip(f"Launch a {kind.title} session: {kind.description}")
            button.setAccessibleName(f"Launch a {kind.title} session")
            button.setMinimumWidth(92)
            button.clicked.connect(lambda _c=False, k=kind.name: self.new_session_requested.emit(k))
            self.kind_buttons[kind.name] = button
            row.addWidget(button)
        row.addStretch(1)

    def _word_empty(self) -> None:
        """First start: an invitation; after sessions existed: just that there are none now."""
        self.empty_heading.setText("No sessions now" if self.had_sessions else "No sessions yet")
        self.empty_text.setText(
            ("Your earlier sessions are gone; your files in /arc are kept. " if self.had_sessions else
             "Your files in /arc are kept between sessions. ")
            + "Choose a kind below, or New session (Ctrl+N) for every choice.")

    def set_hosts(self, names: list[str], unreachable: dict[str, CanfarError],
                  last_seen: dict[str, datetime | None], platforms: set[str] | None = None) -> None:
        """The hosts behind the next show_sessions: badges when there are several (always for a
        science platform's sessions), and which are down."""
        self.host_names = list(names)
        self.platform_hosts = set(platforms or ())
        self.unreachable_hosts = dict(unreachable)
        self.last_seen = dict(last_seen)

    def show_listing(self, service: SessionService, sessions: list[Session], unreachable: dict[str, CanfarError],
                     loaded: bool, pending: list[PendingLaunch] | None = None) -> None:
        """Cards for a listing of every configured host: the store's, or the first one in the skeleton at start."""
        names = service.host_names()
        seen = {h: (listing.listed_at if (listing := service.listing(h)) else None) for h in unreachable}
        self.set_hosts(names, unreachable, seen, {h.name for h in service.settings.hosts if is_platform(h)})
        self.show_sessions(sessions, pending or [], loaded, bool(unreachable) and len(unreachable) == len(names))

    def card_states(self) -> dict[str, str]:
        """Each listed session's name and the state its card shows (the timing markers, the tests)."""
        return {c.session.name: c.state.value for c in self.cards.values()
                if c.session is not None and c.state is not None}

    def show_sessions(self, sessions: list[Session], pending: list[PendingLaunch], loaded: bool,
                      unreachable: bool = False) -> None:
        """Update cards in place (no flicker): one per session, plus launches not yet listed."""
        now = datetime.now(UTC)
        by_id = {p.session_id: p for p in pending if p.session_id}
        wanted: dict[str, tuple[Session | None, PendingLaunch | None]] = {}
        for p in pending:
            if not p.session_id or (p.error is not None and not any(s.id == p.session_id for s in sessions)):
                wanted[p.key] = (None, p)
        for s in sessions:
            wanted[f"{s.host}/{s.id}"] = (s, by_id.get(s.id))
        for key in list(self.cards):
            if key not in wanted:
                card = self.cards.pop(key)
                card.hide()
                card.deleteLater()
        ordered: list[SessionCard] = []
        for key, (s, p) in wanted.items():
            card = self.cards.get(key)
            if card is None:
                card = self.cards[key] = self.card_factory()
            several = len(self.host_names) > 1
            if s is not None:
                card.show_session(s, p, now)
                card.mark_host(s.host, several, self.unreachable_hosts.get(s.host), self.last_seen.get(s.host),
                               platform=s.host in self.platform_hosts)
            elif p is not None:
                card.show_pending(p)
                card.mark_host(p.host, several, None, platform=p.host in self.platform_hosts)
            ordered.append(card)
        for card in ordered:
            card.set_compact(self.compact)
        if unreachable and not ordered:
            self.stack.setCurrentWidget(self.unavailable)
        elif not loaded and not ordered:
            self.stack.setCurrentWidget(self.loading)
        elif ordered:  # the page first: a grid shown has its width, so the cards are placed once
            self.stack.setCurrentWidget(self.scroll)
        else:
            self._fill_empty()
            self.stack.setCurrentWidget(self.empty)
        self.grid.set_cards(ordered)
        if ordered and not self.had_sessions:
            self.had_sessions = True
            self._word_empty()
        active = sum(1 for s in sessions if s.active)
        self.count_label.setText(f"{len(sessions)} total · {active} active" if sessions else "")
        if self.sparklines is not None:
            self.sparklines.schedule()
        self._animate_cards(self._on_screen)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self.set_compact(self.width() < COMPACT_WIDTH)

    def set_compact(self, compact: bool) -> None:
        """Compact cards (and a shorter header) for a narrow list beside a tab."""
        if compact == self.compact:
            return
        self.compact = compact
        self.count_label.setVisible(not compact)
        margin = 6 if compact else SPACING
        self.grid.layout().setContentsMargins(margin, margin, margin, margin)
        for card in self.cards.values():
            card.set_compact(compact)
        if self.sparklines is not None:
            self.sparklines.schedule()

    def show_monitors(self, monitors: Monitors) -> CardSparklines:
        """Live CPU and memory sparklines on the running sessions' cards that are on screen (with the
        window: the start's skeleton shows the cards without them)."""
        from .sparklines import CardSparklines

        sparklines = self.sparklines = CardSparklines(monitors, lambda: self.cards, self)
        monitors.on_screen_changed.connect(self._animate_cards)
        self._animate_cards(monitors.on_screen)
        self.scroll.verticalScrollBar().valueChanged.connect(lambda _v: sparklines.schedule())
        sparklines.schedule()
        return sparklines

    def _animate_cards(self, on_screen: bool) -> None:
        """Busy bars pulse a few times a second while the window is on screen, and not at all otherwise
        (nor while no card has one: an idle dashboard has no timer waking it)."""
        self._on_screen = on_screen
        if on_screen and any(card.busy_bar for card in self.cards.values()):
            if not self._pulse.isActive():
                self._pulse.start()
        else:
            self._pulse.stop()

    def _pulse_cards(self) -> None:
        bars = [card for card in self.cards.values() if card.busy_bar]
        for card in bars:
            if card.busy:  # on screen
                card.pulse()
        if not bars:
            self._pulse.stop()

    def card_for(self, session_id: str) -> SessionCard | None:
        for card in self.cards.values():
            if card.session is not None and card.session.id == session_id:
                return card
        return None
