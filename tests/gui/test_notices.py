"""Notices float over the window and never move it; failures stay until read; a session's notices go
with it; a process killed out of memory inside a running session shows on its card and as a notice."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.record import replace
from canfar_desktop.core.settings import Resources
from canfar_desktop.ui.messages import MessageBar

from ..integration.test_oom_inside import GREEDY_CHILD
from .conftest import card_named, screenshot, state_of


def place_of(widget: Any, window: Any) -> tuple[int, int]:
    top_left = widget.mapTo(window, QPoint(0, 0))
    return top_left.x(), top_left.y()


def test_notices_float_and_follow_their_session(make_window: Any, qtbot: Any, session_images: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window()
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    s = service.launch(service.prepare_launch("contributed", session_images["contributed"], "noticed"))
    qtbot.waitUntil(lambda: state_of(window, "noticed") == State.RUNNING, timeout=60000)
    key = f"{s.host}/{s.id}"
    qtbot.waitUntil(lambda: any(t.about == key for t in window.messages.toasts), timeout=30000)  # "is ready"
    for toast in [t for t in window.messages.toasts if t.about != key]:
        window.messages.dismiss(toast)

    # Notices come and go; nothing under them moves (a button stays under the pointer).
    card = card_named(window, "noticed")
    before = (place_of(window.splitter, window), window.splitter.size(), place_of(card, window),
              place_of(card.open_button, window))
    monkeypatch.setattr(MessageBar, "timeouts", {"info": 400, "warning": 400})
    window.messages.show_message("Something went wrong", "a failure waits until it is read", "error")
    window.messages.show_message("Just so you know", "this goes by itself", "info")
    window.messages.show_message("A longer warning that has to wrap over more than one line in the notice",
                                 "and a hint that is also long enough to wrap in a notice of this width", "warning")
    qtbot.waitUntil(lambda: window.messages.isVisible() and window.messages.height() > 100, timeout=5000)
    after = (place_of(window.splitter, window), window.splitter.size(), place_of(card, window),
             place_of(card.open_button, window))
    assert after == before, "showing notices moved the page"
    central = window.centralWidget()
    bar = window.messages.geometry()
    assert central.rect().contains(bar) and bar.right() > central.width() - 40 and bar.bottom() > central.height() - 40
    for toast in window.messages.toasts:  # each as tall as its wrapped text: nothing is cut off
        label = toast.findChild(QLabel)
        assert toast.height() >= label.heightForWidth(label.width()), toast.text
    screenshot(window, "notices-overlay.png")
    qtbot.waitUntil(lambda: not any(t.level in ("info", "warning") and t.about != key
                                    for t in window.messages.toasts), timeout=5000)
    assert [t.text for t in window.messages.toasts if t.level == "error"] == ["Something went wrong"], \
        "a failure stays until it is read"
    assert (place_of(window.splitter, window), window.splitter.size(), place_of(card, window)) == before[:3]
    window.messages.dismiss(next(t for t in window.messages.toasts if t.level == "error"))

    # The session goes: its notices go with it.
    assert any(t.about == key for t in window.messages.toasts)
    window._delete(card.session)
    qtbot.waitUntil(lambda: card_named(window, "noticed") is None, timeout=30000)
    qtbot.waitUntil(lambda: not any(t.about == key for t in window.messages.toasts), timeout=5000)


def test_out_of_memory_inside_a_session_is_on_its_card_and_told(make_window: Any, qtbot: Any,
                                                                 session_images: dict[str, str]) -> None:
    window = make_window()
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    # A child process outgrows the session's 256 MB and the kernel kills it; the session serves on.
    req = service.prepare_launch("contributed", session_images["contributed"], "greedy",
                                 Resources(mode="fixed", cores=1, ram_gb=0.25))
    service.launch(replace(req, command=GREEDY_CHILD))
    qtbot.waitUntil(lambda: card_named(window, "greedy") is not None, timeout=30000)
    card = card_named(window, "greedy")
    qtbot.waitUntil(lambda: card.warning.isVisible(), timeout=90000)
    text = card.warning.text()
    assert "kernel killed: out of memory" in text and "256 MB limit" in text, text
    qtbot.waitUntil(lambda: any(t.text == "greedy: out of memory" for t in window.messages.toasts), timeout=30000)
    toast = next(t for t in window.messages.toasts if t.text == "greedy: out of memory")
    assert toast.level == "warning" and "256 MB limit" in toast.hint and "more memory" in toast.hint
    qtbot.waitUntil(lambda: state_of(window, "greedy") == State.RUNNING, timeout=60000)
    assert card.warning.isVisible(), "the line stays while the session runs"
    screenshot(window, "oom-card.png")
