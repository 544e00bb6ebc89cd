"""CLI parsing and its promise: every failure is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from canfar_desktop import cli


def test_verbs_route_to_cli_and_nothing_opens_the_app() -> None:
    from canfar_desktop.__main__ import is_cli_invocation

    assert is_cli_invocation(["ps"]) and is_cli_invocation(["--version"])
    assert is_cli_invocation(["data", "ls"]), "an unknown verb is the CLI's to refuse, never the app's"
    assert not is_cli_invocation([]) and not is_cli_invocation(["--self-test"])
    assert not is_cli_invocation(["--minimized"])


def test_a_command_collects_less_and_not_at_exit() -> None:
    """The program's entry tunes the collector for a short life; in-process callers of cli.run are left
    alone (run in a fresh interpreter: the test's own must not be frozen)."""
    import subprocess
    import sys

    probe = ("import gc, sys; from canfar_desktop.__main__ import main; from canfar_desktop.cli import run; "
             "run(['version']); print(gc.get_threshold()[0], gc.get_freeze_count(), file=sys.stderr); "
             "main(['version']); print(gc.get_threshold()[0], gc.get_freeze_count() > 0, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["700", "0", "10000", "True"], done.stderr


def test_ps_flags() -> None:
    args = cli.build_parser().parse_args(["list", "-a", "-q", "-k", "notebook", "-s", "Running", "-o", "json"])
    assert (args.verb, args.all, args.quiet, args.kind, args.status, args.output) == (
        "list", True, True, "notebook", "Running", "json")


def test_create_flags() -> None:
    args = cli.build_parser().parse_args(
        ["create", "notebook", "skaha/astroml", "-n", "x", "-c", "2", "-m", "8", "-g", "1", "-e", "A=1", "-e", "B=2",
         "--dry-run", "--wait", "-o", "json"])
    assert args.kind == "notebook" and args.image == "skaha/astroml" and args.name == "x"
    assert args.cpu == 2 and args.memory == "8" and args.gpu == 1 and args.env == ["A=1", "B=2"]
    assert args.dry_run and args.wait and args.output == "json"


def test_command_after_double_dash_is_kept_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake(ctx: object, args: object) -> int:
        seen["cmd"] = args.cmd  # type: ignore[attr-defined]
        seen["wait"] = args.wait  # type: ignore[attr-defined]
        return 0

    monkeypatch.setitem(cli.HANDLERS, "create", fake)
    assert cli.run(["create", "contributed", "img", "--wait", "--", "python3", "-m", "http.server", "--wait"]) == 0
    assert seen == {"cmd": ["python3", "-m", "http.server", "--wait"], "wait": True}


@pytest.mark.parametrize(("argv", "code", "text"), [
    (["create", "jupyter"], 2, "Unknown session kind 'jupyter'"),
    (["ps", "-s", "sleeping"], 2, "Unknown session state"),
    (["config", "set", "session_limit", "0"], 2, "Invalid value for session_limit"),
    (["config", "get", "nope"], 2, "Unknown setting"),
    (["hosts", "add", "big", "http://x"], 2, "not a Docker host URL"),
    (["hosts", "add", "big", "tcp://x:2376"], 2, "need TLS"),
])
def test_failures_are_one_line(argv: list[str], code: int, text: str, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert cli.run(argv) == code
    err = capsys.readouterr().err
    assert text in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unreachable_engine_is_one_clear_line(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert cli.run(["ps"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Docker is not running at unix:///nonexistent/docker.sock")
    assert "start" in err and len(err.splitlines()) == 1


def test_config_set_and_get(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["config", "set", "session_limit", "4"]) == 0
    assert capsys.readouterr().out == "session_limit = 4\n"
    assert cli.run(["config", "get", "session_limit"]) == 0
    assert capsys.readouterr().out == "4\n"
