"""The start's early path (ui/early_start.py): the session loop starts right after the skeleton's first
paint, the skeleton shows the real cards of its first listing, and the window built after it takes that
dashboard, its cards and the running loop over. A listing slower than the skeleton waits, a message from
a second start before the window exists, and an engine that does not answer each end in the window too."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from canfar_desktop.core.instance import socket_path
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.platform import unix_socket
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, HostConfig, save_settings
from canfar_desktop.ui.app import build_app, handle_message
from canfar_desktop.ui.card_parts import made
from canfar_desktop.ui.cards import SessionCard
from canfar_desktop.ui.early_start import EarlyStart, fill_skeleton
from canfar_desktop.ui.single_instance import InstanceServer
from canfar_desktop.ui.start import show_skeleton

from ..app_process import App
from ..helpers import wait_for


def running_sessions(service: SessionService, image: str, names: list[str]) -> dict[str, Any]:
    """Sessions launched by the core (as the CLI does), once each is Running: name → session."""
    for name in names:
        service.launch(service.prepare_launch("contributed", image, name))
    wait_for(lambda: {s.name: s.state for s in service.sessions()} == dict.fromkeys(names, State.RUNNING), 90,
             f"{names} Running")
    return {s.name: s for s in service.sessions()}


class Start:
    """An early start in this process, as run_app makes it: the skeleton, the early loop, then the window."""

    def __init__(self, qapp: Any, qtbot: Any, paths: AppPaths) -> None:
        self.qapp, self.qtbot, self.paths = qapp, qtbot, paths
        self.skeleton = show_skeleton(qapp)
        self.early = EarlyStart(paths)
        self.parts: Any = None
        self.server: Any = None

    def window(self) -> Any:
        """The window built after the skeleton was filled, in its place, handling the held messages."""
        self.parts = build_app(self.early.service, self.paths, self.early.warning, early=self.early)
        window = self.parts.window
        self.qtbot.addWidget(window)
        window.setGeometry(self.skeleton.geometry())
        window.show()
        self.skeleton.close()
        if self.early.socket is not None:  # as app.launch does
            self.server = InstanceServer(self.paths, lambda m: handle_message(window, m), window)
            assert self.server.adopt(self.early.socket)
        return window

    def close(self) -> None:
        if self.parts is not None:
            self.parts.window.close()  # stops the store, and with it the early watcher
            self.parts.api.stop()
            self.parts.runner.shutdown()
        else:
            self.early.watcher.stop()
        if self.server is not None:
            self.server.close()
        elif self.early.socket is not None:
            self.early.socket.close()
        self.skeleton.close()


@pytest.fixture
def early_start(qapp: Any, qtbot: Any, paths: AppPaths) -> Iterator[Callable[[], Start]]:
    made: list[Start] = []

    def begin() -> Start:
        made.append(Start(qapp, qtbot, paths))
        return made[-1]

    yield begin
    for start in made:
        start.close()


def test_the_skeleton_shows_the_real_cards_and_the_window_takes_them_over(
        early_start: Callable[[], Start], qtbot: Any, make_service: Callable[..., Any], paths: AppPaths,
        docker_engine: Any, session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)  # the start reads these, as the app does
    names = ["early-a", "early-b"]
    sessions = running_sessions(service, session_images["contributed"], names)
    start = early_start()
    assert fill_skeleton(start.qapp, start.skeleton, start.early), "the first listing came in time"
    dashboard = start.early.dashboard
    assert dashboard is not None and dashboard.window() is start.skeleton and dashboard.isVisible()
    assert dashboard.card_states() == dict.fromkeys(names, "Running")
    cards = dict(dashboard.cards)
    assert all(type(card) is SessionCard and card.isVisible() for card in cards.values()), "the dashboard's own cards"
    unshown = ("details", "warning", "progress", "details_button", "dismiss_button", "retry_button", "more_button")
    assert not [(c.session.name, n) for c in cards.values() for n in unshown if made(c, n)], \
        "a running session's card makes none of the parts it does not show"
    assert dashboard.grid.columns >= 2, "laid out at the skeleton's width"

    window = start.window()
    assert window.dashboard is dashboard and window.dashboard.cards == cards, "the same cards, not made again"
    qtbot.waitUntil(lambda: dashboard.isVisible() and all(c.isVisible() for c in cards.values()), timeout=5000)
    assert start.parts.store.loaded and sorted(s.name for s in start.parts.store.all()) == names, "the held listing"
    assert window.dashboard.card_states() == dict.fromkeys(names, "Running")

    # the cards are the window's now: a card's Troubleshoot button opens its panel on that session
    card = next(c for c in cards.values() if c.session is not None and c.session.name == "early-a")
    qtbot.mouseClick(card.troubleshoot_button, Qt.MouseButton.LeftButton)
    troubleshooting = start.parts.troubleshooting
    qtbot.waitUntil(lambda: troubleshooting.dock.isVisible(), timeout=5000)
    assert troubleshooting.panel.key == (card.session.host, card.session.id)

    # the loop started early keeps the window current: a session killed behind the app's back
    docker_engine.containers.get(sessions["early-b"].container_id).kill()
    qtbot.waitUntil(lambda: window.dashboard.card_states().get("early-b") not in (None, "Running"), timeout=30_000)


def test_a_first_listing_slower_than_the_skeleton_waits_reaches_the_window(
        early_start: Callable[[], Start], qtbot: Any, make_service: Callable[..., Any], paths: AppPaths,
        session_images: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    running_sessions(service, session_images["contributed"], ["listed-late"])
    answer = threading.Event()  # the engine answers the app's first listing only when the test says so
    real = SessionService.list_all

    def slow(self: SessionService, probe: bool = True) -> Any:
        answer.wait(30)
        return real(self, probe)

    monkeypatch.setattr(SessionService, "list_all", slow)
    start = early_start()
    assert not fill_skeleton(start.qapp, start.skeleton, start.early), "the skeleton does not wait for ever"
    assert start.early.dashboard is None
    window = start.window()
    assert window.dashboard.stack.currentWidget() is window.dashboard.loading and not start.parts.store.loaded
    answer.set()
    qtbot.waitUntil(lambda: window.dashboard.card_states() == {"listed-late": "Running"}, timeout=30_000)


def test_a_second_start_before_the_window_is_answered_once_the_window_is_there(
        early_start: Callable[[], Start], qtbot: Any, make_service: Callable[..., Any], paths: AppPaths,
        session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    start = early_start()
    start.early.listen()  # as run_app does, before the skeleton shows the cards
    assert start.early.socket is not None
    assert fill_skeleton(start.qapp, start.skeleton, start.early)
    message = {"launch": {"kind": "contributed", "image": session_images["contributed"], "name": "sent-early"}}
    with unix_socket() as second:  # a second start, while this one has no window yet: it connects and sends
        second.connect(str(socket_path(paths)))
        second.sendall(json.dumps(message).encode() + b"\n")
        window = start.window()
        second.setblocking(False)
        reply = bytearray()

        def answered() -> bool:
            try:
                reply.extend(second.recv(64))
            except BlockingIOError:
                pass
            return b"\n" in reply

        qtbot.waitUntil(answered, timeout=15_000)
    assert reply == b"ok\n", "a second start hands over rather than opening a second app"
    qtbot.waitUntil(lambda: window.dashboard.card_states().get("sent-early") == "Running", timeout=60_000)


def test_with_no_engine_the_skeleton_says_so_and_the_window_shows_the_banner(
        early_start: Callable[[], Start], qtbot: Any, make_service: Callable[..., Any], paths: AppPaths,
        tmp_path: Path) -> None:
    service = make_service(hosts=[HostConfig(name="local", url=f"unix://{tmp_path / 'engine.sock'}")])
    save_settings(paths, service.settings)  # nothing listens at that socket
    start = early_start()
    assert fill_skeleton(start.qapp, start.skeleton, start.early), "a failed listing is an answer too"
    dashboard = start.early.dashboard
    assert dashboard is not None and dashboard.stack.currentWidget() is dashboard.unavailable
    window = start.window()
    qtbot.waitUntil(window.banner.isVisible, timeout=15_000)  # the held listing's failure reached the window
    assert "local" in window.banner.title.text()
    assert window.dashboard is dashboard and dashboard.stack.currentWidget() is dashboard.unavailable


def test_the_app_shows_its_sessions_cards_before_the_window_and_the_window_the_same(
        make_service: Callable[..., Any], paths: AppPaths, app_home: Path, session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    names = ["seen-first-a", "seen-first-b", "seen-first-c"]
    running_sessions(service, session_images["contributed"], names)
    app = App(app_home, observed=True, platform="")  # the app's own entry point, on the tests' display
    try:
        wait_for(lambda: app.reports("window"), 60, f"the app's window: {app.output()}")
        lines = list(app.lines)
        [window] = app.reports("window")
        first = next(i for i, line in enumerate(lines) if line.startswith("canfar-timing sessions "))
        painted = next(i for i, line in enumerate(lines) if line.startswith("canfar-timing paint "))
        reported = next(i for i, line in enumerate(lines) if line.startswith("canfar-test ") and '"window"' in line)
        assert painted < first < reported, "the skeleton painted, then showed the cards, then the window came"
        assert lines[first].split(" ", 3)[3] == '{"seen-first-a": "Running", "seen-first-b": "Running", ' \
                                                '"seen-first-c": "Running"}', lines[first]
        assert window["visible"] and window["cards"] == dict.fromkeys(names, "Running"), window
    finally:
        app.stop(signal.SIGKILL)
