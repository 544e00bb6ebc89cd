"""The app runs the broker that starts desktops' applications (core/app_broker.py) while it is open.

Each time the sessions change, the broker is told which desktops run; it follows them on threads of
its own, so nothing here blocks the window. What it did is shown in the window's message bar.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.app_broker import AppBroker
from ..core.service import SessionService
from .messages import MessageBar
from .store import SessionStore


class DesktopAppsBridge(QObject):
    """Feeds the store's sessions to the broker; its notices reach the window on the GUI thread."""

    notice = Signal(str, str)  # text, desktop session id

    def __init__(self, service: SessionService, store: SessionStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.broker = AppBroker(service, notice=self._relay)
        store.changed.connect(self.sync)
        self.destroyed.connect(self.broker.close)

    def _relay(self, text: str, desktop_id: str) -> None:
        try:
            self.notice.emit(text, desktop_id)
        except RuntimeError:  # the window went while a launch finished
            pass

    def sync(self) -> None:
        self.broker.sync(self.store.all())

    def images_changed(self, host: str) -> None:
        self.broker.images_changed(host)

    def close(self) -> None:
        self.broker.close()


def install(service: SessionService, store: SessionStore, messages: MessageBar, window: QObject) -> DesktopAppsBridge:
    """The broker for this window's lifetime; its notices appear in the window's message bar."""
    bridge = DesktopAppsBridge(service, store, window)
    bridge.notice.connect(lambda text, _sid: messages.show_message(
        text, "", "error" if text.startswith("Could not") else "info"))
    window.destroyed.connect(bridge.close)
    return bridge
