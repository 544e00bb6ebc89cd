"""The desktop app's composition root: settings, service, event loop, runner, store, window and the
parts beside it (troubleshooting, notices, tray), single instance.

Every part gets what it needs here, as constructor arguments (`build_app` returns them as an `App`).
One qasync loop drives Qt and asyncio together; blocking work runs through the one `Runner`.
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
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from ..core.monitor import MonitorHub
from ..core.record import record
from ..core.service import SessionService
from ..core.settings import AppPaths, load_settings
from . import theme
from .api_settings import ApiController, serve_if_enabled
from .catalogue_dialog import install as install_catalogue
from .desktop_apps import DesktopAppsBridge
from .desktop_apps import install as install_desktop_apps
from .monitors import Monitors
from .notifications import Notifier
from .profiles import prune_profiles
from .single_instance import InstanceServer
from .store import SessionStore
from .tasks import Runner
from .troubleshooting_dock import Troubleshooting
from .window import MainWindow

if TYPE_CHECKING:
    from .early_start import EarlyStart
    from .tray import TrayController

log = logging.getLogger(__name__)
SELF_TEST_DEADLINE_MS = 60_000


def install_event_loop(app: QApplication, running: bool = False) -> asyncio.AbstractEventLoop:
    """The qasync loop that drives Qt and asyncio together, set as the current event loop.

    run_app runs it; code that spins Qt itself (the GUI tests, benchmarks) asks for it `running`,
    so asyncio tasks progress whenever Qt processes events.
    """
    import qasync

    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app, already_running=running)
    asyncio.set_event_loop(loop)
    return loop


@record(frozen=False)
class App:
    """What build_app composed: the window and the parts beside it, each given what it needs."""

    service: SessionService
    runner: Runner
    store: SessionStore
    window: MainWindow
    monitors: Monitors
    troubleshooting: Troubleshooting
    notifier: Notifier
    api: ApiController
    desktop_apps: DesktopAppsBridge
    tray: TrayController | None = None


def build_app(service: SessionService, paths: AppPaths, settings_warning: str | None = None,
              start: bool = True, early: EarlyStart | None = None) -> App:
    """Everything below the event loop (which must be set already), shared by run_app and the GUI tests.

    `early`: the session loop started before the window, and the dashboard the skeleton showed (run_app)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "create the QApplication first"
    if early is None or not early.themed:
        theme.apply(app, service.settings.theme)
    hints = app.styleHints()
    hints.colorSchemeChanged.connect(
        lambda _s: service.settings.theme == "system" and theme.apply(app, "system"))
    runner = Runner()
    store = SessionStore(service, runner, early=(early.watcher, early.relay) if early else None)
    api = ApiController(service, paths)  # the CANFAR API in the background, when the setting is on
    window = MainWindow(service, paths, runner, store, api, early.dashboard if early else None)
    store.setParent(window)
    api.setParent(window)
    window.destroyed.connect(runner.shutdown)
    monitors = Monitors(MonitorHub(service), window)  # one stats stream per session, paused when unseen
    window.dashboard.show_monitors(monitors)
    monitors.on_screen_changed.connect(store.set_on_screen)  # minimised or in the tray: list less often
    store.set_on_screen(monitors.on_screen)  # a start minimised or to the tray says nothing more
    ts = Troubleshooting(service, runner, store, monitors, window.troubleshooting_dock)
    window.troubleshoot_requested.connect(ts.show_session)
    window.session_area.current_changed.connect(ts.follow)  # F12 shows the tab in front
    notifier = Notifier(store, service, window.messages, window.renew, window)  # ready/failed/expiry notices
    desktop_apps = install_desktop_apps(service, store, window.messages, window)  # desktops' Astro Software menus
    install_catalogue(window, service, runner)  # File › Images…: the image catalogue
    if settings_warning:
        window.messages.show_message("Settings were reset", settings_warning, "warning", timeout_ms=0)
    prune_profiles_once(store, paths)
    if start:
        store.start()
    return App(service, runner, store, window, monitors, ts, notifier, api, desktop_apps)


def prune_profiles_once(store: SessionStore, paths: AppPaths) -> None:
    """At start, once every host has listed: the browser profiles of sessions deleted while the app was
    closed go (at start no tab is open, so no profile is in use)."""
    def first_listing() -> None:
        if not store.loaded:
            return
        store.changed.disconnect(first_listing)
        if not store.unreachable:
            prune_profiles(paths.profiles_dir, [sid for _host, sid in store.sessions])

    store.changed.connect(first_listing)


