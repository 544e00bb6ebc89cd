"""A session on the CANFAR Science Platform from the app, as a new user would: the launch dialog on the "canfar"
host, a card with its host badge that reaches Running, the session open in a real QtWebEngine tab at the
platform's connect URL, deleted from its card; and the hosts settings saying who is signed in.

The platform is the project's own Skaha API server (tests/platform_standin.py) over the real engine.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import Qt

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import HostConfig

from ..platform_standin import PLATFORM_SESSION_LIMIT, StandIn, platform, standin
from .conftest import card_named, press_in_modal, screenshot, state_of, wait_js_true
from .test_launch_notebook import JUPYTERLAB_LOADED

__all__ = ["platform", "standin"]  # fixtures


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def wait_state(qtbot: Any, window: Any, name: str, state: State, timeout: int) -> None:
    from pytestqt.exceptions import TimeoutError as WaitTimeout

    with contextlib.suppress(WaitTimeout):
        qtbot.waitUntil(lambda: state_of(window, name) in (state, State.FAILED), timeout=timeout)
    if state_of(window, name) != state:
        card = card_named(window, name)
        shown = (card.badge.text(), card.reason.text()) if card is not None else "no card"
        raise AssertionError(f"{name} is not {state.value}: {shown}; messages: "
                             f"{[(t.text, t.hint) for t in window.messages.toasts]}")


def test_a_platform_session_from_the_dialog_to_a_tab_and_gone(standin: StandIn, make_window: Any, qtbot: Any,
                                                               paths: Any, session_images: dict[str, str]) -> None:
    standin.sign_in(paths)
    window = make_window(hosts=[HostConfig(), standin.host()], session_limit=5)
    service = window.service
    qtbot.waitUntil(lambda: window.store.loaded and not window.store.unreachable, timeout=30000)

    # The dialog offers the platform beside this computer, with its options and where /arc is.
    dialog = window.new_session("notebook")
    assert [dialog.host_combo.itemText(i) for i in range(dialog.host_combo.count())] == ["local", "canfar"]
    dialog.host_combo.setCurrentText("canfar")
    qtbot.waitUntil(lambda: dialog.facts is not None and dialog.capacity.text().startswith("canfar: "), timeout=30000)
    assert "the platform's shared storage" in dialog.storage.text()
    assert any(i.ref == session_images["notebook"] for i in dialog.facts.images)
    # Fixed sizes come from the platform's own menu (/context), and its own session limit counts.
    options = service.host_info("canfar").options
    assert options is not None and options.cores and options.ram_gb
    assert dialog.capacity.text().startswith(f"canfar: sessions of up to {max(options.cores)} cores and ")
    dialog.fixed.setChecked(True)
    cores_list, ram_list, _gpus_list = dialog.choices.lists
    assert cores_list.isVisibleTo(dialog) and not dialog.cores.isVisibleTo(dialog)
    assert [cores_list.itemData(i) for i in range(cores_list.count())] == list(options.cores)
    dialog.cores.setValue(1.4)  # a size off the menu (an earlier choice) snaps to the nearest option
    assert dialog.cores.value() == 1 and cores_list.currentData() == 1
    ram_list.setCurrentIndex(0)
    assert dialog.resources().ram_gb == options.ram_gb[0]
    assert dialog.limit() == PLATFORM_SESSION_LIMIT != service.settings.session_limit
    screenshot(dialog, "platform-launch-dialog.png")
    dialog.host_combo.setCurrentText("local")  # this computer: any size again, and its own limit
    qtbot.waitUntil(lambda: dialog.facts is not None and dialog.capacity.text().startswith("local: "), timeout=30000)
    assert dialog.cores.isVisibleTo(dialog) and not cores_list.isVisibleTo(dialog)
    assert dialog.limit() == service.settings.session_limit
    dialog.host_combo.setCurrentText("canfar")
    qtbot.waitUntil(lambda: dialog.facts is not None and dialog.capacity.text().startswith("canfar: "), timeout=30000)
    dialog.flexible.setChecked(True)
    dialog.image.setCurrentText(session_images["notebook"])
    dialog.name.setText("gui-platform")
    qtbot.waitUntil(dialog.launch_button.isEnabled, timeout=5000)
    qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)

    # A card with the host badge, Launching, then Running.
    qtbot.waitUntil(lambda: card_named(window, "gui-platform") is not None, timeout=30000)
    badge = card_named(window, "gui-platform").host_badge
    assert badge.isVisible() and badge.text() == "CANFAR" and "CANFAR Science Platform" in badge.toolTip()
    wait_state(qtbot, window, "gui-platform", State.RUNNING, 180000)
    card = card_named(window, "gui-platform")
    session = card.session
    assert session.host == "canfar" and card.host_badge.text() == "CANFAR" and not card.host_unreachable
    # its files and its sharing are the platform's own: no Files or Share… here
    assert not card.files_button.isVisible() and not card.share_button.isVisible()

    # The tab opens by itself at the platform's connect URL, and JupyterLab loads in it.
    qtbot.waitUntil(lambda: ("canfar", session.id) in window.session_tabs, timeout=30000)
    tab = window.session_tabs[("canfar", session.id)]
    url = urlsplit(tab.session_url)
    assert url.path.startswith(f"/session/notebook/{session.id}/lab") and "token=" in url.query
    wait_js_true(qtbot, tab, JUPYTERLAB_LOADED, timeout=90000)
    qtbot.waitUntil(lambda: "JupyterLab" in tab.page.title(), timeout=20000)
    for toast in list(window.messages.toasts):
        window.messages.dismiss(toast)
    screenshot(window, "platform-tab.png", qtbot, settle_ms=2000)

    # Closing the tab leaves it running on the platform; its card stays, with the host chip measured.
    window.tabs.tabCloseRequested.emit(window.tabs.indexOf(tab))
    qtbot.waitUntil(lambda: not window.session_tabs, timeout=15000)  # the page is asked first
    chip = window.dashboard.hosts.chips["canfar"]
    qtbot.waitUntil(lambda: " ms" in chip.text(), timeout=30000)
    assert "platform's shared storage" in chip.toolTip() and "signed in with" in chip.toolTip()
    card = card_named(window, "gui-platform")
    assert card.state == State.RUNNING and card.open_button.isEnabled()
    screenshot(window, "platform-card.png", qtbot, settle_ms=500)

    # Deleted from the card, through the confirmation box: the platform no longer lists it.
    seen = press_in_modal(qtbot, "Delete")
    qtbot.mouseClick(card.delete_button, Qt.MouseButton.LeftButton)
    assert seen["clicked"]
    qtbot.waitUntil(lambda: card_named(window, "gui-platform") is None, timeout=30000)
    assert session.id not in {s.id for s in service.sessions("canfar")}

    # Settings: the hosts page says which login the platform host uses, and tests it.
    settings = window.open_settings()
    qtbot.waitExposed(settings)
    settings.tabs.setCurrentWidget(settings.hosts)
    editor = settings.hosts
    editor.list.setCurrentRow([h.name for h in editor.hosts()].index("canfar"))
    login = editor.platform_login
    assert login.isVisible() and not editor.ssh_tunnel.isEnabled() and not editor.arc_path.isEnabled()
    qtbot.waitUntil(lambda: login.status.text().startswith("Signs in with the token saved for canfar"), timeout=10000)
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result_text.startswith(("✓", "✗")), timeout=30000)
    assert editor.result_text.startswith("✓ Connected to canfar") and "Skaha v1" in editor.result_text
    screenshot(settings, "platform-hosts-settings.png")
    editor.list.setCurrentRow(0)
    assert not login.isVisible()

    # "Add CANFAR" adds the real platform; with no login anywhere, the page says how to sign in.
    qtbot.mouseClick(editor.add_canfar_button, Qt.MouseButton.LeftButton)
    assert (editor.current().name, editor.current().url) == ("canfar2", "skaha+https://ws-uv.canfar.net/skaha")
    qtbot.waitUntil(lambda: login.status.text().startswith("No CANFAR login found for canfar2"), timeout=10000)
    assert "canfar login" in login.status.text() and login.token.isVisible()
    settings.reject()
