"""The cards' live CPU and memory sparklines: which cards stream, and when they are repainted.

Only running sessions whose cards are on screen ask the hub for a stream (under the owner name
"cards"); scrolling, a new listing and the window coming back re-check that. Sparklines are a
glance, not a graph: a card is repainted at most every couple of seconds with the last minute and a
half, and only when a reading came since, which keeps an idle window with many sessions cheap.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from ..core.lifecycle import State
from .cards import SessionCard
from .monitors import Monitors

CARD_REFRESH_S = 2.0  # how often a card's sparkline is repainted
SPARK_POINTS = 90  # the last minute and a half


class CardSparklines(QObject):
    """Feeds the hub's readings to the visible cards' sparklines (the dashboard owns one)."""

    def __init__(self, monitors: Monitors, cards: Callable[[], dict[str, SessionCard]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.monitors = monitors
        self.hub = monitors.hub
        self.cards = cards  # "host/id" -> card, as the dashboard holds them now
        self._timer = QTimer(self, singleShot=True, interval=150, timeout=self.update_cards)
        # the hub keeps every reading; the cards read them on this clock, only while they stream
        self._repaint = QTimer(self, interval=int(CARD_REFRESH_S * 1000), timeout=self.repaint_cards)
        self._painted: dict[tuple[str, str], tuple[int, float]] = {}  # (card, reading time) last drawn
        monitors.on_screen_changed.connect(self._on_screen)

    def schedule(self) -> None:
        """Re-check the cards shortly (many changes in a row cost one check)."""
        self._timer.start()

    def update_cards(self) -> None:
        """Stream the running sessions whose cards are on screen; clear sparklines of the others."""
        shown = []
        painted: dict[tuple[str, str], tuple[int, float]] = {}
        for card in self.cards().values():
            s = card.session
            if s is None:
                continue
            running = s.status == "running" and s.state != State.TERMINATING  # launching ones too: slow starts
            card.monitors.setVisible(running and not card.compact)
            if running and card.isVisible() and not card.visibleRegion().isEmpty():
                key = (s.host, s.id)
                shown.append(s)
                card.monitors.set_points(self.hub.history(key)[-SPARK_POINTS:])
                latest = self.hub.latest(key)
                if latest is not None:
                    painted[key] = (id(card), latest.t)
        self._painted = painted
        self.hub.want("cards", shown)
        if shown and not self._repaint.isActive():
            self._repaint.start()
        elif not shown:
            self._repaint.stop()

    def _on_screen(self, on: bool) -> None:
        if on:
            self.schedule()
        else:
            self._repaint.stop()

    def repaint_cards(self) -> None:
        """The streamed cards' sparklines with the readings that came since the last time."""
        streamed = self.hub.wanted("cards")
        if not streamed or not self.monitors.on_screen:
            self._repaint.stop()
            return
        cards = self.cards()
        for key in streamed:
            card = cards.get(f"{key[0]}/{key[1]}")
            latest = self.hub.latest(key)
            if card is None or not card.monitors.isVisible() or latest is None:
                continue
            if self._painted.get(key) == (id(card), latest.t):
                continue  # no reading since the last repaint (glances come every few seconds): nothing to draw
            self._painted[key] = (id(card), latest.t)
            card.monitors.set_points(self.hub.history(key)[-SPARK_POINTS:])
