"""The active-session limit, met in the app: the dialog says so before Launch, and every hint is the app's.

At the limit the launch dialog says which limit and what to do in the app's words, and Launch waits;
a launch the core refuses anyway fails on its card with the whole reason (Details) and Edit and retry,
which opens the dialog filled in. Deleting a session frees the slot while the dialog is open.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from canfar_desktop.core.lifecycle import State
from canfar_desktop.ui.wording import LIMIT_HINT

from .conftest import card_named, press_in_modal, screenshot, state_of


def test_limit_said_in_the_dialog_and_hints_worded_for_the_app(make_window: Any, qtbot: Any,
                                                              session_images: dict[str, str]) -> None:
    window = make_window(session_limit=1)
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    service.launch(service.prepare_launch("contributed", session_images["contributed"], "holds-the-slot"))
    qtbot.waitUntil(lambda: state_of(window, "holds-the-slot") == State.RUNNING, timeout=60000)

    # The dialog knows before Launch: it names the limit, says what to do here, and Launch waits.
    dialog = window.new_session("contributed")
    qtbot.waitUntil(lambda: dialog.facts is not None, timeout=15000)
    assert dialog.limit_note.isVisible() and not dialog.launch_button.isEnabled()
    note = dialog.limit_note.text()
    assert "limit of 1 active session" in note and LIMIT_HINT in note and "canfar-desktop" not in note, note
    screenshot(dialog, "launch-dialog-at-limit.png")
    dialog.reject()

    # A launch that reaches the core anyway (from another front door) is refused there; its card says
    # why in the app's words, keeps the whole reason a click away, and offers Edit and retry.
    req = service.prepare_launch("contributed", session_images["contributed"], "one-too-many")
    pending = window.launch(req)
    qtbot.waitUntil(lambda: pending.error is not None, timeout=60000)
    card = card_named(window, "one-too-many")
    reason = card.reason.full_text()
    assert "maximum of 1 active sessions" in reason and LIMIT_HINT.lower() in reason.lower(), reason
    assert "canfar-desktop" not in reason
    toast = next(t for t in window.messages.toasts if t.level == "error")
    assert "canfar-desktop" not in toast.hint and "Settings › Active session limit" in toast.hint
    assert card.details_button.isVisible() and not card.details.isVisible()
    qtbot.mouseClick(card.details_button, Qt.MouseButton.LeftButton)
    assert card.details.isVisible() and card.details.text() == reason
    assert card.retry_button.isVisible() and card.retry_button.text() == "Edit and retry"
    screenshot(window, "failed-launch-card.png")

    # The limit's slot is freed from the other card: an open dialog sees it at once.
    qtbot.mouseClick(card.retry_button, Qt.MouseButton.LeftButton)
    retry = next(w for w in window.findChildren(type(dialog)) if w.isVisible())
    qtbot.waitUntil(lambda: retry.facts is not None, timeout=15000)
    assert (retry.kind, retry.name.text(), retry.image.currentText()) == \
        ("contributed", "one-too-many", session_images["contributed"]), "filled in with the failed launch"
    assert not retry.launch_button.isEnabled()
    seen = press_in_modal(qtbot, "Delete")
    qtbot.mouseClick(card_named(window, "holds-the-slot").delete_button, Qt.MouseButton.LeftButton)
    assert seen["clicked"]
    qtbot.waitUntil(lambda: card_named(window, "holds-the-slot") is None, timeout=30000)
    qtbot.waitUntil(retry.launch_button.isEnabled, timeout=10000)
    assert not retry.limit_note.isVisible()

    # Launching from the filled-in dialog replaces the failed card with the new launch.
    qtbot.mouseClick(retry.launch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(window, "one-too-many") == State.RUNNING, timeout=60000)
    assert sum(1 for c in window.dashboard.cards.values()
               if (c.session or c.pending) and (c.session or c.pending).name == "one-too-many") == 1
    assert not any(t.level == "error" and "one-too-many" in t.text for t in window.messages.toasts), \
        "the failed launch's notice went with its card"
