"""Out-of-memory kills inside a running session: the most common memory failure.

When a notebook's kernel outgrows a fixed session's memory limit, the kernel (the process) is
killed and JupyterLab starts a new one; the container keeps running, so its OOMKilled flag stays
false. The engine still reports an `oom` event for the container (remote engines too). The session
loop records each one in the ledger (so they survive app restarts), and whoever asks about one
session (doctor, info, the support report) also reads the engine's own events since it started.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .errors import CanfarError
from .formats import human_bytes
from .ledger import Ledger
from .session import Session

KEEP = 50  # the most recent kills kept per session


def from_entry(entry: dict[str, object], container_id: str) -> tuple[datetime, ...]:
    """The kills the ledger holds for this container (a re-created container starts from none)."""
    raw = entry.get("oom")
    if not isinstance(raw, dict) or raw.get("container") != container_id:
        return ()
    times = []
    for value in raw.get("times") or []:
        try:
            times.append(datetime.fromisoformat(str(value)))
        except ValueError:
            continue
    return tuple(sorted(times))


def record(ledger: Ledger, host: str, s: Session, when: datetime) -> None:
    """Remember one kill (an engine `oom` event) of a session's container."""
    known = set(from_entry(ledger.entry(host, s.id), s.container_id))
    if when in known:
        return
    times = sorted(known | {when})[-KEEP:]
    try:
        ledger.update(host, s.id, oom={"container": s.container_id, "times": [t.isoformat() for t in times]})
    except CanfarError:
        pass  # a read-only state folder: the engine's events still tell doctor and info


def merged(*sources: Iterable[datetime]) -> tuple[datetime, ...]:
    """Kills from several sources (ledger, engine events), each once (to the second), in order."""
    seen: dict[int, datetime] = {}
    for source in sources:
        for when in source:
            seen.setdefault(int(when.timestamp()), when)
    return tuple(sorted(seen.values()))


def describe(s: Session) -> str:
    """"kernel killed: out of memory, 1 GB limit, 13:22 (3 times)", or "" when there was none."""
    if not s.oom_kills:
        return ""
    last = s.oom_kills[-1].astimezone().strftime("%H:%M")
    limit = f", {human_bytes(s.memory_limit)} limit" if s.memory_limit else ""
    count = f" ({len(s.oom_kills)} times)" if len(s.oom_kills) > 1 else ""
    return f"kernel killed: out of memory{limit}, {last}{count}"
