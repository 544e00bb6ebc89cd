"""The canfar client's habits in canfar-desktop's command line: unknown verbs, version, YAML, prune's
defaults, replicas, --debug; and the cost of importing the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from canfar_desktop import __version__, cli
from canfar_desktop.cli.create import check_replicas, replica_names
from canfar_desktop.cli.output import to_yaml
from canfar_desktop.cli.parser import VERBS, build_parser
from canfar_desktop.cli.prune import criteria
from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.housekeeping import name_pattern
from canfar_desktop.core.lifecycle import State

REPO = Path(__file__).resolve().parents[2]
CANFAR_PYTHON = REPO / ".venv-canfar" / "bin" / "python"  # has PyYAML, a real YAML reader to check ours with


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m canfar_desktop ARGS` as a person runs it, without a display (so the app could not start)."""
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run([sys.executable, "-m", "canfar_desktop", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**base, **(env or {})}, stdin=subprocess.DEVNULL)


def test_importing_the_cli_loads_no_engine_client_nor_server() -> None:
    code = ("import sys, canfar_desktop.cli\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('docker', 'starlette', 'uvicorn', 'requests', 'paramiko', 'PySide6', 'pydantic'))\n"
            "print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported on `import canfar_desktop.cli`: {done.stdout}"


@pytest.mark.parametrize(("argv", "hint"), [
    (["lsit"], "did you mean `list`"),
    (["crate", "notebook"], "did you mean `create`"),
    (["login"], "no login"),
    (["data", "ls"], "canfar-desktop cp"),
    (["frobnicate"], "canfar-desktop --help lists every command"),
])
def test_unknown_verbs_are_errors_with_a_hint_and_never_the_app(argv: list[str], hint: str) -> None:
    done = run_cli(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {argv[0]!r} is not a canfar-desktop command: ")
    assert hint in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "qt" not in done.stderr.lower()


def test_unknown_option_is_a_cli_error_not_the_app() -> None:
    done = run_cli("ps", "--frobnicate")
    assert done.returncode == 2 and "unrecognized arguments: --frobnicate" in done.stderr


def test_version_prints_the_version_first() -> None:
    done = run_cli("version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"canfar-desktop {__version__}"
    as_json = json.loads(run_cli("version", "-o", "json").stdout)
    assert as_json["version"] == __version__ and as_json["python"]
    assert run_cli("--version").stdout.strip() == f"canfar-desktop {__version__}"


def test_debug_is_accepted_before_and_after_the_verb(tmp_path: Path) -> None:
    for argv in (["--debug", "config", "path"], ["config", "path", "--debug"]):
        done = run_cli(*argv, env={"CANFAR_DESKTOP_HOME": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(tmp_path / "config" / "settings.json")
        assert "debug:" in done.stderr and "finished in" in done.stderr
    quiet = run_cli("config", "path", env={"CANFAR_DESKTOP_HOME": str(tmp_path)})
    assert quiet.stderr == ""


def test_debug_with_create_keeps_the_command_after_double_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake(ctx: object, args: object) -> int:
        seen["cmd"] = args.cmd  # type: ignore[attr-defined]
        seen["debug"] = args.debug  # type: ignore[attr-defined]
        return 0

    monkeypatch.setitem(cli.HANDLERS, "create", fake)
    assert cli.run(["create", "headless", "img", "--debug", "--", "echo", "--debug"]) == 0
    assert seen == {"cmd": ["echo", "--debug"], "debug": True}


# --- YAML --------------------------------------------------------------------------------------

TRICKY = {
    "plain": "notebook", "empty": "", "yes": "yes", "no": "No", "null": "null", "tilde": "~",
    "number": "0123", "float": "1.5", "version": "0.1.0", "date": "2026-11-28T15:20:01+00:00",
    "colon": "a: b", "hash": "x #y", "dash": "-x", "quote": "it's \"q\"", "newline": "a\nb",
    "unicode": "Ångström ✓", "braces": "{x}", "star": "*x", "space": " lead", "trail": "trail ",
    "list": [1, 2.5, True, None, "x", [], {}, ["nested", {"k": "v"}]],
    "dict": {"inner": {"deeper": [{"a": 1, "b": [1, 2]}]}, "empty": {}},
    "int": 7, "negative": -3, "bool": False, "none": None, "url": "http://127.0.0.1:8888/lab?token=abc",
}


def test_yaml_is_read_back_as_the_same_data_by_a_real_yaml_reader() -> None:
    if not CANFAR_PYTHON.exists():
        pytest.fail(f"{CANFAR_PYTHON} is missing (it has PyYAML to check our YAML); run ./scripts/setup.sh",
                    pytrace=False)
    for data in (TRICKY, [TRICKY, {"x": 1}], [], {}, "just text", [[1, [2, [3]]]]):
        text = to_yaml(data)
        done = subprocess.run([str(CANFAR_PYTHON), "-c", "import sys, json, yaml; "
                               "print(json.dumps(yaml.safe_load(sys.stdin.read())))"],
                              input=text, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{done.stderr}\n--- our YAML:\n{text}"
        assert json.loads(done.stdout) == data, text


def test_yaml_reads_like_yaml() -> None:
    assert to_yaml([{"id": "abc", "resources": {"cores": 2}, "oom_kills": []}]) == (
        "- id: abc\n  resources:\n    cores: 2\n  oom_kills: []\n")


# --- prune's defaults and matching ---------------------------------------------------------------

def test_prune_defaults_are_the_clients() -> None:
    assert criteria(None, None) == ("headless", State.TERMINATED)
    assert criteria("notebook", None) == ("notebook", State.TERMINATED)
    assert criteria("notebook", "Running") == ("notebook", State.RUNNING)
    assert criteria("any", "any") == (None, None)
    assert criteria("contributed", "Succeeded") == ("contributed", State.TERMINATED)
    assert criteria("Failed", None) == ("headless", State.FAILED)  # a state in the kind's place
    with pytest.raises(ValidationError, match="Unknown session kind 'jupyter'"):
        criteria("jupyter", None)
    with pytest.raises(ValidationError, match="is a state, not a kind"):
        criteria("Failed", "Running")


def test_prune_prefix_is_literal_unless_it_is_a_regex() -> None:
    assert name_pattern("job").search("job-1") and not name_pattern("job").search("myjob")
    assert name_pattern("job-\\d$").search("job-3") and not name_pattern("job-\\d$").search("job-33")
    assert name_pattern("desktop$").search("my-desktop")
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        name_pattern("job[")


# --- replicas ------------------------------------------------------------------------------------

def test_replica_names() -> None:
    assert replica_names("fit", 1) == ["fit"]
    assert replica_names("fit", 3) == ["fit-1", "fit-2", "fit-3"]


def test_replica_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from canfar_desktop.cli.context import Context

    ctx = Context()
    with pytest.raises(ValidationError, match="out of range"):
        check_replicas(ctx, "headless", 0, [])
    with pytest.raises(ValidationError, match="set by --replicas"):
        check_replicas(ctx, "headless", 2, ["REPLICA_ID=9"])
    with pytest.raises(ValidationError, match="more than the limit of 3 active sessions"):
        check_replicas(ctx, "notebook", 4, [])
    check_replicas(ctx, "headless", 40, [])  # batch jobs hold no slot


def test_replicas_refuse_a_fixed_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["create", "contributed", "img", "-r", "2", "-p", "8000"]) == 2
    assert "--port cannot be given with --replicas" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["ps", "-a", "-k", "notebook", "-o", "json"], ["list", "-q"],
    ["create", "headless", "img:1", "-n", "job", "-c", "2", "-m", "4", "--wait", "-e", "A=1"],
    ["info", "abc", "--show-secret"], ["renew", "abc", "def"], ["events", "abc"], ["open", "abc", "--print"],
    ["logs", "abc", "-f", "-n", "5"], ["delete", "abc", "-f"], ["prune", "job", "headless", "Completed", "-f"],
    ["stats", "-o", "yaml"], ["image", "pull", "img:1", "--host", "big"], ["image", "ls", "-k", "desktop"],
    ["doctor", "abc", "--report"], ["config", "set", "theme", "dark"], ["hosts", "add", "big", "ssh://me@big"],
    ["api", "--port", "0"], ["version", "-o", "json"], ["cp", "a", "abc:/b", "-q"],
    ["project", "add-member", "p", "u"], ["share", "abc", "--for", "2h"],
])
def test_a_verb_parses_the_same_with_only_its_own_parser(argv: list[str]) -> None:
    """Only the verb being run gets its parser built (the others cost every command ~10 ms); nothing else changes."""
    assert vars(build_parser(argv[0]).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_every_verb_has_a_sample_above() -> None:
    sampled = {"ps", "list", "create", "info", "renew", "events", "open", "logs", "delete", "prune", "stats",
               "image", "doctor", "config", "hosts", "api", "version", "cp", "project", "share"}
    assert sampled == set(VERBS)
