"""Where the app's folders are: the XDG rule on Linux, the same folders platformdirs names."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from canfar_desktop.core.paths import APP_NAME, AppPaths


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is the Linux one")
@pytest.mark.parametrize("xdg", [
    {},
    {"XDG_CONFIG_HOME": "/tmp/xc", "XDG_DATA_HOME": "/tmp/xd", "XDG_STATE_HOME": "/tmp/xs"},
    {"XDG_CONFIG_HOME": "  ", "XDG_DATA_HOME": "", "XDG_STATE_HOME": "/tmp/only-state"},
])
def test_linux_folders_match_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          xdg: dict[str, str]) -> None:
    monkeypatch.delenv("CANFAR_DESKTOP_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in xdg.items():
        monkeypatch.setenv(name, value)
    paths = AppPaths.default()
    assert paths == AppPaths(platformdirs.user_config_path(APP_NAME), platformdirs.user_data_path(APP_NAME),
                             platformdirs.user_state_path(APP_NAME))
    if not xdg:
        assert paths.config_dir == tmp_path / ".config" / APP_NAME


def test_canfar_desktop_home_holds_everything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CANFAR_DESKTOP_HOME", str(tmp_path))
    assert AppPaths.default() == AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "state")
