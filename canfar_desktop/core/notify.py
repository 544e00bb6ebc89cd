"""When to warn about a session: ready, failed, expiring soon, expired, a process killed out of memory.

Pure functions over sessions and the clock, so the app's notifications, the tray and `ps` agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .lifecycle import ACTIVE, State
from .oom import describe as describe_oom
from .record import record
from .session import Session


@record
class Notice:
    key: str  # unique per session and reason, so each notice is given once
    session_id: str
    host: str
    title: str
    message: str
    level: str  # info, warning, error
    can_renew: bool = False


def _minutes(value: float) -> str:
    minutes = max(1, round(value / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes < 120 else f"{minutes // 60} hours"


def expiry_warnings(sessions: Iterable[Session], now: datetime, thresholds: Iterable[int]) -> list[Notice]:
    """Active sessions within the largest warning threshold of their expiry."""
    limit = max(thresholds, default=0) * 60
    out = []
    for s in sessions:
        left = s.time_left(now)
        if s.state in ACTIVE and left is not None and 0 < left <= limit:
            out.append(Notice(
                key=f"{s.host}/{s.id}/expiring", session_id=s.id, host=s.host,
                title=f"{s.name} expires soon",
                message=f"session {s.id} ({s.name}) expires in {_minutes(left)}; renew it with canfar-desktop renew {s.id}",
                level="warning", can_renew=True,
            ))
    return out


def due_notices(previous: dict[str, State], sessions: Iterable[Session], now: datetime,
                thresholds: Iterable[int], given: set[str]) -> list[Notice]:
    """Notices to give now, comparing with each session's previous state and what was given before.

    `given` is updated in place; a renewed session whose time left grows again can warn again, and a
    session that launches again (an expired one renewed) can be ready, fail or expire again. Each
    new out-of-memory kill inside a session is told once; kills from before a session was first
    seen (before the app started) are not news.
    """
    notices: list[Notice] = []
    steps = sorted(set(thresholds), reverse=True)
    for s in sessions:
        key = f"{s.host}/{s.id}"
        before = previous.get(key)
        if s.state == State.LAUNCHING:
            given.difference_update({f"{key}/ready", f"{key}/failed"})
        if s.state in ACTIVE:
            given.discard(f"{key}/expired")
        if s.state == State.RUNNING and before == State.LAUNCHING:
            notices.append(Notice(f"{key}/ready", s.id, s.host, f"{s.name} is ready",
                                  f"{s.kind} session {s.name} is running", "info"))
        if s.state == State.FAILED and before not in (None, State.FAILED):
            notices.append(Notice(f"{key}/failed", s.id, s.host, f"{s.name} failed", s.reason or "failed", "error"))
        if s.state == State.EXPIRED and before not in (None, State.EXPIRED):
            notices.append(Notice(f"{key}/expired", s.id, s.host, f"{s.name} expired",
                                  f"session {s.name} reached its expiry and was stopped; renew restarts it",
                                  "warning", can_renew=True))
        kills = len(s.oom_kills)
        if kills and f"{key}/oom-{kills}" not in given:
            if before is None:
                given.add(f"{key}/oom-{kills}")
            else:
                notices.append(Notice(f"{key}/oom-{kills}", s.id, s.host, f"{s.name}: out of memory",
                                      f"{describe_oom(s)}; a notebook's kernel restarts after it. Launch it "
                                      "again with more memory (fixed resources) or use less at once", "warning"))
        left = s.time_left(now)
        if s.state in ACTIVE and left is not None:
            crossed = [m for m in steps if left <= m * 60]
            for m in steps:
                if m not in crossed:
                    given.discard(f"{key}/expiring-{m}")  # renewed: may warn again later
            if crossed and left > 0:
                nearest = min(crossed)
                marker = f"{key}/expiring-{nearest}"
                if marker not in given:
                    notices.append(Notice(marker, s.id, s.host, f"{s.name} expires in {_minutes(left)}",
                                          f"session {s.name} ({s.kind}) stops in {_minutes(left)}: save your work, "
                                          "or renew it to keep it running",
                                          "warning", can_renew=True))
                given.update(f"{key}/expiring-{m}" for m in crossed if m != nearest)
        previous[key] = s.state
    fresh = [n for n in notices if n.key not in given]
    given.update(n.key for n in fresh)
    return fresh