def attach_tray(parts: App, quit_app: Any = None, available: bool | None = None) -> TrayController:
    """The tray icon and its menu; with a tray, the app lives on when its window is closed to it."""
    from .tray import TrayController  # after the window is on screen

    w = parts.window
    tray = TrayController(w, parts.store, parts.service, parts.runner, w.launches, quit_app, available)
    parts.notifier.notice.connect(tray.show_notice)
    parts.tray = tray
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
    kind, image, name, host = (str(spec.get(k) or "") for k in ("kind", "image", "name", "host"))
    window.launches.start(kind, image or None, name or None, host=host or None)


class _Timing(QObject):
    """CANFAR_DESKTOP_TIMING=1: print wall-clock markers the benchmarks read (first paint, each dashboard)."""

    def __init__(self, window: MainWindow, store: SessionStore, painted: bool = False) -> None:
        super().__init__(window)
        self.window = window
        self.painted = painted  # the skeleton (start.py) printed the first paint
        window.installEventFilter(self)
        store.changed.connect(self.sessions)  # after the window's own slot: the cards are current
        if store.loaded:  # an early start's listing, applied as the window was built (ui/early_start.py)
            self.sessions()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            print(f"canfar-timing paint {time.time():.4f}", flush=True)
        return False

    def sessions(self) -> None:
        states = self.window.dashboard.card_states()
        print(f"canfar-timing sessions {time.time():.4f} {json.dumps(states, sort_keys=True)}", flush=True)


def self_test(window: MainWindow, loop: asyncio.AbstractEventLoop) -> int:
    """Open one embedded page offscreen or under X and report whether it rendered."""
    from PySide6.QtWebEngineWidgets import QWebEngineView

    outcome: asyncio.Future[int] = loop.create_future()
    view = QWebEngineView()
    window.tabs.addTab(view, "self-test")
    window.tabs.setVisible(True)

    def loaded(ok: bool) -> None:
        if ok and view.title() == "canfar-self-test":
            print("self-test ok", flush=True)
        else:
            print(f"self-test failed: page loaded={ok} title={view.title()!r}", file=sys.stderr, flush=True)
        if not outcome.done():
            outcome.set_result(0 if ok and view.title() == "canfar-self-test" else 1)

    def timeout() -> None:
        if not outcome.done():
            print("self-test failed: the page did not load in time", file=sys.stderr, flush=True)
            outcome.set_result(1)

    view.loadFinished.connect(loaded)
    QTimer.singleShot(SELF_TEST_DEADLINE_MS, timeout)
    view.setHtml("<html><head><title>canfar-self-test</title></head><body><h1>CANFAR Desktop</h1></body></html>")
    try:
        code = loop.run_until_complete(outcome)
    finally:
        loop.close()
    window.close()
    return code


def launch(app: QApplication, opts: argparse.Namespace, paths: AppPaths, skeleton: QMainWindow | None,
           early: EarlyStart | None = None) -> int:
    """Everything after the first paint (start.run_app): the app's parts and the loop; with `early`, the
    settings, service and session loop made already, and the dashboard the skeleton shows.

    The real window takes the skeleton's place, geometry and dashboard; the session loop keeps it current."""
    loop = install_event_loop(app)
    if early is not None:
        settings, warning, service = early.settings, early.warning, early.service
    else:
        settings, warning = load_settings(paths)
        service = SessionService(settings, paths)
    parts = build_app(service, paths, warning, start=not opts.self_test, early=early)
    window = parts.window
    install_excepthook(window)
    if os.environ.get("CANFAR_DESKTOP_TIMING"):
        _Timing(window, parts.store, painted=skeleton is not None)  # a child of the window: lives as long as it
    if opts.self_test:
        window.show()
        return self_test(window, loop)
    server = InstanceServer(paths, lambda m: handle_message(window, m), window)
    bound = early.socket if early is not None else None  # bound before the skeleton showed the cards
    if bound is None or not server.adopt(bound):
        server.listen()
    serve_if_enabled(parts.api, settings, window.messages)
    tray = attach_tray(parts)
    if opts.minimized or settings.start_minimized:
        if not tray.available:
            window.showMinimized()  # no tray to live in: a minimised window stays reachable
    else:
        if skeleton is not None:
            window.setGeometry(skeleton.geometry())
        window.show()
    if skeleton is not None:
        skeleton.close()
        skeleton.deleteLater()

    quitting = asyncio.Event()
    app.aboutToQuit.connect(quitting.set)
    if not tray.available:
        app.lastWindowClosed.connect(app.quit)
    try:
        loop.run_until_complete(quitting.wait())
        parts.runner.shutdown()
        app.processEvents()  # the cancelled tasks end (their workers finish the call they are in)
    finally:
        loop.close()
    server.close()
    parts.api.stop()
    service.close()  # the local forwards to sessions on remote hosts (the sessions keep running)
    return 0
