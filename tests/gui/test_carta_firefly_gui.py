"""CARTA and Firefly sessions in the app's tabs (stand-in images keeping their start-up contracts), and
WebGL2 in a session tab: CARTA draws with it."""

from __future__ import annotations

import os
from typing import Any

import pytest

from canfar_desktop.core.lifecycle import State
from canfar_desktop.ui.start import CHROMIUM_FLAGS

from ..integration.science_fixtures import need_images, write_fits
from .conftest import js_value, screenshot, state_of, wait_js_true
from .test_desktop_apps_gui import home_of


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)


def open_tab(window: Any, qtbot: Any, kind: str, image: str, name: str) -> Any:
    window.launch(window.service.prepare_launch(kind, image, name))
    qtbot.waitUntil(lambda: state_of(window, name) == State.RUNNING, timeout=90000)
    qtbot.waitUntil(lambda: any(t.kind == kind for t in window.session_tabs.values()), timeout=20000)
    return next(t for t in window.session_tabs.values() if t.kind == kind)


def test_carta_tab_connects_with_its_token_and_draws_with_webgl2(make_app: Any, qtbot: Any,
                                                                  science_images: dict[str, str]) -> None:
    assert set(CHROMIUM_FLAGS) <= set(os.environ["QTWEBENGINE_CHROMIUM_FLAGS"].split())
    parts = make_app()
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    projects = window.service.settings.arc_folder() / "projects"
    home_of(window.service)
    projects.mkdir(parents=True, exist_ok=True)
    write_fits(projects / "ngc1234-cube.fits", size=64)
    tab = open_tab(window, qtbot, "carta", science_images["carta"], "gui-carta")
    wait_js_true(qtbot, tab, "!!window.cartaStandIn && window.cartaStandIn.connected", timeout=30000)
    assert js_value(qtbot, tab, "window.cartaStandIn.webgl2") is True, "QtWebEngine gives the page WebGL2"
    assert str(js_value(qtbot, tab, "window.cartaStandIn.renderer")).startswith("WebGL 2.0")
    assert js_value(qtbot, tab, "window.cartaStandIn.status.scripting") is True
    assert "ngc1234-cube.fits" in js_value(qtbot, tab, "window.cartaStandIn.status.files.join(' ')")
    # the page holds a connection open while it shows, as CARTA's frontend holds its websocket: Running
    qtbot.waitUntil(lambda: state_of(window, "gui-carta") == State.RUNNING, timeout=30000)
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "carta-standin.png", qtbot, settle_ms=2000)


def test_firefly_tab_shows_its_viewer(make_app: Any, qtbot: Any, science_images: dict[str, str]) -> None:
    parts = make_app()
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    tab = open_tab(window, qtbot, "firefly", science_images["firefly"], "gui-firefly")
    wait_js_true(qtbot, tab, "!!window.fireflyStandIn && window.fireflyStandIn.ready", timeout=30000)
    assert js_value(qtbot, tab, "window.fireflyStandIn.status.limit_mb") == 4096
    assert js_value(qtbot, tab, "location.pathname") == "/firefly/"
    qtbot.waitUntil(lambda: state_of(window, "gui-firefly") == State.RUNNING, timeout=30000)
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "firefly-standin.png", qtbot, settle_ms=2000)
