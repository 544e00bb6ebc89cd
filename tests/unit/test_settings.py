from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _read_in_a_fresh_process(paths: AppPaths) -> tuple[str, bool]:
    """(the theme read, whether pydantic was imported to read it and save a change) in a new interpreter."""
    code = ("import sys\nfrom canfar_desktop.core.record import replace\n"
            "from canfar_desktop.core.settings import AppPaths, load_settings, save_settings\n"
            "s, warning = load_settings(AppPaths.default())\nassert warning is None, warning\n"
            "save_settings(AppPaths.default(), replace(s, session_limit=s.session_limit + 1), base=s)\n"
            "print(s.theme, 'pydantic' in sys.modules)")
    assert os.environ["CANFAR_DESKTOP_HOME"] == str(paths.config_dir.parent), "the child reads the test's settings"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    theme, checked = done.stdout.split()
    return theme, checked == "True"


def test_settings_already_checked_are_read_without_checking_again(paths: AppPaths) -> None:
    """Checking a file costs a short command most of its time: only bytes never checked are checked."""
    save_settings(paths, Settings(theme="dark"))
    assert _read_in_a_fresh_process(paths) == ("dark", False), "what the app wrote itself is known good"
    paths.settings_file.write_text(paths.settings_file.read_text().replace('"dark"', '"light"'))
    assert _read_in_a_fresh_process(paths) == ("light", True), "an edited file is checked again"
    assert _read_in_a_fresh_process(paths) == ("light", False), "and then known good"
    assert load_settings(paths)[0].session_limit == 3 + 3, "each child saved its change without checking again"


def test_an_edited_file_is_checked_even_beside_a_good_copy(paths: AppPaths) -> None:
    save_settings(paths, Settings(session_limit=5))
    assert json.loads(paths.checked_settings_file.read_text())["settings"]["session_limit"] == 5
    paths.settings_file.write_text(paths.settings_file.read_text().replace('"session_limit": 5', '"session_limit": 0'))
    settings, warning = load_settings(paths)
    assert warning is not None and "session_limit: must be at least 1" in warning and settings.session_limit == 3


def test_a_copy_checked_by_another_version_is_not_trusted(paths: AppPaths) -> None:
    save_settings(paths, Settings(session_limit=5))
    kept = json.loads(paths.checked_settings_file.read_text())
    kept["version"], kept["settings"]["session_limit"] = "0.0.1/1", 7
    paths.checked_settings_file.write_text(json.dumps(kept))
    assert load_settings(paths)[0].session_limit == 5
    kept["version"] = json.loads(paths.checked_settings_file.read_text())["version"]
    kept["settings"]["hosts"] = "not a list"
    paths.checked_settings_file.write_text(json.dumps(kept))
    assert load_settings(paths)[0].session_limit == 5, "an unreadable copy means checking the file again"
