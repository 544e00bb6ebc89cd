"""Bad input through the real parsers: only clear errors come out, never tracebacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canfar_desktop import cli
from canfar_desktop.core.errors import CanfarError
from canfar_desktop.core.kinds import KINDS
from canfar_desktop.core.plan import LaunchRequest, Mount, Storage, build_plan
from canfar_desktop.core.settings import AppPaths, Resources, load_settings
from canfar_desktop.core.validation import IMAGE_RE, normalize_image, parse_env, parse_size_gb, validate_name, validate_resources

STORAGE = Storage(Mount("/a/home", "/arc/home/ada"), Mount("/a/projects", "/arc/projects"), Mount("/s", "/scratch"))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def clear(exc: CanfarError) -> None:
    assert exc.message and exc.hint and "\n" not in exc.message and "Traceback" not in str(exc)


@FAST
@given(st.text(max_size=80))
def test_names(text: str) -> None:
    try:
        assert validate_name(text) == text
    except CanfarError as exc:
        clear(exc)


@FAST
@given(st.one_of(st.text(max_size=300), st.from_regex(r"[a-z0-9./:@_-]{1,80}", fullmatch=True)))
def test_image_references(text: str) -> None:
    try:
        ref = normalize_image(text)
    except CanfarError as exc:
        clear(exc)
        return
    match = IMAGE_RE.fullmatch(ref)
    assert match is not None and (match.group("tag") or match.group("digest")), f"{ref!r} names no tag or digest"
    assert normalize_image(ref) == ref, "normalising twice changes nothing"


@FAST
@given(st.lists(st.text(max_size=40), max_size=5))
def test_env_entries(entries: list[str]) -> None:
    try:
        env = parse_env(entries, reserved=("JUPYTER_TOKEN",))
    except CanfarError as exc:
        clear(exc)
        return
    assert all("=" in e for e in entries) and "JUPYTER_TOKEN" not in env


@FAST
@given(st.text(max_size=20))
def test_memory_sizes(text: str) -> None:
    try:
        assert parse_size_gb(text) > 0
    except CanfarError as exc:
        clear(exc)


# What a person may type after -c, -m and -g (argparse reads -c as a float and -g as an int).
CORES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 300)).map(repr)
MEMORY = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-5, 5000).map(str),
                   st.sampled_from(["16", "512M", "0.5G", "1T", "2tb", "0", "-1", "nan", "inf", "", "G", "1e400"]),
                   st.text(max_size=8))


def refused_fields(cores: str | None, memory: str | None, gpus: int) -> set[str]:
    """Which of the typed values the Resources model cannot hold, worked out independently of the CLI."""
    bad = set()
    if cores is not None and not 0 < float(cores) <= 256:  # NaN fails both comparisons
        bad.add("cores")
    if memory is not None:
        try:
            if not 0 < parse_size_gb(memory) <= 4096:
                bad.add("memory")
        except CanfarError:
            bad.add("memory")
    if not 0 <= gpus <= 28:
        bad.add("gpus")
    return bad


@FAST
@given(st.none() | CORES, st.none() | MEMORY, st.integers(-5, 40))
def test_resources_typed_on_the_command_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                             cores: str | None, memory: str | None, gpus: int) -> None:
    """`create -c/-m/-g`: a value the session cannot have is one line naming that value; the rest go on
    to the engine (unreachable here, so exit 3 proves they were accepted)."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    argv = ["create", "contributed", "canfar-desktop/contributed:latest", f"--gpu={gpus}", "--dry-run"]
    argv += [f"--cpu={cores}"] if cores is not None else []
    argv += [f"--memory={memory}"] if memory is not None else []
    code = cli.run(argv)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    bad = refused_fields(cores, memory, gpus)
    if not bad:
        assert code == 3 and err.startswith("error: Docker is not running"), (argv, err)
        return
    assert code == 2, (argv, code, err)
    assert named_field(err) in bad, f"the error blames {named_field(err)!r}, not one of {sorted(bad)}: {err}"


