from __future__ import annotations

import json
from pathlib import Path

import pytest

from canfar_desktop.core.errors import SettingsError
from canfar_desktop.core.settings import AppPaths, Settings, load_settings, save_settings


def test_defaults_follow_canfar(paths: AppPaths) -> None:
    settings, warning = load_settings(paths)
    assert warning is None
    assert settings.session_limit == 3 and settings.session_lifetime_hours == 96
    assert settings.uid != 0, "sessions never run as root"
    assert settings.host().name == "local"


def test_round_trip_is_atomic(paths: AppPaths) -> None:
    settings = Settings(session_limit=5, theme="dark")
    save_settings(paths, settings)
    loaded, warning = load_settings(paths)
    assert warning is None and loaded.session_limit == 5 and loaded.theme == "dark"
    leftovers = [p.name for p in paths.config_dir.iterdir() if p.name not in ("settings.json", ".settings.lock")]
    assert leftovers == [], "no temporary files left behind"


@pytest.mark.parametrize("content", ["{not json", "[]", json.dumps({"session_limit": "many"}),
                                     json.dumps({"schema_version": 99})])
def test_corrupt_file_is_moved_aside_and_reported(paths: AppPaths, content: str) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(content)
    settings, warning = load_settings(paths)
    assert warning is not None and "moved to" in warning
    assert settings.session_limit == 3
    aside = list(paths.config_dir.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == content, "the user's file is kept, not lost"


def test_unwritable_location_gives_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    paths = AppPaths(blocker / "config", blocker / "data", blocker / "state")
    with pytest.raises(SettingsError) as info:
        save_settings(paths, Settings())
    assert "Could not save" in info.value.message and "writable" in info.value.hint


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError):
        Settings(session_limit=0)
    with pytest.raises(ValueError):
        Settings(user="root user")
    with pytest.raises(ValueError):
        Settings(uid=0)


def test_unknown_host_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="No Docker host named 'big'"):
        Settings().host("big")


def test_cli_says_so_in_one_warning_line_and_goes_on(paths: AppPaths, app_home: Path) -> None:
    """The real command line on a corrupt file: one warning line on stderr, the file kept aside, defaults used."""
    import os
    import subprocess
    import sys

    paths.config_dir.mkdir(parents=True)
    corrupt = b'{"session_limit": 5, "theme": \xff'
    paths.settings_file.write_bytes(corrupt)
    done = subprocess.run([sys.executable, "-m", "canfar_desktop", "config", "show"], capture_output=True, text=True,
                          env={**os.environ, "CANFAR_DESKTOP_HOME": str(app_home)}, timeout=60)
    assert done.returncode == 0
    [aside] = paths.config_dir.glob("settings.json.corrupt-*")
    assert aside.read_bytes() == corrupt and not paths.settings_file.exists()
    warning = done.stderr.splitlines()
    assert len(warning) == 1, done.stderr
    assert warning[0].startswith("warning: The settings file was unreadable (")
    assert warning[0].endswith(f"; it was moved to {aside} and defaults are in use")
    assert json.loads(done.stdout)["session_limit"] == 3, "defaults are in use"
    again = subprocess.run([sys.executable, "-m", "canfar_desktop", "config", "show"], capture_output=True, text=True,
                           env={**os.environ, "CANFAR_DESKTOP_HOME": str(app_home)}, timeout=60)
    assert again.stderr == "", "said once: the next run finds no corrupt file"
