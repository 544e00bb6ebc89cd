"""A platform host whose login is about to expire, has expired, or whose server stops answering, as the
dashboard shows it: a chip and a notice ahead of time, then a clear "host unreachable" that says what
to do, while this computer's own host keeps working.

The platform is the project's own Skaha API server (tests/platform_standin.py); its token is made a
JSON Web Token with the expiry each step needs, as CANFAR's OIDC tokens carry one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.settings import AppPaths, HostConfig

from ..platform_standin import jwt, start_standin, stop_standin
from .conftest import screenshot


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"  # no ~/.ssl proxy or ~/.canfar login of the machine's own user is found
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def chip(window: Any, name: str) -> str:
    button = window.dashboard.hosts.chips.get(name)
    return button.text() if button is not None else ""


def toast(window: Any, headline: str) -> Any:
    return next((t for t in window.messages.toasts if t.text == headline), None)


def test_login_expiring_expired_and_platform_gone(tmp_path: Path, docker_engine: object, make_window: Any,
                                                  qtbot: Any, paths: AppPaths) -> None:
    standin = start_standin(tmp_path / "platform")
    try:
        standin.use_token(paths, jwt(datetime.now(UTC) + timedelta(days=1)))
        window = make_window(hosts=[HostConfig(), standin.host()])
        store = window.store
        qtbot.waitUntil(lambda: store.loaded and not store.unreachable, timeout=30000)

        # A day left: the chip says so in amber and a notice says until when and how to renew.
        qtbot.waitUntil(lambda: "login expiring" in chip(window, "canfar"), timeout=30000)
        assert "login expiring" not in chip(window, "local")
        qtbot.waitUntil(lambda: toast(window, "Your login on “canfar” needs renewing") is not None, timeout=10000)
        notice = toast(window, "Your login on “canfar” needs renewing")
        assert "valid until" in notice.hint and "left" in notice.hint
        assert "valid until" in window.dashboard.hosts.chips["canfar"].toolTip()
        screenshot(window, "platform-login-expiring.png")

        # Expired: the host is unreachable with a sentence that says so and what to do; local keeps working.
        standin.use_token(paths, jwt(datetime.now(UTC) - timedelta(hours=1)))
        store.retry("canfar")
        qtbot.waitUntil(lambda: "canfar" in store.unreachable, timeout=30000)
        err = store.unreachable["canfar"]
        assert err.message.startswith("Your CANFAR login has expired") and "expired on" in err.message
        assert err.hint, "the message says how to renew the login"
        assert "Traceback" not in err.message + err.hint
        qtbot.waitUntil(lambda: "unreachable" in chip(window, "canfar"), timeout=10000)
        assert "unreachable" not in chip(window, "local") and "local" not in store.unreachable
        qtbot.waitUntil(lambda: window.banner.isVisible() and "canfar" in window.banner.title.text(), timeout=10000)
        assert "Cannot reach the science platform “canfar”" in window.banner.title.text()
        assert "Docker" not in window.banner.title.text() + window.banner.hint.text()
        assert toast(window, "Your login on “canfar” needs renewing") is None, "the banner says more now"
        screenshot(window, "platform-login-expired.png")

        # Renewed: back by itself once the chip (or banner) is clicked to retry.
        standin.use_token(paths, jwt(datetime.now(UTC) + timedelta(days=30)))
        store.retry("canfar")
        qtbot.waitUntil(lambda: "canfar" not in store.unreachable and "ms" in chip(window, "canfar"), timeout=30000)
        assert "login expiring" not in chip(window, "canfar")
        assert toast(window, "Your login on “canfar” needs renewing") is None
        assert "Hosts local: connected" in window.status.host_label.text()

        # The platform stops answering: "host unreachable" like any host, the local host unaffected.
        stop_standin(standin)
        store.retry("canfar")
        qtbot.waitUntil(lambda: "canfar" in store.unreachable, timeout=60000)
        gone = store.unreachable["canfar"]
        assert "canfar" in gone.message or "127.0.0.1" in gone.message, gone.message
        assert gone.hint
        qtbot.waitUntil(lambda: "unreachable" in chip(window, "canfar"), timeout=10000)
        assert "local" not in store.unreachable and "ms" in chip(window, "local")
        screenshot(window, "platform-unreachable.png")
    finally:
        if standin.proc.poll() is None:
            stop_standin(standin)
        standin.delete_all()
