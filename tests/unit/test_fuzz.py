"""Bad input through the real parsers: only clear errors come out, never tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canfar_desktop import cli
from canfar_desktop.core.errors import CanfarError
from canfar_desktop.core.settings import AppPaths, Resources, load_settings
from canfar_desktop.core.validation import normalize_image, parse_env, parse_size_gb, validate_name, validate_resources

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
    assert ":" in ref or "@" in ref
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


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True),
       st.integers(-5, 40), st.sampled_from(["fixed", "flexible", "other"]))
def test_resources(cores: float, ram: float, gpus: int, mode: str) -> None:
    try:
        res = Resources(mode=mode, cores=cores, ram_gb=ram, gpus=gpus)  # type: ignore[arg-type]
    except ValueError:
        return  # pydantic refuses it with a message; the dialog and CLI show it
    try:
        validate_resources(res, host_cpus=4, host_ram_gb=16, host_gpus=0)
    except CanfarError as exc:
        clear(exc)


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
    paths.settings_file.write_text(content, encoding="latin-1")
    settings_, warning = load_settings(paths)
    assert settings_.session_limit >= 1
    if warning:
        assert "\n" not in warning and Path(paths.config_dir).glob("settings.json.corrupt-*")


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
