"""The desktop app's composition root: settings, service, store, window, single instance, event loop.

Single-instance messages handled here: {"raise": true}, {"open": ID, "host": H} and
{"launch": {"kind", "image", "name", "host"}} (start_launch). CANFAR_DESKTOP_TIMING=1 prints
`canfar-timing …` markers on stdout for benchmarks/bench_app.py.

QtWebEngine is not imported here: the window loads it when the first session tab opens (the
self-test loads it on purpose, to prove the packaged app can render a page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import traceback
from types import TracebackType
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from ..core.instance import send_to_running_app
from ..core.service import SessionService
from ..core.settings import AppPaths, load_settings
from . import theme, troubleshooting
from .notifications import Notifier
from .single_instance import InstanceServer
from .store import SessionStore
from .tasks import Tasks
from .tray import TrayController
from .window import MainWindow

log = logging.getLogger(__name__)
SELF_TEST_DEADLINE_MS = 60_000


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
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")  # Chromium refuses root with its sandbox
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


def build_window(service: SessionService, paths: AppPaths, settings_warning: str | None = None,
                 start: bool = True) -> MainWindow:
    """Everything below the event loop, shared by run_app and the GUI tests."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "create the QApplication first"
    theme.apply(app, service.settings.theme)
    hints = app.styleHints()
    hints.colorSchemeChanged.connect(
        lambda _s: service.settings.theme == "system" and theme.apply(app, "system"))
    tasks = Tasks()
    store = SessionStore(service, tasks)
    window = MainWindow(service, paths, tasks, store)
    tasks.setParent(window)
    store.setParent(window)
    window.destroyed.connect(tasks.shutdown)
    troubleshooting.install(window)  # the troubleshooting dock and the cards' live monitors
    window.notifier = Notifier(window)  # type: ignore[attr-defined]  # ready/failed/expiry notices
    if settings_warning:
        window.messages.show_message("Settings were reset", settings_warning, "warning", timeout_ms=0)
    if start:
        store.start()
    return window


def attach_tray(window: MainWindow, quit_app: Any = None, available: bool | None = None) -> TrayController:
    """The tray icon and its menu; with a tray, the app lives on when its window is closed to it."""
    tray = TrayController(window, quit_app, available)
    window.notifier.notice.connect(tray.show_notice)  # type: ignore[attr-defined]
    window.tray = tray  # type: ignore[attr-defined]
    app = QApplication.instance()
    if tray.available and isinstance(app, QApplication):
        app.setQuitOnLastWindowClosed(False)  # the tray's Quit (or a real close) ends the app
    return tray


def install_excepthook(window: MainWindow) -> None:
    """An unexpected error becomes a message in the window, never a crash or a modal traceback."""
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unhandled error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        try:
            window.messages.show_message(f"Unexpected error: {kind.__name__}: {value}",
                                         "the app keeps running; if this repeats, report it with the log",
                                         "error", timeout_ms=20000)
        except RuntimeError:
            pass

    sys.excepthook = hook


def handle_message(window: MainWindow, message: dict[str, Any]) -> None:
    if message.get("raise"):
        window.show_and_raise()
    launch = message.get("launch")
    if isinstance(launch, dict):
        start_launch(window, launch)
    session_id = message.get("open")
    if isinstance(session_id, str) and session_id:
        window.show_and_raise()
        host = message.get("host")
        window.open_session(session_id, host if isinstance(host, str) and host else None)


def start_launch(window: MainWindow, spec: dict[str, Any]) -> None:
    """{"launch": {"kind": …, "image": …, "name": …, "host": …}}: a launch through the window's own path.

    Checked exactly as the launch dialog checks it (a bad request shows its message in the window);
    scripts, the tray of another process and the fault tests use it. Image and host are optional.
    """
    service = window.service
    kind, image, name = (str(spec.get(k) or "") for k in ("kind", "image", "name"))
    host = str(spec.get("host") or service.settings.default_host)

    window.tasks.run(service.prepare_launch, kind, image or None, name or None, host=host,
                     on_done=lambda req: window.launch(req, host), on_error=window.report)


class _Timing(QObject):
    """CANFAR_DESKTOP_TIMING=1: print wall-clock markers the benchmarks read (first paint, each dashboard)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.painted = False
        print(f"canfar-timing start {time.time():.4f}", flush=True)
        window.installEventFilter(self)
        window.store.changed.connect(self.sessions)  # after the window's own slot: the cards are current

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            print(f"canfar-timing paint {time.time():.4f}", flush=True)
        return False

    def sessions(self) -> None:
        states = {c.session.name: c.state.value for c in self.window.dashboard.cards.values()
                  if c.session is not None and c.state is not None}
        print(f"canfar-timing sessions {time.time():.4f} {json.dumps(states, sort_keys=True)}", flush=True)


def self_test(window: MainWindow) -> int:
    """Open one embedded page offscreen or under X and report whether it rendered."""
    from PySide6.QtWebEngineWidgets import QWebEngineView

    app = QApplication.instance()
    assert app is not None
    result = {"code": 1}
    view = QWebEngineView()
    window.tabs.addTab(view, "self-test")
    window.tabs.setVisible(True)

    def loaded(ok: bool) -> None:
        if ok and view.title() == "canfar-self-test":
            print("self-test ok", flush=True)
            result["code"] = 0
        else:
            print(f"self-test failed: page loaded={ok} title={view.title()!r}", file=sys.stderr, flush=True)
        app.quit()

    def timeout() -> None:
        print("self-test failed: the page did not load in time", file=sys.stderr, flush=True)
        app.quit()

    view.loadFinished.connect(loaded)
    QTimer.singleShot(SELF_TEST_DEADLINE_MS, timeout)
    view.setHtml("<html><head><title>canfar-self-test</title></head><body><h1>CANFAR Desktop</h1></body></html>")
    app.exec()
    window.close()
    return result["code"]


def run_app(args: list[str]) -> int:
    opts = parse_args(args)
    if opts.version:
        print(f"canfar-desktop {__version__}")
        return 0
    logging.basicConfig(level=logging.INFO if os.environ.get("CANFAR_DESKTOP_DEBUG") else logging.WARNING)
    paths = AppPaths.default()
    # A second start raises the running window (a login-time start with --minimized leaves it be).
    if not opts.self_test and send_to_running_app(paths, {"ping": True} if opts.minimized else {"raise": True}):
        return 0
    app = prepare_qt()
    settings, warning = load_settings(paths)
    service = SessionService(settings, paths)
    window = build_window(service, paths, warning, start=not opts.self_test)
    install_excepthook(window)
    if os.environ.get("CANFAR_DESKTOP_TIMING"):
        window._timing = _Timing(window)  # type: ignore[attr-defined]
    if opts.self_test:
        window.show()
        return self_test(window)
    server = InstanceServer(paths, lambda m: handle_message(window, m), window)
    server.listen()
    tray = attach_tray(window)
    if opts.minimized or settings.start_minimized:
        if not tray.available:
            window.showMinimized()  # no tray to live in: a minimised window stays reachable
    else:
        window.show()

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    quitting = asyncio.Event()
    app.aboutToQuit.connect(quitting.set)
    if not tray.available:
        app.lastWindowClosed.connect(app.quit)
    with loop:
        loop.run_until_complete(quitting.wait())
    server.close()
    service.close()  # the local forwards to sessions on remote hosts (the sessions keep running)
    return 0
