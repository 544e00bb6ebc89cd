"""Session cards: what a session is, how it is doing, and its actions, readable at a glance.

A card is compact (`set_compact`) when the session list is narrow beside a tab: name, state and
reason, Open, and the other actions in a menu. A failed launch keeps its whole reason (Details)
and offers Edit and retry; a failed session offers Launch again. A process killed out of memory
inside a running session shows as a warning line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import CanfarError
from ..core.kinds import KINDS, is_batch
from ..core.lifecycle import State
from ..core.oom import describe as describe_oom
from ..core.record import field, record
from ..core.session import Session
from ..core.settings import Resources
from . import card_parts, icons, job_card
from .card_graphs import CardMonitors
from .card_parts import Part, made, show_part
from .host_badge import UNREACHABLE_COLOUR, HostBadge, unreachable_reason
from .theme import STATE_COLOURS
from .theme import current as current_colours
from .widgets import ElidedLabel, duration, restyle
from .wording import for_app

PULSE_STEP = 9  # of 100 per pulse of a busy bar


@record(frozen=False)
class PendingLaunch:
    """A launch started from the dialog, shown as a card until the session is Running (or failed)."""

    key: str
    kind: str
    name: str
    image: str
    resources: Resources
    host: str
    stage: str = "checking"
    fraction: float | None = None
    session_id: str = ""
    error: CanfarError | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def describe(resources: Resources) -> str:
    text = f"{resources.cores:g} cores · {resources.ram_gb:g} GB" if resources.mode == "fixed" else "flexible"
    return text + (f" · {resources.gpus} GPU" if resources.gpus else "")


def stage_text(stage: str, fraction: float | None) -> str:
    if stage.startswith("pulling") and fraction is not None:
        return f"{stage} ({fraction * 100:.0f} %)"
    return stage


class SessionCard(QFrame):
    """One session (or one launch in progress): kind and name, state badge, facts, actions."""

    open_requested = Signal(object)
    renew_requested = Signal(object)
    delete_requested = Signal(object)
    logs_requested = Signal(object)
    events_requested = Signal(object)
    dismiss_requested = Signal(object)
    troubleshoot_requested = Signal(object)
    files_requested = Signal(object)
    retry_requested = Signal(object)  # the failed PendingLaunch, or the failed Session, to launch again
    # what most cards never show, made when first needed (ui/card_parts.py)
    details = Part(card_parts.details_label)
    warning = Part(card_parts.warning_label)
    progress = Part(card_parts.progress_bar)
    details_button = Part(card_parts.details_button)
    dismiss_button = Part(card_parts.dismiss_button)
    retry_button = Part(card_parts.retry_button)
    more_button = Part(card_parts.more_button)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.session: Session | None = None
        self.pending: PendingLaunch | None = None
        self.host_unreachable = False
        self.compact = False
        self.share_button: QToolButton | None = None  # Share… and its "shared until" line (ui/sharing.py)
        self.share_line: QLabel | None = None
        self._badge_look = ("", "#718096")
        self._icon_look: tuple[bool, int] | None = None

        self.kind_icon = QLabel()
        self.kind_icon.setFixedSize(28, 28)
        self.title = ElidedLabel()
        self.title.setObjectName("cardTitle")
        self.badge = QLabel()
        self.badge.setObjectName("badge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.kind_icon)
        top.addWidget(self.title, 1)
        self.host_badge = HostBadge()  # which host, when several are configured (see mark_host)
        top.addWidget(self.host_badge)
        top.addWidget(self.badge)

        self.reason = ElidedLabel()
        self.reason.setObjectName("cardReason")
        self.lines = QVBoxLayout()  # the failure's details, an out-of-memory warning, the launch's progress
        self.lines.setSpacing(5)
        self.image = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.image.setObjectName("cardImage")
        small = self.image.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.image.setFont(small)
        self.meta = ElidedLabel()
        self.meta.setObjectName("cardMeta")
        self.monitors = CardMonitors()  # live CPU and memory, fed by ui.sparklines while on screen
        self.monitors.setVisible(False)

        self.open_button = QPushButton(icons.icon("open", "#ffffff"), "Open")
        self.open_button.setObjectName("primary")
        self.open_button.setToolTip("Open the session in a tab")
        self.open_button.setAccessibleName("Open session")
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self.session))
        self.files_button = self._tool("files", "Files: browse the session's /arc, upload and download",
                                       "Browse files", self.files_requested)
        self.renew_button = self._tool("renew", "Renew: extend the session's lifetime", "Renew session",
                                       self.renew_requested)
        self.logs_button = self._tool("logs", "Logs: the session's last output", "Show logs", self.logs_requested)
        self.events_button = self._tool("events", "Events: what the engine did with this session", "Show events",
                                        self.events_requested)
        self.troubleshoot_button = self._tool("troubleshoot", "Troubleshoot: live graphs, processes, logs, "
                                              "events and diagnosis", "Troubleshoot session",
                                              self.troubleshoot_requested)
        self.delete_button = self._tool("delete", "Delete: stop and remove the session (/arc is kept)",
                                        "Delete session", self.delete_requested)
        self.tools = (self.files_button, self.renew_button, self.logs_button, self.events_button, self.troubleshoot_button,
                      self.delete_button)
        self._visible_tools: list[QToolButton] = list(self.tools)
        actions = self.action_row = QHBoxLayout()  # Open, and (card_parts) Edit and retry, Dismiss, Details
        actions.setSpacing(4)
        actions.addWidget(self.open_button)
        actions.addStretch(1)
        for button in self.tools:
            actions.addWidget(button)
        self._action_tips = {b: b.toolTip() for b in (self.open_button, *self.tools)}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 10)
        layout.setSpacing(5)
        layout.addLayout(top)
        layout.addWidget(self.reason)
        layout.addLayout(self.lines)
        layout.addWidget(self.image)
        layout.addWidget(self.meta)
        layout.addWidget(self.monitors)
        layout.addSpacing(4)
        layout.addLayout(actions)

    def _tool(self, name: str, tip: str, accessible: str, signal: Signal) -> QToolButton:
        button = QToolButton()
        icons.set_icon(button, name)
        button.setIconSize(QSize(18, 18))
        button.setAutoRaise(True)
        button.setToolTip(tip)
        button.setAccessibleName(accessible)
        button.clicked.connect(lambda: signal.emit(self.session))
        return button

    # --- showing ------------------------------------------------------------------------------

    def show_session(self, s: Session, pending: PendingLaunch | None = None, now: datetime | None = None) -> None:
        self.session, self.pending = s, pending
        now = now or datetime.now(UTC)
        reason = s.reason
        if s.state == State.LAUNCHING and pending is not None:
            reason = stage_text(pending.stage, pending.fraction)
        self._head(s.kind, s.name, s.state, reason)
        self.image.setText(s.image)
        parts = [re.sub(r"\b1 cores\b", "1 core", s.describe_resources())]
        if s.created:
            parts.append(f"started {duration((now - s.created).total_seconds())} ago")
        left = s.time_left(now)
        if left is not None and s.active:
            parts.append(f"{duration(left)} left")
        self.meta.setText(" · ".join(parts))
        oom = describe_oom(s) if s.active else ""
        if oom:
            self.warning.setText(f"⚠ {oom}")
            self.warning.setToolTip("A process in the session used more memory than the session may have, and "
                                    "the kernel stopped it. Launch again with more memory (fixed resources).")
        show_part(self, "warning", bool(oom))
        show_part(self, "progress", s.state == State.LAUNCHING)
        self._progress(pending.fraction if pending else None)
        self.open_button.setEnabled(s.state in (State.RUNNING, State.SUSPENDED) and not is_batch(s.kind))
        failed = s.state == State.FAILED
        self.open_button.setVisible(not is_batch(s.kind) and not failed)  # a batch job's output is in Logs
        show_part(self, "dismiss_button", False)
        if failed or made(self, "retry_button"):
            self.retry_button.setIcon(icons.icon("edit"))
            self.retry_button.setText("Launch again")
            self.retry_button.setToolTip("Open the launch dialog with this session's choices")
            self.retry_button.setAccessibleName("Launch again")
        show_part(self, "retry_button", failed)
        renewable = s.state in (State.RUNNING, State.SUSPENDED, State.LAUNCHING, State.EXPIRED)
        self.renew_button.setEnabled(renewable)
        for button in (self.logs_button, self.events_button, self.troubleshoot_button, self.delete_button):
            button.setEnabled(s.state != State.TERMINATING)
        self._visible_tools = [b for b in self.tools if (b is not self.renew_button or renewable)
                               and (b is not self.files_button or s.state in (State.RUNNING, State.SUSPENDED))]
        self._place_tools()
        self._show_details(failed, self.reason.full_text())
        self.setAccessibleName(f"{KINDS[s.kind].title if s.kind in KINDS else s.kind} session {s.name}, {s.state.value}")
        if is_batch(s.kind):
            job_card.present(self, s, now)

    def show_pending(self, p: PendingLaunch) -> None:
        self.session, self.pending = None, p
        failed = p.error is not None
        if failed and p.error is not None:
            reason = p.error.message + (f" — {p.error.hint}" if p.error.hint else "")
        else:
            reason = stage_text(p.stage, p.fraction)
        self._head(p.kind, p.name, State.FAILED if failed else State.LAUNCHING, reason)
        self.image.setText(p.image)
        self.meta.setText(describe(p.resources))
        show_part(self, "warning", False)
        show_part(self, "progress", not failed)
        self._progress(p.fraction)
        self.open_button.setVisible(False)
        show_part(self, "dismiss_button", failed)
        if failed or made(self, "retry_button"):
            self.retry_button.setText("Edit and retry")
            self.retry_button.setToolTip("Open the launch dialog with this launch's choices, to change and try again")
            self.retry_button.setAccessibleName("Edit and retry the launch")
        show_part(self, "retry_button", failed)
        self.monitors.setVisible(False)
        self._visible_tools = []
        self._place_tools()
        self._show_details(failed, self.reason.full_text())
        self.setAccessibleName(f"Launch of {p.name}, {'failed' if failed else p.stage}")

    # --- compact mode, details, the tools menu --------------------------------------------------

    def set_compact(self, compact: bool) -> None:
        """Narrow cards: name, state, reason and Open; the tools move into a menu, the details go."""
        if compact == self.compact:
            return
        self.compact = compact
        for widget in (self.image, self.meta):
            widget.setVisible(not compact)
        if compact:
            self.monitors.setVisible(False)
        margins = (10, 8, 10, 8) if compact else (14, 12, 14, 10)
        self.layout().setContentsMargins(*margins)
        self.open_button.setText("" if compact else "Open")  # its icon says it; the list is narrow
        policy = self.monitors.sizePolicy()
        policy.setRetainSizeWhenHidden(not compact)  # compact cards keep no room for the sparklines
        self.monitors.setSizePolicy(policy)
        self.show_badge(*self._badge_look)
        share = self.share_button
        if share is not None and compact:
            share.setVisible(False)  # in the menu instead
        self._place_tools()

    def _place_tools(self) -> None:
        shown = self._visible_tools
        for button in self.tools:
            button.setVisible(not self.compact and button in shown)
        show_part(self, "more_button", self.compact and bool(shown))

    def fill_more(self, menu: QMenu) -> None:
        """The compact card's More menu, as it opens: the tools it has now."""
        menu.clear()
        share = self.share_button
        if share is not None and self.session is not None and self.session.state in (State.RUNNING, State.SUSPENDED) \
                and not self.host_badge.platform:
            menu.addAction(share.text()).triggered.connect(share.click)
        for button in self._visible_tools:
            act = menu.addAction(button.icon(), button.accessibleName())
            act.setEnabled(button.isEnabled())
            act.setToolTip(button.toolTip())
            act.triggered.connect(button.click)

    def _show_details(self, failed: bool, reason: str) -> None:
        """A failure's whole reason is one click away (and selectable, to copy into a report)."""
        if not (failed or made(self, "details")):
            return
        self.details.setText(reason)
        self.details_button.setVisible(failed and bool(reason))
        if not failed:
            self.details_button.setChecked(False)
        self.details.setVisible(failed and self.details_button.isChecked())

    def toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.reason.setVisible(not shown)
        self.details_button.setText("Less" if shown else "Details")
        self.details_button.setAccessibleName("Hide the whole reason" if shown else "Show the whole reason")

    def mark_host(self, host: str, shown: bool, error: CanfarError | None, last_seen: datetime | None = None,
                  platform: bool = False) -> None:
        """Show which host runs this card's session, and apply (or lift) the look of a host that does not answer.

        Call it after show_session/show_pending. Every action needs the host's engine (even Delete),
        so they are disabled with a tooltip that says why, and come back when the host answers.
        """
        self.host_badge.show_host(host, shown or platform, error is not None, platform)
        if platform and self.files_button in self._visible_tools:  # a platform keeps its own storage
            self._visible_tools.remove(self.files_button)
            self._place_tools()
        self.host_unreachable = error is not None
        if self.property("hostUnreachable") != (error is not None):
            self.setProperty("hostUnreachable", error is not None)
            self.style().unpolish(self)
            self.style().polish(self)
        for label in (self.title, self.image, self.meta):
            label.setEnabled(error is None)
        if error is None or self.session is None:
            for button, tip in self._action_tips.items():
                button.setToolTip(tip)
            self.badge.setToolTip(self._badge_look[0] if self.compact else "")
            return
        s = self.session
        why = f"The host “{host}” is unreachable ({error.message}); this comes back when it answers"
        for button in self._action_tips:
            button.setEnabled(False)
            button.setToolTip(why)
        self.delete_button.setToolTip(f"Deleting needs the engine of “{host}”, which is unreachable now; "
                                      "the session is not lost")
        kind = s.kind if s.kind in KINDS else "contributed"
        self._kind_pixmap(kind, disabled=True)
        self.show_badge("Host unreachable", UNREACHABLE_COLOUR)
        self.badge.setAccessibleName("State: host unreachable")
        self.badge.setToolTip(f"{error.message}" + (f" — {error.hint}" if error.hint else ""))
        self.reason.setText(unreachable_reason(host, last_seen, s.state.value.lower()))
        restyle(self.reason, "color: #b7791f;")
        kind_title = KINDS[s.kind].title if s.kind in KINDS else s.kind
        self.setAccessibleName(f"{kind_title} session {s.name}, host {host} unreachable")

    def _kind_pixmap(self, kind: str, disabled: bool = False) -> None:
        """The kind's icon, drawn again only when the kind or its look changed (cards are shown often)."""
        icon = icons.icon(kind)  # the theme's: a new icon after the theme changed
        look = (disabled, icon.cacheKey())
        if look != self._icon_look:
            self._icon_look = look
            self.kind_icon.setPixmap(icon.pixmap(28, 28, QIcon.Mode.Disabled if disabled else QIcon.Mode.Normal))

    def _head(self, kind: str, name: str, state: State, reason: str) -> None:
        self._kind_pixmap(kind if kind in KINDS else "contributed")
        self.kind_icon.setToolTip(KINDS[kind].title if kind in KINDS else kind)
        self.title.setText(name or "(unnamed)")
        colour = STATE_COLOURS.get(state, "#718096")
        self.show_badge(state.value, colour)
        self.badge.setAccessibleName(f"State: {state.value}")
        # The reason line is always there (cards in a row keep one height); Running says it is ready.
        self.reason.setText(for_app(reason) or ("ready" if state == State.RUNNING else state.value.lower()))
        emphasis = colour if state in (State.FAILED, State.LAUNCHING) else ""
        restyle(self.reason, f"color: {emphasis or current_colours().muted};")

    @property
    def busy(self) -> bool:
        """A launch stage without a known fraction: the dashboard's slow pulse moves its bar."""
        return self._busy and made(self, "progress") and self.progress.isVisible()

    @property
    def busy_bar(self) -> bool:
        """A busy bar is up on this card, whether or not the card is on screen now (another tab may be)."""
        return self._busy and made(self, "progress") and not self.progress.isHidden()

    def pulse(self) -> None:
        """One step of the busy bar (a few a second, from the dashboard: not a repaint every frame)."""
        self.progress.setValue((self.progress.value() + PULSE_STEP) % 100)

    def show_badge(self, text: str, colour: str) -> None:
        """The state as a coloured label; on a compact card, a coloured dot that says it in its tooltip."""
        self._badge_look = (text, colour)
        if self.compact:
            self.badge.setText("")
            self.badge.setFixedSize(12, 12)
            restyle(self.badge, f"background: {colour}; border-radius: 6px; padding: 0;")
        else:
            self.badge.setText(text)
            self.badge.setMinimumSize(0, 0)
            self.badge.setMaximumSize(16777215, 16777215)
            restyle(self.badge, f"background: {colour};")
        if not self.host_unreachable:
            self.badge.setToolTip(text if self.compact else "")

    def _progress(self, fraction: float | None) -> None:
        self._busy = fraction is None
        if fraction is not None and made(self, "progress"):
            self.progress.setValue(int(fraction * 100))

    @property
    def state(self) -> State | None:
        if self.session is not None:
            return self.session.state
        if self.pending is not None:
            return State.FAILED if self.pending.error else State.LAUNCHING
        return None