def named_field(err: str) -> str:
    """The value a one-line CLI error blames, read from its message alone (the hint after the last ': '
    names every field, so it cannot be what is matched)."""
    message = err.removeprefix("error: ").rsplit(": ", 1)[0]
    if message.startswith("Invalid resources: "):
        field = message.removeprefix("Invalid resources: ").split(":", 1)[0]
        return {"cores": "cores", "ram_gb": "memory", "gpus": "gpus"}.get(field, field)
    return "memory" if message.endswith("amount of memory") else message


HOSTS = st.tuples(st.integers(1, 64), st.floats(0.25, 512), st.sampled_from([None, 0, 1, 4]))


@FAST
@given(st.builds(Resources, mode=st.sampled_from(["fixed", "flexible"]), cores=st.floats(0.01, 256),
                 ram_gb=st.floats(0.001, 4096), gpus=st.integers(0, 28)), HOSTS)
def test_accepted_resources_lie_within_the_host(res: Resources, host: tuple[int, float, int | None]) -> None:
    """Whatever validation accepts, the container the session gets stays within the host."""
    cpus, ram_gb, host_gpus = host
    try:
        validate_resources(res, host_cpus=cpus, host_ram_gb=ram_gb, host_gpus=host_gpus)
    except CanfarError as exc:
        clear(exc)
        over = {"cores": res.mode == "fixed" and res.cores > cpus,
                "RAM": res.mode == "fixed" and not 0.125 <= res.ram_gb <= ram_gb,
                "GPU": host_gpus is not None and res.gpus > host_gpus}
        blamed = {word for word in over if f" {word}" in exc.message}
        assert len(blamed) == 1 and over[blamed.pop()], (res, host, exc.message)
        return
    assert not (res.mode == "fixed" and (res.cores > cpus or res.ram_gb > ram_gb)), "over the host, yet accepted"
    plan = build_plan(LaunchRequest("notebook", "img:1", "fuzz", resources=res), KINDS["notebook"],
                      session_id="abcd1234", secret="s" * 48, user="ada", uid=1000, gid=1000, storage=STORAGE,
                      host_cpus=cpus, host_ram_gb=ram_gb, now=datetime(2026, 1, 1, tzinfo=UTC),
                      lifetime=timedelta(days=4))
    assert plan.nano_cpus is not None and 0 < plan.nano_cpus <= cpus * 10**9, (res, host)
    assert plan.mem_limit is not None and 0 < plan.mem_limit <= ram_gb * 1024**3, (res, host)
    assert plan.mem_reservation is not None and plan.mem_reservation <= plan.mem_limit
    if res.mode == "fixed":
        assert res.ram_gb >= 0.125, "too little memory to start is refused up front"
    if host_gpus is not None:
        assert res.gpus <= host_gpus


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=15), children, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["session_limit", "hosts", "user", "uid", "theme", "default_resources", "last_choices",
                        "schema_version", "arc_root", "session_lifetime_hours", "warn_before_minutes"])


@FAST
@given(st.one_of(st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 st.dictionaries(KEYS, JSONISH, max_size=5).map(json.dumps)))
def test_settings_files(tmp_path_factory: pytest.TempPathFactory, content: str) -> None:
    root = tmp_path_factory.mktemp("settings")
    paths = AppPaths(root / "c", root / "d", root / "s")
    paths.config_dir.mkdir(parents=True)
    written = content.encode("latin-1")
    paths.settings_file.write_bytes(written)
    settings_, warning = load_settings(paths)
    assert settings_.session_limit >= 1
    aside = sorted(paths.config_dir.glob("settings.json.corrupt-*"))
    if warning is None:
        assert aside == [] and paths.settings_file.read_bytes() == written, "a file that loads is left alone"
        return
    assert "\n" not in warning
    assert len(aside) == 1, f"one file moved aside, found {aside}"
    assert aside[0].read_bytes() == written, "the unreadable file is kept byte for byte"
    assert not paths.settings_file.exists() and str(aside[0]) in warning


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12), min_size=1, max_size=6))
def test_cli_never_shows_a_traceback(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                     argv: list[str]) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    argv = ["create", *argv]
    try:
        code = cli.run(argv)
    except SystemExit as exc:  # argparse usage errors: a usage line, exit 2
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "unexpected" not in captured.err, captured.err
    if code != 0:
        assert captured.err.strip(), "a failure always says something"
