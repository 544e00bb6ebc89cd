"""Which sessions have answered their readiness probe since their container last started.

A session is probed until it first answers; then a mark is kept in memory and in the ledger with
the container's start time, so a fresh process (`canfar-desktop ps`) trusts it without probing every
session again. The mark holds only while the engine's listing agrees the container has not started
again since: the listing's "Up 5 minutes" gives the start time to within its unit, and a restart
moves it past the mark's. The engine's die/start events (watch.py) drop the mark at once.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

from .errors import CanfarError
from .ledger import Ledger
from .session import Session

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400,
          "year": 365 * 86400}
_UP = re.compile(r"^Up (?:(?P<less>Less than a second)|(?P<about>About an? (?P<aunit>minute|hour))|"
                 r"(?P<n>\d+) (?P<unit>second|minute|hour|day|week|month|year)s?)")


def uptime_bounds(status: str) -> tuple[float, float] | None:
    """The engine's "Up 5 minutes" as (at least, less than) seconds; None when it says nothing."""
    m = _UP.match(status or "")
    if m is None:
        return None
    if m.group("less"):
        return 0.0, 1.0
    if m.group("about"):
        unit = _UNITS[m.group("aunit")]
        return float(unit), float(2 * unit)
    unit = _UNITS[m.group("unit")]
    n = int(m.group("n"))
    return float(n * unit), float((n + 1) * unit)


def started_within(status: str, started: datetime, now: datetime, slack_s: float = 2.0) -> bool:
    """Whether a start time agrees with the listing's uptime (so the container did not start again)."""
    bounds = uptime_bounds(status)
    if bounds is None:
        return False
    low, high = bounds
    age = (now - started).total_seconds()
    return low - slack_s <= age <= high + slack_s


class Readiness:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._ready: set[str] = set()  # container ids known ready in this process
        self._lock = threading.Lock()

    def known(self, s: Session, entry: dict[str, object], now: datetime, uptime: str = "") -> bool:
        """Ready without probing: seen answering here, or a ledger mark the listing still agrees with."""
        with self._lock:
            if s.container_id in self._ready:
                return True
        mark = entry.get("ready")
        if not isinstance(mark, dict) or mark.get("container") != s.container_id:
            return False
        try:
            started = datetime.fromisoformat(str(mark.get("started")))
        except ValueError:
            return False
        if s.started_at is None:  # listed: "Up 2 seconds" cannot tell a start from one a moment later
            return started_within(uptime, started, now)
        agrees = abs((s.started_at - started).total_seconds()) < 1  # inspected: the exact start time
        if agrees:
            with self._lock:
                self._ready.add(s.container_id)
        return agrees

    def mark(self, host: str, s: Session, started: datetime | None, now: datetime) -> bool:
        """Remember that a session answered; True the first time (the caller then asks the engine to
        keep it running across engine restarts)."""
        with self._lock:
            first = s.container_id not in self._ready
            self._ready.add(s.container_id)
        if first:
            when = (started or now - timedelta(seconds=1)).isoformat()
            try:
                self.ledger.update(host, s.id, ready={"container": s.container_id, "started": when})
            except CanfarError:
                pass  # a read-only state folder only costs a probe in the next process
        return first

    def forget(self, container_id: str) -> None:
        """The engine reports the container died or started again: it must answer again."""
        with self._lock:
            self._ready.discard(container_id)
