"""GUI fixtures: the real QApplication (set up as the app does), windows built by the app's own code.

The app's qasync loop is installed for the whole session and marked running, as it is while the
app runs: asyncio tasks (the app's background work) progress whenever qtbot lets Qt process events.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import AppPaths

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


@pytest.fixture(scope="session")
def qapp() -> Any:
    """The QApplication made exactly as run_app makes it (QtWebEngine's attributes included)."""
    from canfar_desktop.ui.start import prepare_qt

    return prepare_qt()


@pytest.fixture(scope="session")
def app_event_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The app's event loop (qasync over the QApplication), made once for the session."""
    from canfar_desktop.ui.app import install_event_loop

    loop = install_event_loop(qapp, running=True)
    asyncio._set_running_loop(None)  # running only while a GUI test runs (qt_drives_asyncio)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    qapp.processEvents()  # the cancelled tasks end
    loop.stop()
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def qt_drives_asyncio(app_event_loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """While a GUI test runs, the app's loop is the current and running loop, as in the app, so
    asyncio tasks progress whenever qtbot lets Qt process events. Tests outside tests/gui see none."""
    asyncio.set_event_loop(app_event_loop)
    asyncio._set_running_loop(app_event_loop)
    yield
    asyncio._set_running_loop(None)


@pytest.fixture
def make_app(qtbot: Any, make_service: Callable[..., Any], paths: AppPaths) -> Iterator[Callable[..., Any]]:
    """The app composed by app.build_app around a test service (own user, cleaned up); returns its parts."""
    from canfar_desktop.ui.app import build_app

    made: list[Any] = []

    def factory(**settings: Any) -> Any:
        service = make_service(**settings)
        parts = build_app(service, paths)
        window = parts.window
        qtbot.addWidget(window)
        window.resize(1400, 880)
        window.show()
        qtbot.waitExposed(window)
        made.append(parts)
        return parts

    yield factory
    for parts in made:
        try:
            parts.window.session_area.discard_all()  # no page is asked about unsaved work at teardown
            parts.window.close()
        except RuntimeError:  # already deleted with the test's widgets
            pass
        parts.api.stop()  # a background API a test turned on stops with its app
        parts.runner.shutdown()  # nothing of this test's work lands in the next one


@pytest.fixture
def make_window(make_app: Callable[..., Any]) -> Callable[..., Any]:
    """A main window composed by app.build_app (the parts beside it: use make_app)."""
    return lambda **settings: make_app(**settings).window


def screenshot(widget: Any, name: str, qtbot: Any = None, settle_ms: int = 0) -> Path:
    """Save a picture of `widget`; web views need `settle_ms` for the compositor to present their frame."""
    from PySide6.QtWidgets import QApplication

    if qtbot is not None and settle_ms:
        qtbot.wait(settle_ms)  # not synchronisation: the page is checked already, this lets it be painted
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


def card_named(window: Any, name: str) -> Any:
    for card in window.dashboard.cards.values():
        s, p = card.session, card.pending
        if (s is not None and s.name == name) or (s is None and p is not None and p.name == name):
            return card
    return None


def state_of(window: Any, name: str) -> State | None:
    card = card_named(window, name)
    return card.state if card is not None else None


def js_value(qtbot: Any, tab: Any, script: str, timeout: int = 5000) -> Any:
    """Run JavaScript in a tab's page and wait for its result."""
    box: dict[str, Any] = {}
    tab.run_js(script, lambda value: box.setdefault("v", value))
    qtbot.waitUntil(lambda: "v" in box, timeout=timeout)
    return box["v"]


def wait_js_true(qtbot: Any, tab: Any, script: str, timeout: int) -> None:
    """Poll a JavaScript condition in the page until it is true (the page is really there)."""
    box: dict[str, Any] = {"ok": False, "busy": False}

    def poll() -> bool:
        if box["ok"]:
            return True
        if not box["busy"]:
            box["busy"] = True

            def got(value: Any) -> None:
                box["busy"] = False
                box["ok"] = value is True

            tab.run_js(script, got)
        return False

    from pytestqt.exceptions import TimeoutError as WaitTimeout

    try:
        qtbot.waitUntil(poll, timeout=timeout)
    except WaitTimeout:
        state = js_value(qtbot, tab, "document.location.pathname + ' | ' + document.title + ' | '"
                         " + (document.documentElement ? document.documentElement.className : 'no document')"
                         " + ' | ' + (document.body ? document.body.innerText.slice(0, 300) : '')")
        raise AssertionError(f"page condition not met: {script}; the page shows: {state}") from None


def press_in_modal(qtbot: Any, caption: str, within_s: float = 15.0, shot: str = "") -> dict[str, Any]:
    """Answer the next modal message box by pressing its `caption` button, as a person would.

    Returns what was seen: whether the button was pressed and the box's text. It gives up after
    `within_s` seconds (seen["expired"]), so it never presses a button of a later, unrelated box.
    `shot`: a file name under artifacts/screenshots for a picture of the box before it is answered."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: dict[str, Any] = {"clicked": False, "text": "", "expired": False}
    deadline = time.monotonic() + within_s

    def press() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            for button in box.buttons():
                if button.text() == caption:
                    seen["text"] = f"{box.text()} {box.informativeText()}"
                    if shot:  # the question as the person sees it, before it is answered
                        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                        box.grab().save(str(SCREENSHOTS / shot))
                    seen["clicked"] = True
                    button.click()
                    return
        if time.monotonic() > deadline:
            seen["expired"] = True
            return
        QTimer.singleShot(100, press)

    QTimer.singleShot(100, press)
    return seen
