"""Two Docker hosts in one dashboard: a notebook launched on an SSH host from the dialog opens in a tab
through the local forward; the SSH host goes down (its card: "host unreachable") while the other host's
session keeps running, and it comes back by itself.

The hosts are two different engines, so each session is listed once: "ssh" is the main engine behind
an sshd on 127.0.0.1, "local" is the second test engine reached through its unix socket on this computer.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import HostConfig

from ..integration.remote_fixtures import SshServer, TlsEngine, remote_home, ssh_server, tls_engine
from .conftest import card_named, screenshot, state_of, wait_js_true
from .test_launch_notebook import JUPYTERLAB_LOADED

__all__ = ["remote_home", "ssh_server", "tls_engine"]  # fixtures shared with the integration tests

def wait_state(qtbot: Any, window: Any, name: str, state: State, timeout: int) -> None:
    """Wait for a card's state (Failed ends the wait); otherwise say what the card shows instead."""
    from pytestqt.exceptions import TimeoutError as WaitTimeout

    with contextlib.suppress(WaitTimeout):
        qtbot.waitUntil(lambda: state_of(window, name) in (state, State.FAILED), timeout=timeout)
    if state_of(window, name) != state:
        card = card_named(window, name)
        shown = (card.badge.text(), card.reason.full_text()) if card is not None else "no card"
        raise AssertionError(f"{name} is not {state.value}: {shown}; forwards: {window.service.registry.forwards.forwards()}; "
                             f"messages: {[(t.text, t.hint) for t in window.messages.toasts]}")


def chip_text(window: Any, host: str) -> str:
    chip = window.dashboard.hosts.chips.get(host)
    return chip.text() if chip is not None else ""


