"""Session notices in the app: ready, failed, expiring soon (with Renew), expired, out of memory.

What to say and when comes from `core.notify.due_notices` (the CLI's `ps` uses the same rules);
this module only feeds it the store's sessions, on every change and on a timer so that time-based
warnings fire even when the engine is quiet, and shows each notice in the window's message bar.
The tray (when there is one) listens to `notice` and shows it as a desktop notification too.
Every notice is about one session (`about`): the window takes it away when that session goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.lifecycle import State
from ..core.notify import Notice, due_notices
from ..core.service import SessionService
from ..core.session import Session
from .messages import MessageBar, Toast
from .store import SessionStore

log = logging.getLogger(__name__)

CHECK_MS = 20_000  # time-based warnings are at most this late when nothing else changes


class Notifier(QObject):
    """Turns the store's session updates into notices, each given once."""

    notice = Signal(object)  # core.notify.Notice

    def __init__(self, store: SessionStore, service: SessionService, messages: MessageBar,
                 renew: Callable[[Session], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.service = service
        self.messages = messages
        self.renew_session = renew  # the card's own Renew (service.renew on a worker, then a message)
        self.previous: dict[str, State] = {}
        self.given: set[str] = set()
        self.history: list[Notice] = []
        self._toasts: dict[str, Toast] = {}  # "host/id" -> the session's current expiry toast
        self.store.changed.connect(self.check)
        self.timer = QTimer(self, interval=CHECK_MS, timeout=self.check)
        self.timer.start()

    def check(self) -> list[Notice]:
        """Give the notices that are due now; returns them (tests and the tray read them)."""
        if not self.store.loaded:
            return []
        service = self.service
        fresh = due_notices(self.previous, self.store.all(), service.clock(), service.settings.warn_before_minutes,
                            self.given)
        for n in fresh:
            self.history.append(n)
            self._show(n)
            self.notice.emit(n)
        self._drop_stale_toasts()
        return fresh

    def _show(self, n: Notice) -> None:
        key = f"{n.host}/{n.session_id}"
        old = self._toasts.pop(key, None) if n.can_renew else None
        if old is not None:
            self.messages.dismiss(old)  # the 10-minute warning replaces the 1-hour one, expired both
        actions = [("Renew", lambda: self.renew(n))] if n.can_renew else []
        # Expiry notices wait for the person: losing work is what they prevent.
        timeout = 0 if n.can_renew else None
        toast = self.messages.show_message(n.title, n.message, n.level, timeout_ms=timeout, actions=actions,
                                           about=key)
        if n.can_renew:
            self._toasts[key] = toast

    def renew(self, n: Notice) -> None:
        """The notice's Renew button: the same renew as the card's."""
        s = self.store.find(n.session_id, n.host)
        if s is None:
            self.messages.show_message(f"{n.session_id} is gone", "it was deleted meanwhile", "info")
            return
        self.renew_session(s)

    def _drop_stale_toasts(self) -> None:
        """An expiry toast goes once its session is renewed past the warnings (or deleted: see the window)."""
        limit = max(self.service.settings.warn_before_minutes, default=0) * 60
        now = self.service.clock()
        for key, toast in list(self._toasts.items()):
            host, _, sid = key.partition("/")
            s = self.store.find(sid, host)
            left = s.time_left(now) if s is not None else None
            renewed = s is not None and s.state != State.EXPIRED and left is not None and left > limit
            if s is None or renewed:
                del self._toasts[key]
                self.messages.dismiss(toast)
