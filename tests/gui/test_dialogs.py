"""The launch dialog checks what is typed; the settings dialog validates and saves atomically."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QApplication

from .conftest import screenshot


def test_launch_dialog_refuses_invalid_input(make_window: Any, qtbot: Any) -> None:
    window = make_window()
    dialog = window.new_session("desktop")
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=15000)
    assert dialog.kind == "desktop"
    assert dialog.name.text().startswith("desktop-") and dialog.launch_button.isEnabled()

    dialog.name.setText("my session!")
    assert not dialog.launch_button.isEnabled()
    assert dialog.name_error.isVisible() and "contains a space and “!”" in dialog.name_error.text(), \
        "the characters named in words, not as a list of quoted characters"
    dialog.name.setText("x" * 40)
    assert not dialog.launch_button.isEnabled() and "32" in dialog.name_error.text()
    dialog.name.setText("my-session")
    assert dialog.launch_button.isEnabled() and not dialog.name_error.isVisible()

    dialog.image.setCurrentText("Not An Image")
    assert not dialog.launch_button.isEnabled() and dialog.image_error.isVisible()
    dialog.image.setCurrentText("canfar-desktop/desktop:latest")
    assert dialog.launch_button.isEnabled()

    # Fixed resources go no further than the host has (the numbers the host line shows), so the
    # dialog never offers what the core would refuse; flexible mode shows no numbers it ignores.
    assert not dialog.fixed_row.isVisible() and "bursts up to" in dialog.flexible.text()
    dialog.fixed.setChecked(True)
    assert dialog.fixed_row.isVisible()
    info = dialog.facts.info
    dialog.cores.setValue(info.cpus + 1)
    assert dialog.cores.value() == info.cpus and dialog.launch_button.isEnabled()
    dialog.ram.setValue(info.memory_gb + 10)
    assert dialog.ram.value() <= info.memory_gb and dialog.launch_button.isEnabled()
    assert f"{dialog.ram.maximum():g} GB" in dialog.capacity.text().replace(".0 GB", " GB")
    dialog.ram.setValue(2)
    assert dialog.launch_button.isEnabled()
    dialog.reject()


def test_settings_dialog_validates_and_saves(make_window: Any, qtbot: Any, paths: Any) -> None:
    window = make_window()
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    screenshot(dialog, "settings-dialog.png")
    dialog.limit.setValue(5)
    dialog.lifetime.setValue(12)
    dialog.theme.setCurrentText("dark")
    dialog.save()
    assert dialog.result_settings is not None
    saved = json.loads(paths.settings_file.read_text())
    assert saved["session_limit"] == 5 and saved["theme"] == "dark"
    assert window.service.settings.session_limit == 5
    assert window.service.settings.session_lifetime_hours == 12
    qtbot.waitUntil(lambda: "of 5 active" in window.count_label.text(), timeout=10000)
    assert QApplication.instance().property("canfarTheme") == "dark"
    screenshot(window, "dashboard-dark.png")
