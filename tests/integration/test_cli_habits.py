"""The canfar client's habits on the real engine: `create --replicas`, prune with the client's defaults,
and `-o yaml` that reads back as the same answer as `-o json`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths

from ..helpers import wait_for
from .test_cli_verbs import cli, launch, mine, shared

CANFAR_PYTHON = Path(__file__).resolve().parents[2] / ".venv-canfar" / "bin" / "python"


def test_replicas_are_named_and_numbered_and_prune_takes_finished_jobs_by_default(
        make_service: Callable[..., SessionService], paths: AppPaths, session_images: dict[str, str]) -> None:
    service = shared(make_service, paths)
    image = session_images["notebook"]
    done = cli("create", "headless", image, "-n", "fit", "--replicas", "3", "--wait", "--",
               "sh", "-c", "echo replica $REPLICA_ID of $REPLICA_COUNT")
    assert done.returncode == 0, done.stderr
    ids = done.stdout.split()
    assert len(ids) == 3
    jobs = mine(service)
    assert sorted(jobs) == ["fit-1", "fit-2", "fit-3"]
    for i in (1, 2, 3):
        job = jobs[f"fit-{i}"]
        assert job.id in ids and job.state == State.TERMINATED, job
        assert service.tail_logs(job) == [f"replica {i} of 3"]

    # A running interactive session with the same prefix, and a failed job: the client's defaults
    # (headless, Completed) leave both alone.
    keep = launch(service, session_images["contributed"], "fit-web")
    failed = launch(service, image, "fit-bad", kind="headless", command=("sh", "-c", "exit 4"))
    assert wait_for(lambda: service.get(failed.id).state == State.FAILED, 60, "fit-bad to fail")

    pruned = cli("prune", "fit", "-f")
    assert pruned.returncode == 0, pruned.stderr
    assert sorted(pruned.stdout.splitlines()) == sorted(f"{i} deleted" for i in ids)
    assert set(mine(service)) == {"fit-web", "fit-bad"}

    # A regular expression, as the client reads one; `any` widens the kind.
    assert cli("prune", "^fit-b.d$", "any", "Failed", "-f").stdout == f"{failed.id} deleted\n"
    assert set(mine(service)) == {"fit-web"} and mine(service)["fit-web"].id == keep.id


def test_interactive_replicas_over_the_limit_create_nothing(make_service: Callable[..., SessionService],
                                                            paths: AppPaths, session_images: dict[str, str]) -> None:
    service = shared(make_service, paths)
    done = cli("create", "contributed", session_images["contributed"], "-n", "web", "-r", "4")
    assert done.returncode == 2 and "more than the limit of 3 active sessions" in done.stderr
    assert mine(service) == {}


def test_yaml_answers_are_the_json_answers(make_service: Callable[..., SessionService], paths: AppPaths,
                                           session_images: dict[str, str]) -> None:
    if not CANFAR_PYTHON.exists():
        pytest.fail(f"{CANFAR_PYTHON} is missing (its PyYAML reads our YAML back); run ./scripts/setup.sh",
                    pytrace=False)
    service = shared(make_service, paths)
    s = launch(service, session_images["contributed"], "yaml-check")
    assert wait_for(lambda: service.get(s.id).status == "running", 60, "the session running")
    for argv in (["ps", "-a"], ["info", s.id], ["doctor"]):
        as_json = cli(*argv, "-o", "json")
        as_yaml = cli(*argv, "-o", "yaml")
        assert as_yaml.returncode == as_json.returncode, as_yaml.stderr
        read = subprocess.run([str(CANFAR_PYTHON), "-c", "import sys, json, yaml; "
                               "print(json.dumps(yaml.safe_load(sys.stdin.read())))"],
                              input=as_yaml.stdout, capture_output=True, text=True, timeout=60)
        assert read.returncode == 0, read.stderr
        got, want = json.loads(read.stdout), json.loads(as_json.stdout)
        if argv[0] == "ps" or argv[0] == "info":  # time left moves between the two runs
            for item in [*got, *want]:
                item.pop("time_left_s", None)
        if argv[0] == "doctor":  # measured figures (and so verdicts) move between runs; the checks do not
            got = [c["id"] for c in got]
            want = [c["id"] for c in want]
        assert got == want
