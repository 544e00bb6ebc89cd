"""Fixtures shared by every test: each test gets its own app folders, so nothing touches the user's."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from canfar_desktop.core.settings import AppPaths, Settings

SESSION_IMAGES = {
    "notebook": "canfar-desktop/notebook:latest",
    "desktop": "canfar-desktop/desktop:latest",
    "contributed": "canfar-desktop/contributed:latest",
}
GATE_IMAGE = "canfar-desktop/gate:latest"  # in front of contributed and Firefly sessions (not a kind's)


@pytest.fixture(autouse=True)
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Redirect every folder the app writes (settings, state, profiles) into the test's tmp_path."""
    home = tmp_path / "app-home"
    monkeypatch.setenv("CANFAR_DESKTOP_HOME", str(home))
    return home


@pytest.fixture
def paths(app_home: Path) -> AppPaths:
    return AppPaths.default()


@pytest.fixture(scope="session")
def docker_engine() -> object:
    """The real engine; a test that needs it fails with a clear message when it is missing."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable engine
        pytest.fail(f"No Docker engine answers ({exc}); run ./scripts/setup.sh (or make test) first", pytrace=False)
    return client


@pytest.fixture(scope="session")
def session_images(docker_engine: object) -> dict[str, str]:
    import docker.errors

    missing = []
    for ref in (*SESSION_IMAGES.values(), GATE_IMAGE):
        try:
            docker_engine.images.get(ref)  # type: ignore[attr-defined]
        except docker.errors.ImageNotFound:
            missing.append(ref)
    if missing:
        pytest.fail(f"Session images missing: {', '.join(missing)}; build them with make images", pytrace=False)
    return dict(SESSION_IMAGES)


@pytest.fixture
def make_service(tmp_path: Path, paths: AppPaths, docker_engine: object,
                 session_images: dict[str, str]) -> Iterator[Callable[..., object]]:
    """Build a SessionService with test settings; every session it made is deleted afterwards.

    Each test has its own user name, so the active-session limit only counts that test's sessions.
    """
    from canfar_desktop.core.service import SessionService

    user = "t" + secrets.token_hex(4)
    made: list[SessionService] = []

    def factory(**overrides: object) -> SessionService:
        values: dict[str, object] = {"user": user, "arc_root": str(tmp_path / "arc")}
        values.update(overrides)
        settings = Settings(**values)
        service = SessionService(settings, paths)
        made.append(service)
        return service

    yield factory
    for service in made:
        for name in service.host_names():
            try:
                for s in service.sessions(name, probe=False):
                    if s.owner == service.settings.user:
                        service.delete(s)
            except Exception:  # noqa: BLE001 - cleanup must not hide the test failure
                pass
        # close what the clean-up reopened while its hosts are still there: an SSH connection collected
        # later, through a ProxyCommand already gone, fails in whichever test runs then
        service.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "gui" in parts:
            item.add_marker(pytest.mark.gui)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
