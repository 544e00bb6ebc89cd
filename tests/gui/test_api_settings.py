"""Settings › CANFAR API: the background server follows the setting, the token is shown, copied and rotated."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from canfar_desktop.core.record import replace
from canfar_desktop.core.settings import AppPaths

from .conftest import SCREENSHOTS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_background_api_follows_the_setting(qtbot: Any, make_service: Callable[..., Any], paths: AppPaths) -> None:
    from PySide6.QtGui import QGuiApplication

    from canfar_desktop.ui.api_settings import ApiController, ApiSection

    service = make_service()
    controller = ApiController(service, paths)
    section = ApiSection(service.settings, paths, controller)
    qtbot.addWidget(section)
    section.resize(760, 260)
    section.show()
    assert "off" in section.address.text() and controller.url is None

    port = free_port()
    section.enabled.setChecked(True)
    section.port.setValue(port)
    on = replace(service.settings, **section.values())
    section.saved(on)  # what the dialog's Save does after writing the settings
    url = f"http://127.0.0.1:{port}/skaha/v1"
    assert controller.url == url and "serving" in section.address.text()
    token = section.token.text()
    assert len(token) >= 43 and section.token.echoMode() != section.token.EchoMode.Normal
    assert get(url + "/context", token) == 200
    assert get(url + "/context", "wrong") == 401

    section.copy.click()
    assert QGuiApplication.clipboard().text() == f"export CANFAR_URL={url}\nexport CANFAR_TOKEN={token}\n"
    section.show_token.click()
    assert section.token.echoMode() == section.token.EchoMode.Normal
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.grab().save(str(SCREENSHOTS / "settings-api.png"))

    section.rotate.click()
    new = section.token.text()
    assert new != token and get(url + "/context", token) == 401 and get(url + "/context", new) == 200

    section.enabled.setChecked(False)
    section.saved(replace(on, **section.values()))
    assert controller.url is None and "off" in section.address.text()
    try:
        code = get(url + "/context", new)
    except urllib.error.URLError:
        code = 0
    assert code == 0  # nothing listens any more
