"""The state function, table-driven: every engine status and signal combination that matters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.lifecycle import ACTIVE, Facts, State, derive_state, parse_state

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2)
EARLIER = NOW - timedelta(hours=1)

CASES = [
    # (facts, expected state, a word the reason must contain)
    (Facts("created"), State.LAUNCHING, "starting"),
    (Facts("created", error="port is already allocated"), State.FAILED, "port is already allocated"),
    (Facts("created", created=NOW - timedelta(seconds=30)), State.LAUNCHING, "starting"),
    (Facts("created", created=NOW - timedelta(minutes=5)), State.FAILED, "launch was interrupted"),
    (Facts("running", ready=None, expiry=LATER), State.LAUNCHING, "waiting"),
    (Facts("running", ready=False, expiry=LATER), State.LAUNCHING, "waiting"),
    (Facts("running", ready=True, expiry=LATER), State.RUNNING, ""),
    (Facts("running", ready=True, viewers=0, expiry=LATER), State.RUNNING, ""),
    (Facts("running", ready=True, viewers=2, was_opened=True, expiry=LATER), State.RUNNING, ""),
    (Facts("running", ready=True, viewers=0, was_opened=True, expiry=LATER), State.SUSPENDED, "no viewer"),
    (Facts("running", ready=True, viewers=None, was_opened=True, expiry=LATER), State.RUNNING, ""),
    (Facts("running", ready=True, expiry=EARLIER), State.EXPIRED, "expired"),
    (Facts("paused", ready=True, expiry=LATER), State.SUSPENDED, "paused"),
    (Facts("restarting", expiry=LATER), State.LAUNCHING, "restarting"),
    (Facts("removing"), State.TERMINATING, "deleting"),
    (Facts("exited", exit_code=0, finished_at=EARLIER, expiry=LATER), State.TERMINATED, "normally"),
    (Facts("exited", exit_code=143, finished_at=EARLIER, expiry=LATER), State.TERMINATED, "stopped"),
    (Facts("exited", exit_code=1, finished_at=EARLIER, expiry=LATER, last_log="boom"), State.FAILED, "code 1: boom"),
    (Facts("exited", exit_code=137, finished_at=EARLIER, expiry=LATER), State.FAILED, "SIGKILL"),
    (Facts("exited", exit_code=137, oom_killed=True, memory_limit=256 * 1024**2, finished_at=EARLIER,
           expiry=LATER), State.FAILED, "out of memory (limit 256 MB)"),
    (Facts("exited", exit_code=143, finished_at=NOW, expiry=EARLIER), State.EXPIRED, "expired"),
    (Facts("exited", exit_code=1, finished_at=EARLIER - timedelta(hours=1), expiry=EARLIER), State.FAILED, "code 1"),
    (Facts("dead", error="driver failed"), State.FAILED, "driver failed"),
]


@pytest.mark.parametrize(("facts", "state", "word"), CASES)
def test_derive_state(facts: Facts, state: State, word: str) -> None:
    got, reason = derive_state(facts, NOW)
    assert got == state
    assert word in reason


def test_running_needs_readiness_and_expiry_wins_over_everything_running() -> None:
    assert derive_state(Facts("running", ready=True, viewers=3, expiry=NOW), NOW)[0] == State.EXPIRED


@pytest.mark.parametrize(("word", "state"), [
    ("running", State.RUNNING), ("Pending", State.LAUNCHING), ("Succeeded", State.TERMINATED),
    ("Error", State.FAILED), ("completed", State.TERMINATED), ("EXPIRED", State.EXPIRED),
])
def test_parse_state_accepts_legacy_words(word: str, state: State) -> None:
    assert parse_state(word) == state


def test_parse_state_rejects_unknown_word() -> None:
    with pytest.raises(ValidationError, match="Unknown session state"):
        parse_state("sleeping")


def test_active_states_are_the_ones_holding_resources() -> None:
    assert {State.LAUNCHING, State.RUNNING, State.SUSPENDED} == ACTIVE
