from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from canfar_desktop.core.autostart import autostart_file, desktop_entry, launch_command, set_autostart
from canfar_desktop.core.errors import SettingsError


def test_location_follows_xdg_config_home(tmp_path: Path) -> None:
    assert autostart_file({"XDG_CONFIG_HOME": str(tmp_path / "cfg")}) == \
        tmp_path / "cfg" / "autostart" / "net.canfar.Desktop.desktop"
    # Unset, empty or relative XDG_CONFIG_HOME means ~/.config (the specification ignores relative paths).
    for env in ({}, {"XDG_CONFIG_HOME": ""}, {"XDG_CONFIG_HOME": "relative/dir"}):
        assert autostart_file(env, home=tmp_path) == tmp_path / ".config" / "autostart" / "net.canfar.Desktop.desktop"


def test_entry_is_a_valid_desktop_file_that_starts_minimized(tmp_path: Path) -> None:
    command = ["/opt/CANFAR Desktop/bin/canfar-desktop", "--minimized"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(desktop_entry(command))
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "CANFAR Desktop"
    assert shlex.split(entry["Exec"]) == command  # quoted so the space survives
    assert entry["Exec"].endswith("--minimized")


def test_default_command_runs_this_installation_minimized() -> None:
    command = launch_command()
    assert command[-1] == "--minimized"
    assert Path(command[0]).name.startswith(("canfar-desktop", "python"))


def test_write_and_remove(tmp_path: Path) -> None:
    target = tmp_path / "autostart" / "net.canfar.Desktop.desktop"
    assert set_autostart(True, target, ["canfar-desktop", "--minimized"], platform="linux") == target
    assert "Exec=canfar-desktop --minimized" in target.read_text()
    assert not list(target.parent.glob(".*.tmp"))
    set_autostart(False, target, platform="linux")
    assert not target.exists()
    set_autostart(False, target, platform="linux")  # removing twice is fine


def test_other_systems_write_nothing(tmp_path: Path) -> None:
    target = tmp_path / "autostart" / "x.desktop"
    for platform in ("darwin", "win32"):
        assert set_autostart(True, target, platform=platform) is None
    assert not target.exists()


def test_unwritable_folder_says_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SettingsError) as info:
        set_autostart(True, blocker / "autostart" / "x.desktop", ["canfar-desktop"], platform="linux")
    assert "writable" in info.value.hint
