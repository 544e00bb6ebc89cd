"""An out-of-memory kill inside a running session is news once; kills from before the app saw it are not."""

from __future__ import annotations

from datetime import timedelta

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.notify import due_notices
from canfar_desktop.core.record import replace

from .test_notify import NOW, session


def test_each_new_kill_is_told_once() -> None:
    previous: dict[str, State] = {}
    given: set[str] = set()
    s = replace(session(State.RUNNING, 5000), memory_limit=2**30)
    assert due_notices(previous, [s], NOW, [60], given) == []
    killed = replace(s, oom_kills=(NOW,))
    first = due_notices(previous, [killed], NOW, [60], given)
    assert [n.title for n in first] == ["n: out of memory"]
    assert first[0].level == "warning" and "1 GB limit" in first[0].message
    assert due_notices(previous, [killed], NOW, [60], given) == []
    again = replace(killed, oom_kills=(NOW, NOW + timedelta(minutes=1)))
    assert [n.key for n in due_notices(previous, [again], NOW, [60], given)] == ["local/abcd1234/oom-2"]


def test_kills_from_before_the_first_look_are_not_news() -> None:
    given: set[str] = set()
    old = replace(session(State.RUNNING, 5000), oom_kills=(NOW - timedelta(hours=1),))
    assert due_notices({}, [old], NOW, [60], given) == []
