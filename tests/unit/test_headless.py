"""Batch (headless) jobs in the core: their plan, their states, and the session limit they stay out of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.kinds import ALL_KINDS, HEADLESS, KINDS, get_kind, is_batch
from canfar_desktop.core.lifecycle import Facts, State, derive_state
from canfar_desktop.core.plan import LaunchRequest, Mount, Storage, build_plan

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STORAGE = Storage(Mount("/h", "/arc/home/ada"), Mount("/p", "/arc/projects"), Mount("/s", "/scratch"))


def plan(req: LaunchRequest) -> object:
    return build_plan(req, HEADLESS, session_id="abcd1234", secret="s" * 48, user="ada", uid=1000, gid=1000,
                      storage=STORAGE, host_cpus=4, host_ram_gb=16, now=NOW, lifetime=timedelta(days=4))


def test_headless_is_a_kind_but_not_an_interactive_one() -> None:
    assert get_kind("headless") is HEADLESS and "headless" in ALL_KINDS and "headless" not in KINDS
    assert is_batch("headless") and not is_batch("notebook") and not is_batch("unknown")
    with pytest.raises(ValidationError):
        get_kind("desktop-app")


def test_headless_plan_runs_the_command_with_arc_scratch_and_replicas() -> None:
    p = plan(LaunchRequest("headless", "img:1", "job", command=("python3", "-c", "print(1)")))
    assert p.command == ["python3", "-c", "print(1)"]  # type: ignore[attr-defined]
    assert p.ports == {}  # type: ignore[attr-defined]  # nothing to publish
    assert [m.target for m in p.mounts] == ["/arc/home/ada", "/arc/projects", "/scratch"]  # type: ignore[attr-defined]
    env = p.environment  # type: ignore[attr-defined]
    assert env["REPLICA_ID"] == "1" and env["REPLICA_COUNT"] == "1"
    given = plan(LaunchRequest("headless", "img:1", "job", env={"REPLICA_ID": "3", "REPLICA_COUNT": "4"}))
    assert given.environment["REPLICA_ID"] == "3" and given.command is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("facts", "state"), [
    (Facts(status="running", batch=True), State.RUNNING),  # no app to answer: running is Running
    (Facts(status="running"), State.LAUNCHING),  # an interactive session waits for its probe
    (Facts(status="exited", exit_code=0, batch=True), State.TERMINATED),
    (Facts(status="exited", exit_code=3, batch=True), State.FAILED),
])
def test_batch_job_states(facts: Facts, state: State) -> None:
    assert derive_state(facts, NOW)[0] == state
