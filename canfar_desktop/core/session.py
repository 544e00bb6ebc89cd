"""A session as the app and the CLI see it: read from a container's labels and the engine's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .gate import gated_url
from .kinds import KINDS, LaunchContext
from .lifecycle import ACTIVE, State
from .plan import (
    L_CORES,
    L_CREATED,
    L_EXPIRY,
    L_GATE,
    L_GPUS,
    L_HOST_PORT,
    L_ID,
    L_IMAGE,
    L_KIND,
    L_MODE,
    L_NAME,
    L_OWNER,
    L_PORT,
    L_RAM,
)
from .record import field, record, replace
from .settings import Resources


def parse_time(raw: str | None) -> datetime | None:
    """Engine and label timestamps (RFC 3339 with nanoseconds, or ISO) as aware datetimes."""
    if not raw or raw.startswith("0001-01-01"):
        return None
    text = raw.strip().replace("Z", "+00:00")
    if "." in text:  # trim nanoseconds to microseconds
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@record
class Session:
    id: str
    name: str
    kind: str
    image: str
    owner: str
    host: str
    container_id: str
    container_name: str
    created: datetime | None
    expiry: datetime | None
    resources: Resources
    status: str  # the engine's word
    state: State = State.LAUNCHING
    reason: str = ""
    host_port: int | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""
    memory_limit: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    oom_kills: tuple[datetime, ...] = ()  # processes the kernel killed at the memory limit (oom.py)
    gated: bool = False  # behind a gate that asks for the secret (core/gate.py)
    command: tuple[str, ...] = ()  # what the container runs (a batch job's command, to run it again)
    secret: str = field(default="", repr=False)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def time_left(self, now: datetime) -> float | None:
        return (self.expiry - now).total_seconds() if self.expiry else None

    def url_path(self) -> str:
        """The kind's URL path for this session, secret included (never log it)."""
        kind = KINDS.get(self.kind)
        if kind is None:
            return "/"
        ctx = LaunchContext(session_id=self.id, user=self.owner, secret=self.secret, threads=1)
        return gated_url(kind.url(ctx), self.secret) if self.gated else kind.url(ctx)

    def with_state(self, state: State, reason: str) -> Session:
        return replace(self, state=state, reason=reason)

    def describe_resources(self) -> str:
        r = self.resources
        text = f"{r.cores:g} cores · {r.ram_gb:g} GB" if r.mode == "fixed" else "flexible"
        return text + (f" · {r.gpus} GPU" if r.gpus else "")


def from_summary(host: str, summary: dict[str, Any]) -> Session:
    """A session from the engine's short container listing (no per-container call needed)."""
    labels = summary.get("Labels") or {}
    kind = labels.get(L_KIND, "contributed")
    container_port = int(labels.get(L_PORT, KINDS[kind].port if kind in KINDS else 0) or 0)
    host_port = int(labels[L_HOST_PORT]) if labels.get(L_HOST_PORT) else None  # a gate publishes it
    for port in summary.get("Ports") or []:
        if port.get("PrivatePort") == container_port and port.get("PublicPort"):
            host_port = int(port["PublicPort"])
    names = summary.get("Names") or [""]
    return Session(
        id=labels.get(L_ID, ""),
        name=labels.get(L_NAME, ""),
        kind=kind,
        image=labels.get(L_IMAGE) or str(summary.get("Image", "")),
        owner=labels.get(L_OWNER, ""),
        host=host,
        container_id=str(summary.get("Id", "")),
        container_name=names[0].lstrip("/"),
        created=parse_time(labels.get(L_CREATED)),
        expiry=parse_time(labels.get(L_EXPIRY)),
        resources=Resources(
            mode="fixed" if labels.get(L_MODE) == "fixed" else "flexible",
            cores=_num(labels.get(L_CORES), 1.0),
            ram_gb=_num(labels.get(L_RAM), 4.0),
            gpus=int(_num(labels.get(L_GPUS), 0)),
        ),
        status=str(summary.get("State", "")),
        host_port=host_port,
        gated=bool(labels.get(L_GATE)),
    )


def with_inspect(session: Session, data: dict[str, Any]) -> Session:
    """Add what only a full inspect tells: exit code, OOM flag, times, limit, secret, port."""
    state = data.get("State") or {}
    env = dict(
        item.split("=", 1) for item in (data.get("Config") or {}).get("Env") or [] if "=" in item
    )
    kind = KINDS.get(session.kind)
    secret = ""
    if kind:
        for key in kind.secret_env:
            if env.get(key):
                secret = env[key]
                break
    host_port = session.host_port
    bindings = ((data.get("NetworkSettings") or {}).get("Ports") or {}).get(f"{kind.port if kind else 0}/tcp")
    if bindings:
        host_port = int(bindings[0]["HostPort"])
    return replace(
        session,
        status=str(state.get("Status", session.status)),
        exit_code=state.get("ExitCode"),
        oom_killed=bool(state.get("OOMKilled")),
        error=str(state.get("Error") or ""),
        memory_limit=(data.get("HostConfig") or {}).get("Memory") or None,
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")),
        secret=secret,
        host_port=host_port,
        command=tuple(str(part) for part in (data.get("Config") or {}).get("Cmd") or ()),
    )


def _num(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        return default
