"""The parts of a session card that most cards never show, made the first time one is needed.

A running session's card shows no progress bar, warning, failure details, Edit and retry, Dismiss or
(unless compact) More menu; making and styling those eight widgets for every card was nearly half the
cost of a dashboard's cards at start. `Part` makes a widget on first access and puts it in its place in the
card; `show_part` shows one (making it) or hides it (only if it was ever made).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QToolButton, QWidget

from . import icons

if TYPE_CHECKING:
    from .cards import SessionCard

WARNING_COLOUR = "#b7791f"
LINES = ("details", "warning", "progress")  # their order below the reason line
BUTTONS = ("retry_button", "dismiss_button", "details_button")  # their order after Open


class Part:
    """A card attribute whose widget is made (by `make`) the first time it is read."""

    def __init__(self, make: Callable[[SessionCard], QWidget]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, card: SessionCard | None, owner: type) -> Any:
        if card is None:
            return self
        widget = card.__dict__.get(self.name)
        if widget is None:
            widget = card.__dict__[self.name] = self.make(card)
        return widget


def made(card: SessionCard, name: str) -> bool:
    return name in card.__dict__


def show_part(card: SessionCard, name: str, visible: bool) -> None:
    """Show a part (made now if need be) or hide it (nothing to do if it was never made)."""
    if visible or made(card, name):
        getattr(card, name).setVisible(visible)


def _place(layout: QBoxLayout, card: SessionCard, name: str, order: tuple[str, ...], first: int,
           widget: QWidget) -> QWidget:
    """Insert `widget` where `order` says, among the parts of that order made so far."""
    before = sum(1 for other in order[:order.index(name)] if made(card, other))
    layout.insertWidget(first + before, widget)
    widget.setVisible(False)
    return widget


def details_label(card: SessionCard) -> QWidget:
    label = QLabel()
    label.setObjectName("cardDetails")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName("Whole reason")
    return _place(card.lines, card, "details", LINES, 0, label)


def warning_label(card: SessionCard) -> QWidget:
    """A process killed out of memory inside the session."""
    label = QLabel()
    label.setObjectName("cardWarning")
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {WARNING_COLOUR};")
    label.setAccessibleName("Warning")
    return _place(card.lines, card, "warning", LINES, 0, label)


def progress_bar(card: SessionCard) -> QWidget:
    bar = QProgressBar()
    bar.setMaximumHeight(6)
    bar.setTextVisible(False)
    bar.setAccessibleName("Launch progress")
    bar.setRange(0, 100)
    return _place(card.lines, card, "progress", LINES, 0, bar)


def details_button(card: SessionCard) -> QWidget:
    """A failure's whole reason, on the card itself."""
    button = QToolButton()
    button.setText("Details")
    button.setCheckable(True)
    button.setAutoRaise(True)
    button.setAccessibleName("Show the whole reason")
    button.toggled.connect(card.toggle_details)
    return _place(card.action_row, card, "details_button", BUTTONS, 1, button)


def dismiss_button(card: SessionCard) -> QWidget:
    button = QPushButton("Dismiss")
    button.setToolTip("Remove this failed launch from the dashboard")
    button.setAccessibleName("Dismiss failed launch")
    button.clicked.connect(lambda: card.dismiss_requested.emit(card.pending))
    return _place(card.action_row, card, "dismiss_button", BUTTONS, 1, button)


def retry_button(card: SessionCard) -> QWidget:
    button = QPushButton(icons.icon("edit"), "Edit and retry")
    button.setToolTip("Open the launch dialog with this launch's choices, to change and try again")
    button.setAccessibleName("Edit and retry the launch")
    button.clicked.connect(lambda: card.retry_requested.emit(card.pending or card.session))
    return _place(card.action_row, card, "retry_button", BUTTONS, 1, button)


def more_button(card: SessionCard) -> QWidget:
    """Compact cards: the tools in a menu, filled as it opens."""
    button = QToolButton()
    icons.set_icon(button, "more")
    button.setIconSize(QSize(18, 18))
    button.setAutoRaise(True)
    button.setToolTip("More actions")
    button.setAccessibleName("More actions")
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(button)
    menu.aboutToShow.connect(lambda: card.fill_more(menu))
    button.setMenu(menu)
    card.action_row.addWidget(button)  # after the tools
    button.setVisible(False)
    return button