def test_ssh_host_in_the_dashboard_down_and_back(remote_home: Path, ssh_server: SshServer, tls_engine: TlsEngine,
                                                 make_window: Any, qtbot: Any, paths: Any,
                                                 session_images: dict[str, str]) -> None:
    window = make_window(hosts=[HostConfig(name="local", url=f"unix://{tls_engine.socket_path}"),
                                HostConfig(name="ssh", url=ssh_server.url)])
    service = window.service
    try:
        qtbot.waitUntil(lambda: window.store.loaded and not window.store.unreachable, timeout=30000)
        qtbot.waitUntil(lambda: "ms" in chip_text(window, "ssh") and "ms" in chip_text(window, "local"),
                        timeout=15000)
        assert window.dashboard.hosts.isVisible()
        local = service.launch(service.prepare_launch("notebook", session_images["notebook"], "gui-here", host="local"))

        # The dialog offers both hosts, says what the chosen one has and where /arc lives there.
        dialog = window.new_session("notebook")
        assert [dialog.host_combo.itemText(i) for i in range(dialog.host_combo.count())] == ["local", "ssh"]
        assert dialog.host_combo.isEnabled()
        dialog.host_combo.setCurrentText("ssh")
        qtbot.waitUntil(lambda: dialog.facts is not None, timeout=30000)
        assert dialog.capacity.text().startswith("ssh: ") and "CPUs" in dialog.capacity.text()
        assert "Docker volumes on ssh" in dialog.storage.text()
        dialog.image.setCurrentText(session_images["notebook"])
        dialog.name.setText("gui-over-ssh")
        qtbot.waitUntil(dialog.launch_button.isEnabled, timeout=5000)
        qtbot.mouseClick(dialog.launch_button, Qt.MouseButton.LeftButton)

        # Its card carries the host badge from the first stage on, and reaches Running.
        qtbot.waitUntil(lambda: card_named(window, "gui-over-ssh") is not None, timeout=30000)
        badge = card_named(window, "gui-over-ssh").host_badge
        assert badge.isVisible() and badge.text() == "ssh"
        wait_state(qtbot, window, "gui-over-ssh", State.RUNNING, 180000)
        card = card_named(window, "gui-over-ssh")
        assert card.session.host == "ssh" and card.host_badge.text() == "ssh"
        assert card_named(window, "gui-here").host_badge.text() == "local"

        # The tab opens by itself and loads JupyterLab from this machine's loopback, through the SSH forward.
        qtbot.waitUntil(lambda: ("ssh", card.session.id) in window.session_tabs, timeout=30000)
        tab = window.session_tabs[("ssh", card.session.id)]
        forwards = [f for f in service.registry.forwards.forwards() if f.host == "ssh" and f.container_id ==
                    card.session.container_id]
        assert len(forwards) == 1 and forwards[0].via == "ssh"
        url = urlsplit(tab.session_url)
        assert (url.scheme, url.hostname, url.port) == ("http", "127.0.0.1", forwards[0].local_port)
        assert url.port != card.session.host_port, "the forward's port, not the remote one"
        wait_js_true(qtbot, tab, JUPYTERLAB_LOADED, timeout=90000)
        qtbot.waitUntil(lambda: "JupyterLab" in tab.page.title(), timeout=20000)
        assert urlsplit(tab.page.url().toString()).port == forwards[0].local_port

        # The dialog remembered the host for the next notebook.
        assert json.loads(paths.settings_file.read_text())["last_choices"]["notebook"]["host"] == "ssh"
        again = window.new_session("notebook")
        assert again.host_combo.currentText() == "ssh"
        again.reject()

        window.tabs.tabCloseRequested.emit(window.tabs.indexOf(tab))
        wait_state(qtbot, window, "gui-here", State.RUNNING, 60000)

        # The SSH host goes away: its card says so and cannot act; the other host keeps working.
        ssh_server.stop()
        qtbot.waitUntil(lambda: getattr(card_named(window, "gui-over-ssh"), "host_unreachable", False),
                        timeout=30000)
        down = card_named(window, "gui-over-ssh")
        assert down.badge.text() == "Host unreachable" and down.session.state != State.TERMINATED
        assert "does not answer" in down.reason.full_text()
        for button in (down.open_button, down.renew_button, down.logs_button, down.delete_button):
            assert not button.isEnabled() and "unreachable" in button.toolTip()
        here = card_named(window, "gui-here")
        assert not here.host_unreachable and here.state == State.RUNNING and here.open_button.isEnabled()
        assert here.delete_button.isEnabled() and "unreachable" not in here.delete_button.toolTip()
        assert window.banner.isVisible() and "“ssh”" in window.banner.title.text()
        assert "unreachable" in chip_text(window, "ssh") and "ms" in chip_text(window, "local")
        assert window.dashboard.stack.currentWidget() is window.dashboard.scroll
        for toast in list(window.messages.toasts):
            window.messages.dismiss(toast)
        qtbot.waitUntil(window.banner.findings.isVisible, timeout=30000)
        screenshot(window, "remote-hosts.png")
    finally:
        if ssh_server.proc is None:
            ssh_server.start()

    # It comes back by itself: no click, the card is live again and the banner goes.
    qtbot.waitUntil(lambda: not getattr(card_named(window, "gui-over-ssh"), "host_unreachable", True),
                    timeout=60000)
    back = card_named(window, "gui-over-ssh")
    assert back.state in (State.RUNNING, State.SUSPENDED) and back.open_button.isEnabled()
    assert back.delete_button.isEnabled() and "unreachable" not in back.delete_button.toolTip()
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15000)
    qtbot.waitUntil(lambda: "ms" in chip_text(window, "ssh"), timeout=15000)
    assert card_named(window, "gui-here").session.id == local.id

    # Settings: the hosts page tests a connection (round trip) and explains a refused one clearly.
    settings = window.open_settings()
    qtbot.waitExposed(settings)
    settings.tabs.setCurrentWidget(settings.hosts)
    editor = settings.hosts
    editor.list.setCurrentRow([h.name for h in editor.hosts()].index("ssh"))
    assert editor.url.text() == ssh_server.url and not editor.tls_ca.isEnabled()
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result_text.startswith(("✓", "✗")), timeout=30000)
    assert editor.result_text.startswith("✓ Connected to ssh") and " ms round trip" in editor.result_text
    screenshot(settings, "hosts-settings.png")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    editor.name.setText("lab")
    editor.url.setText(f"tcp://127.0.0.2:{tls_engine.port}")
    assert editor.tls_ca.isEnabled() and editor.tls_note.isVisible()
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    assert editor.result_text.startswith("✗") and "CA" in editor.result_text, "no TLS, no connection"
    editor.tls_ca.setText(str(tls_engine.ca))
    editor.tls_cert.setText(str(tls_engine.cert))
    editor.tls_key.setText(str(tls_engine.key))
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result_text.startswith(("✓", "✗")), timeout=30000)
    assert editor.result_text.startswith("✓ Connected to lab"), editor.result_text
    settings.save()
    assert settings.result_settings is not None
    saved = json.loads(paths.settings_file.read_text())
    assert [h["name"] for h in saved["hosts"]] == ["local", "ssh", "lab"]
    # The dashboard follows the new host list: a chip for it, measured like the others.
    qtbot.waitUntil(lambda: "ms" in chip_text(window, "lab"), timeout=30000)
    assert service.host_names() == ["local", "ssh", "lab"]

    # Removing it again: its chip and anything listed through it go (it is the "local" engine over TLS).
    settings = window.open_settings()
    editor = settings.hosts
    editor.list.setCurrentRow(2)
    assert editor.current().name == "lab"
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    settings.save()
    qtbot.waitUntil(lambda: "lab" not in window.dashboard.hosts.chips, timeout=10000)
    assert all(not key.startswith("lab/") for key in window.dashboard.cards)
    assert service.host_names() == ["local", "ssh"]
    service.close()
    assert service.registry.forwards.forwards() == []
