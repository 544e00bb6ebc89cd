"""Loose input that used to get through: each is refused with one line that names the field.

Names, users and groups that would break a session's volumes or accounts, settings that point at
nothing, the folder behind /arc, and resources and ports typed on the command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canfar_desktop import cli
from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.settings import AppPaths, HostConfig, Settings, check_arc_root
from canfar_desktop.core.settings_check import ValidationError as PydanticError
from canfar_desktop.core.settings_check import check, validation_message
from canfar_desktop.core.validation import make_resources, validate_name

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NON_ASCII_LETTERS = st.characters(min_codepoint=0x80, max_codepoint=0x2FFF).filter(str.isalpha)


def refused(**fields: object) -> str:
    """The one-line problem, the same whether the settings are built in code or checked from a file."""
    with pytest.raises(ValueError) as built:
        Settings(**fields)  # type: ignore[arg-type]
    with pytest.raises(PydanticError) as info:
        check(Settings, fields)
    line = validation_message(info.value)
    assert str(built.value).split(" (got ")[0] in line
    assert "\n" not in line and "errors.pydantic.dev" not in line
    return line


# --- the session user, uid and gid --------------------------------------------------------------

@FAST
@given(st.text(alphabet=st.sampled_from("abcxyz09_-"), max_size=10), NON_ASCII_LETTERS,
       st.text(alphabet=st.sampled_from("abc09"), max_size=10))
def test_non_ascii_user_names_are_refused(head: str, letter: str, tail: str) -> None:
    """A non-ASCII name makes invalid Docker volume names (canfar-arc-home-<user>)."""
    line = refused(user=f"a{head}{letter}{tail}")
    assert line.startswith("user: ") and "ASCII" in line


@pytest.mark.parametrize("name", ["root", "Root", "daemon", "nobody"])
def test_system_account_names_are_refused(name: str) -> None:
    """`root` would replace root's own line in the session's /etc/passwd."""
    assert refused(user=name).startswith(f"user: {name!r} is a system account")


@pytest.mark.parametrize(("field", "value"), [("gid", 0), ("gid", -1), ("uid", 0)])
def test_root_ids_are_refused(field: str, value: int) -> None:
    """gid 0 dropped the container's root group line; sessions never run as root."""
    line = refused(**{field: value})
    assert line.startswith(f"{field}: ") and "must be at least 1" in line and f"(got {value})" in line


def test_a_default_host_that_is_not_configured_is_refused() -> None:
    assert "default_host 'big' is not a configured host" in refused(default_host="big")
    assert Settings(hosts=[HostConfig(), HostConfig(name="big", url="ssh://me@big")], default_host="big")


def test_host_names_are_ascii() -> None:
    with pytest.raises(ValueError, match="name: host names use letters"):
        HostConfig(name="büro")
    with pytest.raises(PydanticError):
        check(HostConfig, {"name": "büro"})


def test_as_root_sessions_get_an_id_no_account_has(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """uid 1000 may be an unrelated account on the host, which could then read the session's secret."""
    from canfar_desktop.core import settings as settings_module

    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
                      "svc:x:60001:60001::/:/bin/false\n")
    assert settings_module.unused_id(passwd) == 60002
    assert settings_module.unused_id(tmp_path / "missing") == settings_module.FREE_ID_FIRST
    monkeypatch.setattr(settings_module, "is_root", lambda: True)
    uid = Settings().uid
    taken = {int(line.split(":")[2]) for line in Path("/etc/passwd").read_text().splitlines() if line.count(":") >= 2}
    assert uid != 1000 and uid not in taken and uid > 60000
    assert Settings(uid=4242).uid == 4242, "a configured uid is used as given"


# --- arc_root -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "words"), [
    ("/", "root of the file system"),
    ("//", "root of the file system"),
    ("/tmp/..", "root of the file system"),
    ("../../etc", "not an absolute path"),
    ("arc", "not an absolute path"),
    ("~nosuchuser/x", "no user 'nosuchuser'"),
])
def test_arc_root_must_be_a_folder_of_its_own(value: str, words: str) -> None:
    line = refused(arc_root=value)
    assert line.startswith("arc_root: ") and words in line


def test_arc_root_never_inside_the_apps_folders(paths: AppPaths) -> None:
    """Orphan clean-up of the scratch folder once removed /arc/home and /arc/projects that lived in it."""
    for own in (paths.config_dir, paths.data_dir, paths.state_dir, paths.scratch_dir, paths.state_dir / "x" / ".."):
        assert "inside the app's own folder" in refused(arc_root=str(own))

def test_arc_root_never_holds_the_apps_folders(tmp_path: Path) -> None:
    """Nor the other way round: sessions would write into the app's state through /arc."""
    for shared in ("home", "projects"):
        app = AppPaths(tmp_path / shared / "c", tmp_path / shared / "d", tmp_path / shared / "s")
        with pytest.raises(ValueError, match=r"would put the app.s own folder .* inside /arc"):
            check_arc_root(str(tmp_path), app)
    beside = AppPaths(tmp_path / "app" / "c", tmp_path / "app" / "d", tmp_path / "app" / "s")
    assert check_arc_root(str(tmp_path), beside) == str(tmp_path), "folders beside /arc/home are not shared"


