"""File › Projects… on a real window and engine: create a project, add a member, see who may change it."""

from __future__ import annotations

import secrets
from typing import Any

from PySide6.QtCore import Qt

from canfar_desktop.core.record import replace
from canfar_desktop.ui.projects_dialog import ProjectsDialog

from .conftest import screenshot


def test_projects_dialog_creates_a_project_and_adds_a_member(make_window: Any, qtbot: Any,
                                                             session_images: dict[str, str]) -> None:
    window = make_window()
    [item] = [a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Projects…"]
    item.trigger()
    dialog = window.findChild(ProjectsDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.status.text() == "No projects on this host yet.", timeout=20000)

    name = f"m31-{secrets.token_hex(2)}"
    dialog.new_name.setText(name)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30000)
    assert dialog.table.item(0, 0).text() == f"★ {name}"
    assert dialog.table.item(0, 1).text() == window.service.settings.user
    assert int(dialog.table.item(0, 2).text()) >= 70001

    dialog.table.selectRow(0)
    assert dialog.add_button.isEnabled()
    dialog.member.setText("bob")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.item(0, 1).text().endswith(", bob"), timeout=30000)
    assert "bob added to" in dialog.status.text()
    assert window.service.projects().get(name).members == (window.service.settings.user, "bob")

    # someone else's project: only its members may change it
    other = window.service.projects()
    other.settings = replace(other.settings, user="carol")
    other.create(f"vla-{secrets.token_hex(2)}")
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=30000)
    dialog.table.selectRow([dialog.table.item(r, 0).text().startswith("vla-") for r in range(2)].index(True))
    assert not dialog.add_button.isEnabled() and "ask carol" in dialog.status.text()
    dialog.new_name.setText("Bad Name")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is not a project name" in dialog.status.text(), timeout=30000)
    dialog.new_name.setText("")
    dialog.table.selectRow([dialog.table.item(r, 0).text().startswith("★") for r in range(2)].index(True))
    dialog._idle("Select a project you belong to, then add or remove members.")
    screenshot(dialog, "projects-dialog.png")
