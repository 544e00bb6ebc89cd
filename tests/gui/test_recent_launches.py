"""Recent launches and presets on real sessions: a launch from the dialog heads the list, one click in
the dialog or the tray launches the same set-up again under a fresh name, and a star pins it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from canfar_desktop.core import recent
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.plan import LaunchRequest
from canfar_desktop.core.settings import Resources, load_settings

from .conftest import card_named, screenshot, state_of


def test_recent_launches_relaunch_in_one_click_and_pin(make_app: Any, qtbot: Any, paths: Any,
                                                       session_images: dict[str, str]) -> None:
    from canfar_desktop.ui.app import attach_tray

    parts = make_app(session_limit=5)
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    image = session_images["contributed"]

    dialog = window.new_session("contributed")
    assert [r.entry for r in dialog.recent.rows] == []
    # nothing yet: one wrapped line says what will be there, with no list squeezed under a scroll bar
    assert dialog.recent.empty.isVisible() and not dialog.recent.list.isVisible()
    assert dialog.recent.empty.height() >= dialog.recent.empty.fontMetrics().height()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=15000)
    dialog.image.setCurrentText(image)
    dialog.name.setText("web-1")
    qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(window, "web-1") == State.RUNNING, timeout=90000)

    # Once ready the launch heads the list, on the file and in the next dialog.
    qtbot.waitUntil(lambda: len(window.service.settings.recent_launches) == 1, timeout=10000)
    [entry] = load_settings(paths)[0].recent_launches
    assert (entry.kind, entry.image, entry.name_pattern, entry.host) == ("contributed", image, "web-{n}", "local")

    again = window.new_session("notebook")
    [row] = again.recent.rows
    assert again.recent.list.isVisible() and not again.recent.empty.isVisible()
    assert "contributed" in row.label.text() and "web-N" in row.label.text()
    qtbot.mouseClick(row.launch, Qt.MouseButton.LeftButton)  # one click: a new session, a fresh name
    # the dialog is accepted (and gone) and the window launches the request
    qtbot.waitUntil(lambda: card_named(window, "web-2") is not None, timeout=15000)
    qtbot.waitUntil(lambda: state_of(window, "web-2") == State.RUNNING, timeout=90000)

    # The tray offers the same set-up; its line launches a third.
    tray = attach_tray(parts, quit_app=lambda: None)
    tray.menu.aboutToShow.emit()
    line = tray.action("recent/0")
    assert line is not None and "web-N" in line.text()
    line.trigger()
    qtbot.waitUntil(lambda: state_of(window, "web-3") == State.RUNNING, timeout=90000)

    # A star pins it as a preset; presets come first, and survive in the file.
    dialog = window.new_session("contributed")
    qtbot.mouseClick(dialog.recent.rows[0].pin, Qt.MouseButton.LeftButton)
    [preset] = load_settings(paths)[0].presets
    assert preset.title == "web" and preset.name_pattern == "web-{n}"
    assert dialog.recent.rows[0].pin.text() == "★" and "<b>web · contributed</b>" in dialog.recent.rows[0].label.text()
    # two more set-ups in the list (as `create` on the command line records them), for the picture
    recent.record(paths, window.service.settings, LaunchRequest(
        "notebook", session_images["notebook"], "photometry", Resources(mode="fixed", cores=2, ram_gb=8), host="local"))
    recent.record(paths, window.service.settings, LaunchRequest("desktop", "images.canfar.net/skaha/desktop:latest",
                                                                "desktop-vega-12", host="local"))
    dialog.reject()
    dialog = window.new_session("contributed")
    assert [r.label.text().split("</b>")[0] for r in dialog.recent.rows] == [
        "<b>web · contributed", "<b>any name · desktop", "<b>photometry · notebook"]
    dialog.resize(1000, 620)
    screenshot(dialog, "recent-launches.png")
    tray.menu.aboutToShow.emit()
    assert tray.action("recent/0").text().startswith("★ web · contributed")
    dialog.reject()
