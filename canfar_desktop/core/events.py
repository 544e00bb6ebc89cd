"""The engine's container events as a session timeline (create, start, die, oom, kill …)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .plan import L_ID, L_OWNER
from .record import record

# Actions that change what a session looks like; exec and attach noise is left out.
RELEVANT = frozenset({
    "create", "start", "restart", "die", "oom", "kill", "stop", "pause", "unpause", "destroy", "health_status",
})


@record
class EngineEvent:
    when: datetime
    action: str
    detail: str
    container_id: str
    session_id: str
    exit_code: int | None = None  # a `die` event's, so a card can follow it before anything is read
    owner: str | None = None  # the user the container's labels name; None when they name none (a platform's)


def parse_event(raw: dict[str, Any]) -> EngineEvent | None:
    if raw.get("Type") == "platform":
        return _platform_event(raw)
    action = str(raw.get("Action") or raw.get("status") or "").split(":")[0]
    if action not in RELEVANT:
        return None
    actor = raw.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    nanos = raw.get("timeNano")
    when = (datetime.fromtimestamp(int(nanos) / 1e9, UTC) if nanos
            else datetime.fromtimestamp(int(raw.get("time", 0)), UTC))
    detail = ""
    if action == "die":
        detail = f"exit code {attrs.get('exitCode', '?')}"
    elif action == "kill":
        detail = f"signal {attrs.get('signal', '?')}"
    elif action == "oom":
        detail = "the kernel killed a process: out of memory"
    elif action == "create":
        detail = f"image {attrs.get('image', '?')}"
    code = attrs.get("exitCode") if action == "die" else None
    owner = attrs.get(L_OWNER)
    return EngineEvent(when, action, detail, str(actor.get("ID") or raw.get("id") or ""), str(attrs.get(L_ID, "")),
                       int(code) if isinstance(code, str) and code.lstrip("-").isdigit() else None,
                       owner if isinstance(owner, str) else None)


def _platform_event(raw: dict[str, Any]) -> EngineEvent:
    """A science platform's event (core/backends/skaha_shapes.py): in the engine's words where one
    matches (create, start, kill, oom …), else the platform's own (Scheduled, Pulling, BackOff …)."""
    actor = raw.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    when = datetime.fromtimestamp(int(raw.get("timeNano") or 0) / 1e9, UTC)
    sid = str(actor.get("ID") or "")
    return EngineEvent(when, str(raw.get("Action") or "event"), str(attrs.get("message") or ""), sid,
                       str(attrs.get(L_ID) or sid))
