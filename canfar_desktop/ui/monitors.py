"""The app's one MonitorHub as Qt sees it: readings as a GUI-thread signal, paused while nobody can see.

Card sparklines (ui/sparklines.py) and the troubleshooting panel share the hub, so one stats stream
per session serves both. The hub's readers run on their own threads; `point` re-emits each reading
on the GUI thread. A minimised or hidden window pauses the hub (no stream at all) and says so
through `on_screen_changed`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from ..core.monitor import Key, MonitorHub, Point

LIVE_OWNER = "panel"  # the hub's owner whose sessions get a signal for every reading


class Monitors(QObject):
    """Owns the hub for the window's lifetime; `close` stops every stream and reader thread."""

    point = Signal(object, object)  # Key, Point (on the GUI thread)
    on_screen_changed = Signal(bool)  # the window is shown and not minimised

    def __init__(self, hub: MonitorHub, window: QWidget) -> None:
        super().__init__(window)
        self.hub = hub
        self.window = window
        self.on_screen = window.isVisible() and not window.isMinimized()
        hub.add_listener(self._post)
        window.installEventFilter(self)
        window.destroyed.connect(self.close)
        app = QGuiApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def close(self) -> None:
        """Stop every stream and stop listening: reader threads must not reach deleted Qt objects."""
        self.hub.remove_listener(self._post)
        self.hub.close()

    def _post(self, key: Key, point: Point) -> None:  # a reader thread
        # Only what follows every reading (the troubleshooting panel) wakes the GUI thread for each one;
        # the cards' sparklines read the hub's history on their own slower clock.
        if key not in self.hub.wanted(LIVE_OWNER):
            return
        try:
            self.point.emit(key, point)
        except RuntimeError:  # the window was deleted while a reader ran
            pass

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if watched is self.window and isinstance(event, QEvent):
            try:
                self._window_event(event.type())
            except RuntimeError:  # the window's C++ side is going away at shutdown
                pass
        return False

    def _window_event(self, kind: QEvent.Type) -> None:
        if kind in (QEvent.Type.Close, QEvent.Type.Hide):  # closed, or hidden to the tray
            self._set_on_screen(False)
        elif kind in (QEvent.Type.WindowStateChange, QEvent.Type.Show):
            self._set_on_screen(self.window.isVisible() and not self.window.isMinimized())

    def _set_on_screen(self, on_screen: bool) -> None:
        self.hub.pause(not on_screen)
        changed = on_screen != self.on_screen
        self.on_screen = on_screen
        if changed or on_screen:  # shown again: views re-check what they show (cards may have moved)
            self.on_screen_changed.emit(on_screen)
