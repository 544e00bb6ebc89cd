"""Project groups as data: the registry's format, names, group ids, and the /etc/group lines sessions get."""

from __future__ import annotations

from pathlib import Path

import pytest

from canfar_desktop.core.accounts import account_files
from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.projects import Project, check_name, free_gid, parse, render


def test_registry_round_trip_and_bad_lines_left_out() -> None:
    text = "survey:x:70001:alice,bob\nbroken line\nBAD:x:1:a\nvla:x:70002:\nsurvey:x:70009:eve\n"
    projects = parse(text)
    assert projects == [Project("survey", 70001, ("alice", "bob")), Project("vla", 70002, ())]
    assert parse(render(projects).decode()) == projects


def test_names() -> None:
    assert check_name("m31-survey") == "m31-survey"
    for bad in ("M31", "-x", "x", "a--b", "x" * 33, "a_b", "docker", "9lives"):
        with pytest.raises(ValidationError):
            check_name(bad)


def test_gids_skip_projects_and_this_computers_groups(tmp_path: Path) -> None:
    groups = tmp_path / "group"
    groups.write_text("staff:x:70002:\n")
    assert free_gid([Project("a", 70001, ())], groups) == 70003
    assert free_gid([], None) == 70001


def test_sessions_get_their_projects_named_in_etc_group() -> None:
    image_group = "root:x:0:\nusers:x:100:\nold:x:70001:\nsurvey:x:5000:\n"
    files = account_files("root:x:0:0:root:/root:/bin/bash\n", image_group, "alice", 61001, 61001,
                          [Project("survey", 70001, ("alice", "bob"))])
    lines = files["group"].decode().splitlines()
    assert lines == ["root:x:0:", "users:x:100:", "alice:x:61001:", "survey:x:70001:alice,bob"]
    assert files["passwd"].decode().splitlines()[-1] == "alice:x:61001:61001:alice:/arc/home/alice:/bin/bash"
