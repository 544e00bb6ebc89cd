"""Files whose loss loses work: the ledger of renewals and the settings, shared by every process.

Real files in a temporary folder; a second open file description stands in for another process
holding a lock (flock locks conflict between descriptions, as between processes).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from canfar_desktop.core import files
from canfar_desktop.core.errors import CanfarError
from canfar_desktop.core.ledger import Ledger
from canfar_desktop.core.platform import lock, unlock
from canfar_desktop.core.record import replace
from canfar_desktop.core.settings import AppPaths, LaunchChoice, Settings, load_settings, save_settings

RENEWED = "2030-01-01T00:00:00+00:00"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "state" / "ledger.json", lock_timeout=0.5)


# --- the ledger ---------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b'{"local": 3}',
                                     b'{"local": {"abc": {"expiry": 5}}}', b'{"local": {"abc": "x"}}'])
def test_a_corrupt_ledger_is_kept_aside_and_never_written_over(ledger: Ledger, content: bytes) -> None:
    ledger.path.parent.mkdir(parents=True)
    ledger.path.write_bytes(content)
    assert ledger.entries("local") == {}, "valid JSON of the wrong shape is read, not raised"
    aside = sorted(ledger.path.parent.glob("ledger.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content, "the damaged file is kept byte for byte"
    assert ledger.warning and str(aside[0]) in ledger.warning
    ledger.update("local", "new12345", expiry=RENEWED)
    assert aside[0].read_bytes() == content
    assert json.loads(ledger.path.read_text()) == {"local": {"new12345": {"expiry": RENEWED}}}


def test_what_is_valid_in_a_damaged_ledger_is_carried_over(ledger: Ledger) -> None:
    ledger.path.parent.mkdir(parents=True)
    ledger.path.write_text(json.dumps({"local": {"good1234": {"expiry": RENEWED, "opened": True},
                                                 "bad12345": {"expiry": "tomorrow"}},
                                       "big": ["not", "entries"]}))
    assert ledger.expiry("local", "good1234") is not None and ledger.entry("local", "good1234")["opened"] is True
    assert ledger.entries("local").keys() == {"good1234"} and ledger.entries("big") == {}
    assert "1 valid entry carried over" in str(ledger.warning)


def test_every_damaged_copy_gets_its_own_name(ledger: Ledger) -> None:
    """Two damaged files within the same second must not overwrite each other aside."""
    ledger.path.parent.mkdir(parents=True)
    for content in ("first", "second", "third"):
        ledger.path.write_text(content)
        ledger.entries("local")
    kept = sorted(p.read_text() for p in ledger.path.parent.glob("ledger.json.corrupt-*"))
    assert kept == ["first", "second", "third"]


def test_a_ledger_that_cannot_be_read_is_not_replaced(ledger: Ledger) -> None:
    """A read error is not an empty ledger: writing then would lose every renewal in it."""
    ledger.path.mkdir(parents=True)  # reading fails (a folder), as an unreadable file would
    with pytest.raises(CanfarError, match="Could not read the ledger"):
        ledger.update("local", "abc12345", expiry=RENEWED)
    with pytest.raises(CanfarError, match="Could not read the ledger"):
        ledger.entries("local")
    assert ledger.path.is_dir()


def test_forget_drops_sessions_that_no_longer_exist(ledger: Ledger) -> None:
    for sid in ("keep1234", "gone1234", "gone5678"):
        ledger.update("local", sid, expiry=RENEWED)
    ledger.update("big", "away1234", opened=True)
    assert sorted(ledger.forget("local", {"keep1234"})) == ["gone1234", "gone5678"]
    assert ledger.forget("local", {"keep1234"}) == []
    assert ledger.entries("local").keys() == {"keep1234"} and ledger.entries("big")
    assert ledger.forget_hosts(["local"]) == ["big"] and ledger.entries("big") == {}


def test_state_folder_and_locks_are_private(ledger: Ledger) -> None:
    ledger.path.parent.mkdir(parents=True, mode=0o755)
    ledger.path.parent.chmod(0o755)
    old_lock = ledger.path.with_name(".launch-local.lock")
    old_lock.write_text("")
    old_lock.chmod(0o644)
    ledger.update("local", "abc12345", expiry=RENEWED)
    with ledger.locked("launch-local"), ledger.hold("launching-abc12345"):
        assert mode(ledger.path.with_name(".launching-abc12345.lock")) == 0o600
    assert mode(ledger.path.parent) == 0o700
    assert {p.name: mode(p) for p in ledger.path.parent.iterdir()} == {
        "ledger.json": 0o600, ".ledger.lock": 0o600, ".launch-local.lock": 0o600}


def test_a_lock_held_elsewhere_times_out_with_a_clear_message(ledger: Ledger) -> None:
    ledger.update("local", "abc12345", expiry=RENEWED)
    lock_file = ledger.path.with_name(".launch-local.lock")
    lock_file.touch()
    with open(lock_file) as other:  # another open description: another process, as far as flock knows
        assert lock(other)
        try:
            with pytest.raises(CanfarError) as info, ledger.locked("launch-local"):
                pass
        finally:
            unlock(other)
    assert "has held the lock" in info.value.message and str(lock_file) in info.value.message
    assert "stop that process" in info.value.hint
    with ledger.locked("launch-local"):
        pass


# --- the settings -------------------------------------------------------------------------------

def test_saving_keeps_what_another_process_changed(paths: AppPaths) -> None:
    """The app read the settings at start; the CLI changed others since; the app saves a launch choice."""
    app, _ = load_settings(paths)
    cli_side, _ = load_settings(paths)
    cli_side.session_limit = 7
    cli_side.theme = "dark"
    save_settings(paths, cli_side)

    app.last_choices["notebook"] = LaunchChoice(image="canfar-desktop/notebook:latest")
    now = save_settings(paths, app)
    on_disk = json.loads(paths.settings_file.read_text())
    assert on_disk["session_limit"] == 7 and on_disk["theme"] == "dark", "the CLI's change was reverted"
    assert on_disk["last_choices"]["notebook"]["image"] == "canfar-desktop/notebook:latest"
    assert now.session_limit == 7 and "notebook" in now.last_choices

    # per-kind choices merge too, and a second save of the same object writes only its new change
    cli_side.last_choices["desktop"] = LaunchChoice(image="canfar-desktop/desktop:latest")
    save_settings(paths, cli_side)
    app.theme = "light"
    save_settings(paths, app)
    final, warning = load_settings(paths)
    assert warning is None and final.theme == "light" and final.session_limit == 7
    assert set(final.last_choices) == {"notebook", "desktop"}


def test_a_changed_copy_saves_against_its_base(paths: AppPaths) -> None:
    """A dialog edits a copy of the settings: only what differs from the copy's base is written."""
    base, _ = load_settings(paths)
    other, _ = load_settings(paths)
    other.session_limit = 9
    save_settings(paths, other)
    edited = replace(base, theme="dark")
    save_settings(paths, edited, base=base)
    final, _ = load_settings(paths)
    assert final.theme == "dark" and final.session_limit == 9


def test_corrupt_settings_files_never_overwrite_each_other_aside(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    for content in ("{one", "{two", "[3]"):
        paths.settings_file.write_text(content)
        settings, warning = load_settings(paths)
        assert warning is not None and "moved to" in warning and settings.session_limit == 3
    kept = sorted(p.read_text() for p in paths.config_dir.glob("settings.json.corrupt-*"))
    assert kept == ["[3]", "{one", "{two"]


def test_saving_syncs_the_folder(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rename is durable only once the folder itself is synced."""
    synced: list[bool] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", spy)
    save_settings(paths, Settings(theme="dark"))
    assert synced == [False, True], "the file, then its folder"
    assert mode(paths.settings_file) == 0o600
