"""The session loop started before the window: the first listing runs while the window loads.

start.py makes an `EarlyStart` right after the skeleton's first paint: the settings, the service and
its Watcher (core/watch.py), whose reports a Relay holds. The watcher lists on its own thread while
this one loads the dashboard; `fill_skeleton` then shows, in the skeleton, the dashboard with the real
cards of that first listing. The window built after it (app.build_app) takes that dashboard, the
watcher and its relay over, so nothing is listed or drawn twice and no report is lost.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QMainWindow, QVBoxLayout, QWidget

from ..core.instance import listen_early
from ..core.listing import newest_first
from ..core.service import SessionService
from ..core.settings import AppPaths, load_settings
from ..core.watch import Relay, Watcher

if TYPE_CHECKING:
    import socket

    from .dashboard import Dashboard

# How long the skeleton waits for the first listing once the dashboard has loaded (a local engine
# answers in tens of milliseconds). A slower one (a remote host, a busy machine): the window comes
# first, with "Looking for sessions…", and the cards follow in it.
FIRST_LISTING_WAIT_S = 0.5
WAIT_SLICE_S = 0.03  # the skeleton keeps answering the window system while it waits
BANNER_ROW_PX = 4  # above the dashboard in the window (window.py's banner box): the cards do not move


class EarlyStart:
    """The settings, the service and its running watcher, made before the window (see the module notes)."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        self.settings, self.warning = load_settings(paths)
        self.service = SessionService(self.settings, paths)
        self.relay = Relay()
        self.watcher = Watcher(self.service, self.relay)
        self.watcher.start()  # lists at once, on its own thread
        self.themed = False  # the theme is applied (by fill_skeleton)
        self.dashboard: Dashboard | None = None  # the skeleton's dashboard, filled: the window takes it
        self.socket: socket.socket | None = None  # the single-instance socket, for the window's server

    def listen(self) -> None:
        """Bind the single-instance socket before the cards show: once a person sees them, a second start
        or `canfar-desktop open` reaches this app, and is answered once the window is there."""
        self.socket = listen_early(self.paths)


def fill_skeleton(app: QApplication, skeleton: QMainWindow, early: EarlyStart) -> bool:
    """Replace the skeleton's placeholders with the dashboard of the first listing; whether it came in time.

    The dashboard loads while the watcher lists; then the wait for that listing is bounded. The
    `sessions` timing marker is printed once the cards are painted."""
    from . import theme
    from .dashboard import Dashboard
    from .start import Painted

    deadline = time.monotonic() + FIRST_LISTING_WAIT_S
    while not early.relay.first.wait(WAIT_SLICE_S) and time.monotonic() < deadline:
        app.processEvents()
    snap = early.relay.first_snapshot
    if snap is None:
        return False
    theme.apply(app, early.settings.theme)
    early.themed = True
    _chrome(skeleton)
    dashboard = early.dashboard = Dashboard()
    painted = Painted(dashboard)
    body = QWidget()
    column = QVBoxLayout(body)
    column.setContentsMargins(0, BANNER_ROW_PX, 0, 0)  # the window's (empty) banner row above its dashboard
    column.addWidget(dashboard)
    skeleton.setCentralWidget(body)
    body.show()  # now, not when the loop would: laid out at its width, the cards are placed once
    layout = skeleton.layout()
    if layout is not None:
        layout.activate()
    column.activate()
    dashboard.show_listing(early.service, newest_first(snap.sessions), snap.errors, loaded=True)
    painted.wait(app)
    painted.deleteLater()
    if os.environ.get("CANFAR_DESKTOP_TIMING"):
        states = json.dumps(dashboard.card_states(), sort_keys=True)
        print(f"canfar-timing sessions {time.time():.4f} {states}", flush=True)
    return True


def _chrome(skeleton: QMainWindow) -> None:
    """The window's menu bar and toolbar, inert: the cards stay where the window then shows them."""
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtWidgets import QToolBar

    from . import icons

    for title in ("&File", "&View", "&Help"):
        skeleton.menuBar().addMenu(title)
    toolbar = QToolBar("Main")
    toolbar.setMovable(False)
    toolbar.setIconSize(QSize(20, 20))
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for text, icon in (("New session", "add"), ("Refresh", "refresh"), ("Settings", "settings")):
        toolbar.addAction(icons.icon(icon), text)
    skeleton.addToolBar(toolbar)
