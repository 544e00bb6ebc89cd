"""Share… on a real session's card: the share dialog with its QR code, link and fingerprint, the card
saying until when it is shared, a new secret, and Stop. (Reaching a shared session from another device
is tests/integration/test_share.py.)"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from canfar_desktop.core.lifecycle import State

from .conftest import card_named, screenshot, state_of


@pytest.fixture
def lan_address() -> Iterator[str]:
    """An address of this computer on a network of its own (an empty bridge), to share on."""
    name = f"cdsd{secrets.token_hex(3)}"
    used = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout
    third = next(n for n in range(200, 255) if f"10.{n}.0." not in used)
    for cmd in (["ip", "link", "add", name, "type", "bridge"], ["ip", "addr", "add", f"10.{third}.0.1/24", "dev", name],
                ["ip", "link", "set", name, "up"]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            pytest.fail(f"{' '.join(cmd)} failed: {done.stderr.strip()}", pytrace=False)
    yield f"10.{third}.0.1"
    subprocess.run(["ip", "link", "del", name], capture_output=True)


def test_share_dialog_and_card(make_window: Any, qtbot: Any, lan_address: str,
                               session_images: dict[str, str]) -> None:
    window = make_window()
    service = window.service
    service.launch(service.prepare_launch("contributed", session_images["contributed"], "share-me"))
    qtbot.waitUntil(lambda: state_of(window, "share-me") == State.RUNNING, timeout=90000)
    card = card_named(window, "share-me")
    qtbot.waitUntil(lambda: getattr(card, "share_button", None) is not None and card.share_button.isVisible(),
                    timeout=10000)
    assert not card.share_line.isVisible()

    qtbot.mouseClick(card.share_button, Qt.MouseButton.LeftButton)
    dialog = window.sharing.dialog
    assert dialog is not None and dialog.setup.isVisible() and not dialog.shared.isVisible()
    dialog.address.setCurrentText(lan_address)
    dialog.duration.setCurrentIndex(1)  # one hour
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    share = window.sharing.manager.get(card.session)
    assert share is not None and dialog.shared.isVisible(), dialog.error.text()
    assert dialog.link.text() == share.link and share.link.startswith(f"https://{lan_address}:")
    assert dialog.fingerprint.text() == share.fingerprint and len(share.fingerprint) == 95
    assert not dialog.qr.pixmap().isNull() and dialog.qr.pixmap().width() > 100
    assert dialog.until.text().startswith("Shared until ")
    qtbot.waitUntil(lambda: card.share_line.isVisible(), timeout=5000)
    assert card.share_line.text().startswith("Shared with other devices until ")
    screenshot(dialog, "share-dialog.png")
    screenshot(card, "share-card.png")

    old = share.link
    qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
    assert dialog.link.text() != old and dialog.link.text() == window.sharing.manager.get(card.session).link

    qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
    assert window.sharing.manager.get(card.session) is None and dialog.setup.isVisible()
    qtbot.waitUntil(lambda: not card.share_line.isVisible(), timeout=5000)
    dialog.close()
