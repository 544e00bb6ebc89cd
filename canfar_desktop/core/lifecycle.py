"""Session states, and the one pure function that derives a state from what the engine reports.

Nothing stores a session's state: the engine's view of the container, the readiness probe, the
expiry and whether a viewer is connected are enough, so the CLI, the app and a restarted app all
agree without talking to each other.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from .errors import ValidationError
from .formats import human_bytes
from .record import record


class State(str, Enum):
    LAUNCHING = "Launching"
    RUNNING = "Running"
    SUSPENDED = "Suspended"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    FAILED = "Failed"
    EXPIRED = "Expired"

    def __str__(self) -> str:
        return self.value


# Sessions that hold resources and count against the active-session limit.
ACTIVE = frozenset({State.LAUNCHING, State.RUNNING, State.SUSPENDED})
# Shown by `ps` without -a (CANFAR lists Pending and Running by default).
LISTED_BY_DEFAULT = ACTIVE | {State.TERMINATING}

_ALIASES = {
    "pending": State.LAUNCHING,
    "succeeded": State.TERMINATED,
    "completed": State.TERMINATED,
    "error": State.FAILED,
}


def parse_state(word: str) -> State:
    """Read a state as a person or the canfar client writes it (legacy words included)."""
    key = word.strip().lower()
    for state in State:
        if state.value.lower() == key:
            return state
    if key in _ALIASES:
        return _ALIASES[key]
    names = ", ".join(s.value for s in State)
    raise ValidationError(f"Unknown session state {word!r}", f"use one of: {names}")


@record
class Facts:
    """What is known about one session's container at one moment."""

    status: str  # the engine's word: created, running, paused, restarting, removing, exited, dead
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""
    finished_at: datetime | None = None
    expiry: datetime | None = None
    ready: bool | None = None  # the kind's readiness probe; None when not probed
    viewers: int | None = None  # established connections to the session's port; None when unknown
    was_opened: bool = False  # a viewer has been attached to this session before
    memory_limit: int | None = None  # bytes
    last_log: str = ""
    created: datetime | None = None  # when the launch began
    launch_abandoned: bool = False  # the process that was launching it died before starting it
    batch: bool = False  # a batch job: running its command is Running (there is no app to answer)


# A container still only "created" this long after its launch began was abandoned mid-launch.
INTERRUPTED_AFTER_S = 120


def _stamp(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def derive_state(f: Facts, now: datetime) -> tuple[State, str]:
    """Return the session's state and, beside it, the reason a person should read."""
    if f.status == "removing":
        return State.TERMINATING, "deleting"
    if f.status in ("exited", "dead"):
        return _ended(f)
    if f.status == "created":
        if f.error:
            return State.FAILED, f"could not start: {f.error}"
        if f.launch_abandoned or (f.created is not None and (now - f.created).total_seconds() > INTERRUPTED_AFTER_S):
            return State.FAILED, "the launch was interrupted before the session started"
        return State.LAUNCHING, "starting"
    if f.expiry is not None and now >= f.expiry:
        return State.EXPIRED, f"expired at {_stamp(f.expiry)}; stopping"
    if f.status == "restarting":
        return State.LAUNCHING, "restarting"
    if f.status == "pending":  # a science platform has accepted it and is starting it
        return State.LAUNCHING, "waiting for the platform to start it"
    if f.status == "paused":
        return State.SUSPENDED, "paused in the engine"
    if f.status != "running":
        return State.LAUNCHING, f"engine reports {f.status}"
    if f.batch:
        return State.RUNNING, ""
    if not f.ready:
        return State.LAUNCHING, "waiting for the app to answer"
    if f.viewers == 0 and f.was_opened:
        return State.SUSPENDED, "no viewer connected; the session keeps running"
    return State.RUNNING, ""


def _ended(f: Facts) -> tuple[State, str]:
    if f.expiry is not None and f.finished_at is not None and f.finished_at >= f.expiry:
        return State.EXPIRED, f"expired at {_stamp(f.expiry)}"
    if f.oom_killed:
        limit = f" (limit {human_bytes(f.memory_limit)})" if f.memory_limit else ""
        return State.FAILED, f"out of memory{limit}"
    if f.error:
        return State.FAILED, f.error
    code = f.exit_code
    if code == 0:
        return State.TERMINATED, "completed, exit code 0" if f.batch else "exited normally"
    if code == 143:
        return State.TERMINATED, "stopped"
    if code == 137:
        return State.FAILED, "killed (SIGKILL, exit code 137)"
    tail = f": {f.last_log}" if f.last_log else ""
    return State.FAILED, f"process exited with code {code}{tail}"
