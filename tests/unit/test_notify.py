from __future__ import annotations

from datetime import UTC, datetime, timedelta

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.notify import due_notices, expiry_warnings
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def session(state: State, left_minutes: float, sid: str = "abcd1234") -> Session:
    return Session(id=sid, name="n", kind="notebook", image="i", owner="u", host="local", container_id="c",
                   container_name="x", created=NOW, expiry=NOW + timedelta(minutes=left_minutes),
                   resources=Resources(), status="running", state=state, reason="r")


def test_warns_once_at_each_threshold_and_again_after_renewal() -> None:
    given: set[str] = set()
    previous: dict[str, State] = {}
    assert due_notices(previous, [session(State.RUNNING, 120)], NOW, [60, 10], given) == []
    first = due_notices(previous, [session(State.RUNNING, 59)], NOW, [60, 10], given)
    assert [n.key for n in first] == ["local/abcd1234/expiring-60"] and first[0].can_renew
    assert due_notices(previous, [session(State.RUNNING, 30)], NOW, [60, 10], given) == []
    second = due_notices(previous, [session(State.RUNNING, 9)], NOW, [60, 10], given)
    assert [n.key for n in second] == ["local/abcd1234/expiring-10"]
    assert due_notices(previous, [session(State.RUNNING, 9)], NOW, [60, 10], given) == []
    # renewed: far from expiry again, then close again -> warns again
    due_notices(previous, [session(State.RUNNING, 5000)], NOW, [60, 10], given)
    again = due_notices(previous, [session(State.RUNNING, 50)], NOW, [60, 10], given)
    assert [n.key for n in again] == ["local/abcd1234/expiring-60"]


def test_jumping_straight_below_the_smallest_threshold_warns_once() -> None:
    given: set[str] = set()
    out = due_notices({}, [session(State.RUNNING, 5)], NOW, [60, 10], given)
    assert [n.key for n in out] == ["local/abcd1234/expiring-10"]


def test_ready_failed_expired_transitions() -> None:
    given: set[str] = set()
    previous: dict[str, State] = {}
    due_notices(previous, [session(State.LAUNCHING, 5000)], NOW, [60], given)
    ready = due_notices(previous, [session(State.RUNNING, 5000)], NOW, [60], given)
    assert [n.title for n in ready] == ["n is ready"]
    failed = due_notices(previous, [session(State.FAILED, 5000)], NOW, [60], given)
    assert failed[0].level == "error" and failed[0].message == "r"
    expired = due_notices({"local/abcd1234": State.RUNNING}, [session(State.EXPIRED, -1)], NOW, [60], given)
    assert expired[0].key.endswith("/expired")


def test_ps_warnings_only_for_active_sessions_near_expiry() -> None:
    sessions = [session(State.RUNNING, 30, "a"), session(State.RUNNING, 600, "b"), session(State.FAILED, 5, "c")]
    assert [w.session_id for w in expiry_warnings(sessions, NOW, [60, 10])] == ["a"]


def test_expiring_notice_says_what_to_do() -> None:
    out = due_notices({}, [session(State.RUNNING, 9)], NOW, [60, 10], set())
    assert out[0].title == "n expires in 9 minutes"
    assert "stops in 9 minutes" in out[0].message and "renew" in out[0].message


def test_a_renewed_expired_session_can_be_ready_and_expire_again() -> None:
    given: set[str] = set()
    previous: dict[str, State] = {"local/abcd1234": State.LAUNCHING}
    assert [n.key for n in due_notices(previous, [session(State.RUNNING, 5000)], NOW, [60], given)] == \
        ["local/abcd1234/ready"]
    assert [n.key for n in due_notices(previous, [session(State.EXPIRED, -1)], NOW, [60], given)] == \
        ["local/abcd1234/expired"]
    # Renewed: it starts again, becomes ready again, and a second expiry is announced again.
    due_notices(previous, [session(State.LAUNCHING, 5000)], NOW, [60], given)
    assert [n.key for n in due_notices(previous, [session(State.RUNNING, 5000)], NOW, [60], given)] == \
        ["local/abcd1234/ready"]
    assert [n.key for n in due_notices(previous, [session(State.EXPIRED, -1)], NOW, [60], given)] == \
        ["local/abcd1234/expired"]
    assert due_notices(previous, [session(State.EXPIRED, -1)], NOW, [60], given) == []
