"""No engine: the dashboard says so, offers Retry and the doctor's findings, and recovers by itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from canfar_desktop.core.settings import HostConfig

from .conftest import screenshot

DOCKER_SOCKET = Path("/var/run/docker.sock")


def test_unreachable_engine_banner_retry_and_recovery(make_window: Any, qtbot: Any, tmp_path: Path) -> None:
    socket = tmp_path / "engine.sock"  # nothing listens here yet
    window = make_window(hosts=[HostConfig(name="local", url=f"unix://{socket}")])
    banner = window.banner
    qtbot.waitUntil(banner.isVisible, timeout=15000)
    assert "Docker" in banner.title.text() and "local" in banner.title.text()
    assert banner.hint.text()
    qtbot.waitUntil(banner.findings.isVisible, timeout=15000)
    assert "Docker engine" in banner.findings.text()
    assert "unreachable" in window.status.host_label.text()
    assert window.dashboard.stack.currentWidget() is window.dashboard.unavailable
    assert banner.retry_button.accessibleName()
    screenshot(window, "engine-unreachable.png")

    qtbot.mouseClick(banner.retry_button, Qt.MouseButton.LeftButton)
    assert banner.status.text() == "Retrying…"
    qtbot.waitUntil(lambda: window.store.statuses.get("local") is not None, timeout=10000)
    assert banner.isVisible()

    # The engine "comes back" at that address: the window notices without any click.
    socket.symlink_to(DOCKER_SOCKET)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=20000)
    assert "connected" in window.status.host_label.text()
    assert window.dashboard.stack.currentWidget() is window.dashboard.empty
