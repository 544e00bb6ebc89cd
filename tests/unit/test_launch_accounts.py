"""The session's account files as bind mounts for this computer's engine: made from the image's cached
files, read-only, world-readable, named by their content and never rewritten; and the launch's other
helpers (the recent-launch save beside the wait, the wait's faster first polls)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from canfar_desktop.core.accounts import account_files, account_mounts, image_accounts
from canfar_desktop.core.beside import Beside
from canfar_desktop.core.paths import AppPaths
from canfar_desktop.core.projects import Project
from canfar_desktop.core.settings import Settings

PASSWD = b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"
GROUP = b"root:x:0:\nusers:x:100:\n"


class ImageFiles:
    """A created container whose image has a passwd and a group file; counts the reads."""

    def __init__(self) -> None:
        self.reads = 0

    def read_file(self, container_id: str, path: str) -> bytes | None:
        self.reads += 1
        return {"/etc/passwd": PASSWD, "/etc/group": GROUP}.get(path)


@pytest.fixture
def app(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "s")


def settings() -> Settings:
    return Settings(user="alice", uid=61001, gid=61001)


def test_no_mounts_until_the_images_files_were_read(app: AppPaths) -> None:
    assert account_mounts(app, settings(), "sha256:abc") is None, "the first launch of an image uploads them"
    host = ImageFiles()
    image_accounts(host, app, "c1", "sha256:abc")  # type: ignore[arg-type]
    assert host.reads == 2
    assert account_mounts(app, settings(), "sha256:abc") is not None
    assert account_mounts(app, settings(), "sha256:other") is None, "another image: read again"


def test_mounts_are_read_only_files_with_the_users_account(app: AppPaths) -> None:
    image_accounts(ImageFiles(), app, "c1", "sha256:abc")  # type: ignore[arg-type]
    projects = [Project("survey", 70001, ("alice", "bob"))]
    mounts = account_mounts(app, settings(), "sha256:abc", projects)
    assert mounts is not None
    assert sorted(m.target for m in mounts) == ["/etc/group", "/etc/passwd"]
    assert all(m.type == "bind" and m.read_only for m in mounts)
    expected = account_files(PASSWD.decode(), GROUP.decode(), "alice", 61001, 61001, projects)
    for m in mounts:
        source = Path(m.source)
        assert source.read_bytes() == expected[m.target.rsplit("/", 1)[1]]
        assert stat.S_IMODE(source.stat().st_mode) == 0o644, "the session's uid reads it, whoever runs the app"
        assert app.state_dir in source.parents


def test_same_contents_same_file_never_rewritten(app: AppPaths) -> None:
    image_accounts(ImageFiles(), app, "c1", "sha256:abc")  # type: ignore[arg-type]
    first = account_mounts(app, settings(), "sha256:abc")
    assert first is not None
    before = {m.source: os.stat(m.source).st_ino for m in first}
    again = account_mounts(app, settings(), "sha256:abc")
    assert again == first
    assert {m.source: os.stat(m.source).st_ino for m in again} == before, "a mounted file is never replaced"
    other = account_mounts(app, Settings(user="bob", uid=61002, gid=61002), "sha256:abc")
    assert other is not None and {m.source for m in other}.isdisjoint(before), "other contents, other files"


def test_a_state_folder_that_cannot_be_written_falls_back_to_the_upload(app: AppPaths) -> None:
    image_accounts(ImageFiles(), app, "c1", "sha256:abc")  # type: ignore[arg-type]
    (app.state_dir / "accounts" / "files").write_text("not a folder")
    assert account_mounts(app, settings(), "sha256:abc") is None


def test_beside_raises_in_the_caller_what_its_call_raised() -> None:
    done: list[str] = []
    Beside(done.append, "saved").join()
    assert done == ["saved"]

    def fails() -> None:
        raise OSError("disk full")

    beside = Beside(fails)
    with pytest.raises(OSError, match="disk full"):
        beside.join()


def test_the_first_seconds_of_a_wait_are_polled_faster() -> None:
    from canfar_desktop.core.launch import ENGINE_CHECK_S, FAST_POLL_FOR_S, FAST_POLL_S, poll_pause

    assert FAST_POLL_S <= 0.02, "Jupyter's answer is seen within ~20 ms, not the 100 ms of a hand-written loop"
    assert FAST_POLL_S < ENGINE_CHECK_S <= 0.1, "the engine is asked less often, and a death is still seen at once"
    assert poll_pause(0.0, 0.05) == FAST_POLL_S
    assert poll_pause(FAST_POLL_FOR_S - 0.01, 0.05) == FAST_POLL_S
    assert poll_pause(FAST_POLL_FOR_S, 0.05) == 0.05, "then the caller's pace"
    assert poll_pause(0.0, 0.01) == 0.01, "a caller asking for faster polls gets them"


def test_a_file_that_lost_its_contents_is_replaced_not_mounted(app: AppPaths) -> None:
    image_accounts(ImageFiles(), app, "c1", "sha256:abc")  # type: ignore[arg-type]
    first = account_mounts(app, settings(), "sha256:abc")
    assert first is not None
    passwd = next(Path(m.source) for m in first if m.target == "/etc/passwd")
    good = passwd.read_bytes()
    passwd.write_bytes(b"root2:x:0:0::/:/bin/sh\n")
    again = account_mounts(app, settings(), "sha256:abc")
    assert again == first and passwd.read_bytes() == good
