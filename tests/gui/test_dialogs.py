"""The launch dialog checks what is typed; the settings dialog validates and saves atomically."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
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
    assert not dialog.fixed_row.isVisible() and "up to" in dialog.flexible.text()
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

    # The keyboard's place is plain to see: a ring in the accent colour around the focused button.
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    dialog.cancel_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(dialog.cancel_button.hasFocus, timeout=5000)
    image = dialog.cancel_button.grab().toImage()
    edge = QColor(image.pixel(1, image.height() // 2))
    assert abs(edge.red() - 0x2f) + abs(edge.green() - 0x6f) + abs(edge.blue() - 0xdf) < 90, edge.name()
    screenshot(dialog, "launch-dialog-focus.png")
    dialog.reject()


def test_settings_dialog_validates_and_saves(make_window: Any, qtbot: Any, paths: Any) -> None:
    window = make_window()
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    # Flexible takes no numbers, so none are shown; fixed shows them (the launch dialog's story).
    assert dialog.mode.currentText() == "flexible" and not dialog.cores.isVisible()
    assert "guaranteed" in dialog.flexible_note.text() and dialog.flexible_note.isVisible()
    screenshot(dialog, "settings-dialog.png")
    dialog.mode.setCurrentText("fixed")
    assert dialog.cores.isVisible() and dialog.ram.isVisible() and not dialog.flexible_note.isVisible()
    dialog.mode.setCurrentText("flexible")
    dialog.limit.setValue(5)
    dialog.lifetime.setValue(12)
    dialog.theme.setCurrentText("dark")
    dialog.save()
    assert dialog.result_settings is not None
    saved = json.loads(paths.settings_file.read_text())
    assert saved["session_limit"] == 5 and saved["theme"] == "dark"
    assert window.service.settings.session_limit == 5
    assert window.service.settings.session_lifetime_hours == 12
    qtbot.waitUntil(lambda: "of 5 active" in window.status.count_label.text(), timeout=10000)
    assert QApplication.instance().property("canfarTheme") == "dark"
    screenshot(window, "dashboard-dark.png")


def test_launch_dialog_images_marked_and_a_failed_image_not_remembered(make_window: Any, qtbot: Any, paths: Any,
                                                                       session_images: dict[str, str]) -> None:
    from canfar_desktop.ui.image_picker import LOCAL, NOTE

    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    dialog = window.new_session("notebook")
    assert dialog.image.currentText() == "" and "default" in dialog.image.lineEdit().placeholderText()
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=15000)
    assert dialog.image.currentText() == session_images["notebook"], "the CLI's default, not the placeholder's"
    refs = [dialog.image.itemText(i) for i in range(dialog.image.count())]
    here = refs.index(session_images["notebook"])
    assert dialog.image.itemData(here, LOCAL) is True and dialog.image.itemData(here, NOTE).startswith("on this host")
    upstream = refs.index("images.canfar.net/skaha/astroml:latest")
    assert dialog.image.itemData(upstream, LOCAL) is False
    assert dialog.image.itemData(upstream, NOTE).startswith("will be pulled from images.canfar.net")
    dialog.image.showPopup()
    qtbot.waitUntil(lambda: dialog.image.view().isVisible(), timeout=5000)
    screenshot(dialog.image.view().window(), "launch-dialog-images.png")
    dialog.image.hidePopup()

    # An image that cannot be had fails its launch, and is not offered first next time.
    dialog.image.setCurrentText("canfar-desktop/does-not-exist:latest")
    assert "will be pulled" in dialog.image_note.text()
    dialog.name.setText("never-pulled")
    qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(p.error is not None for p in window.launches.pending.values()), timeout=60000)
    saved = json.loads(paths.settings_file.read_text()) if paths.settings_file.exists() else {}
    assert "notebook" not in saved.get("last_choices", {}), "only a launch that reached Running is remembered"
    again = window.new_session("notebook")
    qtbot.waitUntil(lambda: again.facts is not None, timeout=15000)
    assert again.image.currentText() == session_images["notebook"]
    again.reject()