def test_good_arc_roots_are_kept_normalised(tmp_path: Path) -> None:
    assert Settings(arc_root=f"{tmp_path}/data/../arc/").arc_root == str(tmp_path / "arc")
    assert Settings(arc_root="~/CANFAR/arc").arc_folder() == Path.home() / "CANFAR" / "arc"
    assert Settings(arc_root="").arc_folder() == Path.home() / "CANFAR" / "arc"


# --- names and resources ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["-x", "---", "-", "a-", "-a-b"])
def test_names_with_a_dash_at_either_end_are_refused(name: str) -> None:
    """They are not hostnames, and `-x` reads like an option."""
    with pytest.raises(ValidationError, match="starts or ends with '-'"):
        validate_name(name)


@FAST
@given(st.from_regex(r"[A-Za-z0-9-]{1,32}", fullmatch=True))
def test_accepted_names_are_hostname_labels(name: str) -> None:
    try:
        validate_name(name)
    except ValidationError as exc:
        assert name.startswith("-") or name.endswith("-"), exc
        return
    assert not name.startswith("-") and not name.endswith("-")


@FAST
@given(st.integers(-10**6, 10**6))
def test_gpu_counts(gpus: int) -> None:
    try:
        assert make_resources(gpus=gpus).gpus == gpus
    except ValidationError as exc:
        assert not 0 <= gpus <= 28
        assert exc.message.startswith("Invalid resources: gpus: ") and f"(got {gpus})" in exc.message


# --- the command line ---------------------------------------------------------------------------

def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    try:
        code = cli.run(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err.strip()
    return code, err


IMAGE = "canfar-desktop/contributed:latest"


@pytest.mark.parametrize(("argv", "words"), [
    (["-g", "-1"], "gpus: must be at least 0 and at most 28 (got -1)"),
    (["-g", "99"], "gpus: must be at least 0 and at most 28 (got 99)"),
    (["-c", "2", "-g", "-1"], "gpus: "),
    (["-p", "80"], "Port 80 is out of range"),
    (["-p", "1023"], "Port 1023 is out of range"),
    (["-p", "70000"], "Port 70000 is out of range"),
    (["--name=-x"], "starts or ends with '-'"),
    (["--name=---"], "starts or ends with '-'"),
])
def test_create_refuses_bad_input_before_any_engine(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                                     words: str) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, err = run(capsys, ["create", "contributed", IMAGE, *argv])
    assert code == 2, err
    assert len(err.splitlines()) == 1 and words in err and "unexpected" not in err, err


@pytest.mark.parametrize(("key", "value", "words"), [
    ("user", "jürgen", "user: the user name starts with a letter"),
    ("user", "root", "user: 'root' is a system account"),
    ("gid", "0", "gid: must be at least 1 and at most 2147483647 (got 0)"),
    ("uid", "0", "uid: must be at least 1 and at most 2147483647 (got 0)"),
    ("default_host", "big", "default_host 'big' is not a configured host"),
    ("arc_root", "/", "arc_root: '/' is the root of the file system"),
    ("arc_root", "../../etc", "arc_root: '../../etc' is not an absolute path"),
    ("arc_root", "~nosuchuser/x", "arc_root: there is no user 'nosuchuser'"),
    ("session_limit", "many", "session_limit: Input should be a valid integer"),
])
def test_config_set_names_the_field_and_the_whole_first_error(capsys: pytest.CaptureFixture[str], paths: AppPaths,
                                                              key: str, value: str, words: str) -> None:
    code, err = run(capsys, ["config", "set", key, value])
    assert code == 2 and len(err.splitlines()) == 1, err
    assert words in err and "errors.pydantic.dev" not in err, err
    assert not paths.settings_file.exists(), "nothing was saved"


def test_the_default_host_cannot_be_removed_from_under_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, ["hosts", "add", "big", "ssh://me@big"])[0] == 0
    assert run(capsys, ["config", "set", "default_host", "big"])[0] == 0
    code, err = run(capsys, ["hosts", "remove", "big"])
    assert code == 2 and "is the default host" in err and len(err.splitlines()) == 1


def test_host_names_are_checked_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, ["hosts", "add", "b üro", "ssh://me@big"])
    assert code == 2 and "name: host names use letters" in err and len(err.splitlines()) == 1, err


def test_errors_are_one_line_whatever_the_model() -> None:
    with pytest.raises(PydanticError) as info:
        check(Settings, {"session_limit": "many", "theme": 3, "uid": "x"})
    line = validation_message(info.value)
    assert line.startswith("uid: ") or line.startswith("session_limit: ")
    assert "2 more problem(s)" in line and "\n" not in line
