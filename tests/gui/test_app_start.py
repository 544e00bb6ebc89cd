"""Starting the real app (`canfar-desktop` with its own arguments and settings file), as a person does.

Each run is the app's own entry point in a separate process (tests/app_driver.py prints what its
window shows once the event loop runs). Under Xvfb there is no system tray, so "start in the tray"
means a minimised window.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.record import replace
from canfar_desktop.core.settings import AppPaths, load_settings, save_settings

from ..app_process import App
from ..helpers import wait_for


@pytest.fixture
def start(app_home: Path) -> Iterator[Any]:
    """Start the app with arguments; returns what its window showed (it keeps running until the test ends)."""
    started: list[App] = []

    def run(*args: str) -> dict[str, Any]:
        app = App(app_home, *args, observed=True, platform="")  # the display the tests run on (Xvfb)
        started.append(app)
        wait_for(lambda: app.reports("window"), 60, f"the app's window: {app.output()}")
        [window] = app.reports("window")
        assert window["found"], app.output()
        app.stop(signal.SIGKILL)  # one app per user: the next start must not hand over to this one
        return window

    yield run
    for app in started:
        app.stop(signal.SIGKILL)


def test_minimized_flag_and_setting_start_minimised_without_a_tray(start: Any, paths: AppPaths,
                                                                    make_service: Any) -> None:
    save_settings(paths, make_service().settings)  # own user: no other test's sessions on the dashboard
    normal = start()
    assert (normal["visible"], normal["minimized"]) == (True, False)
    flagged = start("--minimized")
    assert (flagged["visible"], flagged["minimized"]) == (True, True), "minimised: reachable with no tray"
    settings = replace(load_settings(paths)[0], start_minimized=True)
    save_settings(paths, settings)
    assert start()["minimized"] is True, "Settings › Start minimized does the same"


def test_corrupt_settings_file_at_app_start_is_reported_and_kept(start: Any, paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    corrupt = b'{"session_limit": 7, "hosts": [}'
    paths.settings_file.write_bytes(corrupt)
    window = start()
    assert window["visible"], "the app starts anyway, on default settings"
    [aside] = paths.config_dir.glob("settings.json.corrupt-*")
    assert aside.read_bytes() == corrupt, "the person's file is kept byte for byte"
    notices = [m for m in window["messages"] if m["text"] == "Settings were reset"]
    assert len(notices) == 1, window["messages"]
    assert notices[0]["level"] == "warning"
    assert notices[0]["hint"].startswith("The settings file was unreadable (")
    assert notices[0]["hint"].endswith(f"; it was moved to {aside} and defaults are in use")
    again = start()
    assert not [m for m in again["messages"] if m["text"] == "Settings were reset"], "said once, not at every start"
