"""Starting the desktop app: a window on screen at once, everything else loaded behind it.

Only Qt's widgets and two small core modules (where the app's files are, and the single-instance
socket) are imported before the first paint: the window's skeleton (the dashboard's frame with
placeholder cards) is shown. Then the core loads and the session loop starts, its first listing
running on its own thread while the dashboard loads (ui/early_start.py); the skeleton shows the real
cards of that listing, and only then the rest of the window loads (`app.launch`) and takes the
skeleton's place with the same dashboard.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from .. import __version__
from ..core.platform import is_root

FIRST_PAINT_WAIT_MS = 2000
# CARTA draws with WebGL2, which Chromium's GPU blocklist refuses on many Linux drivers and on
# software GL (Xvfb, remote desktops, virtual machines): the app asks for it anyway, and composites
# pages in software, so that a GPU the blocklist would have kept out never has to show the page itself
# (with GPU compositing on such drivers a tab stays blank).
CHROMIUM_FLAGS = ("--ignore-gpu-blocklist", "--disable-gpu-compositing")
PLACEHOLDER_CARDS = 3


def parse_args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="canfar-desktop", description="CANFAR Desktop: interactive sessions")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--minimized", action="store_true", help="start with the window minimized")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window and an embedded page, print 'self-test ok' and exit")
    known, _qt_args = parser.parse_known_args(args)
    return known


def prepare_qt() -> QApplication:
    """The QApplication, configured as QtWebEngine needs before it exists."""
    if is_root():
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")  # Chromium refuses root with its sandbox
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "").split()
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(flags + [f for f in CHROMIUM_FLAGS if f not in flags])
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication([sys.argv[0] if sys.argv else "canfar-desktop"])
    app.setApplicationName("canfar-desktop")
    app.setApplicationDisplayName("CANFAR Desktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("net.canfar.Desktop")  # matches the installed .desktop file
    return app


class Painted(QObject):
    """Notes a widget's first paint (and prints the marker named `marker` with CANFAR_DESKTOP_TIMING=1)."""

    def __init__(self, widget: QWidget, marker: str = "") -> None:
        super().__init__(widget)
        self.painted = False
        self.marker = marker
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            if self.marker and os.environ.get("CANFAR_DESKTOP_TIMING"):
                print(f"canfar-timing {self.marker} {time.time():.4f}", flush=True)
        return False

    def wait(self, app: QApplication, limit_ms: int = FIRST_PAINT_WAIT_MS) -> bool:
        """Let Qt paint (bounded wait); whether the widget was painted."""
        clock = QElapsedTimer()
        clock.start()
        while not self.painted and clock.elapsed() < limit_ms:
            app.processEvents()
        return self.painted


class Skeleton(QMainWindow):
    """The dashboard's frame with placeholder cards, shown while the rest of the app loads."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("CANFAR Desktop")
        self.setAccessibleName("CANFAR Desktop is starting")
        self.resize(1280, 820)
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(16, 16, 16, 16)
        column.setSpacing(12)
        title = QLabel("Sessions")
        title.setStyleSheet("font-size: 18px; font-weight: 600;")
        column.addWidget(title)
        for _ in range(PLACEHOLDER_CARDS):
            card = QFrame()
            card.setFixedHeight(112)
            card.setStyleSheet("QFrame { background: palette(alternate-base); border-radius: 8px; }")
            column.addWidget(card)
        status = QLabel("Reading your sessions…")
        status.setStyleSheet("color: palette(placeholder-text);")
        column.addWidget(status)
        column.addStretch(1)
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        panel.setFixedWidth(430)
        row.addWidget(panel)
        row.addStretch(1)
        self.setCentralWidget(body)


def show_skeleton(app: QApplication) -> Skeleton:
    """Show the skeleton and let Qt paint it before anything else loads (bounded wait)."""
    skeleton = Skeleton()
    painted = Painted(skeleton, "paint")
    skeleton.show()
    painted.wait(app)
    painted.deleteLater()
    return skeleton


def run_app(args: list[str]) -> int:
    opts = parse_args(args)
    if opts.version:
        print(f"canfar-desktop {__version__}")
        return 0
    logging.basicConfig(level=logging.INFO if os.environ.get("CANFAR_DESKTOP_DEBUG") else logging.WARNING)
    from ..core.instance import send_to_running_app
    from ..core.paths import AppPaths

    paths = AppPaths.default()
    # A second start raises the running window (a login-time start with --minimized leaves it be).
    if not opts.self_test and send_to_running_app(paths, {"ping": True} if opts.minimized else {"raise": True}):
        return 0
    app = prepare_qt()
    skeleton = None if opts.minimized or opts.self_test else show_skeleton(app)
    early = None
    if not opts.self_test:  # the self-test lists nothing
        from .early_start import EarlyStart, fill_skeleton

        early = EarlyStart(paths)  # the core, and the session loop's first listing on its own thread
        early.listen()  # a second start hands over to this one from now on
        if skeleton is not None:
            fill_skeleton(app, skeleton, early)  # the real cards of that listing, before the rest loads
    from .app import launch  # the rest of the window and the event loop: loaded behind the skeleton

    return launch(app, opts, paths, skeleton, early)
