"""The platform's answers (Skaha v1) read into records, and a session into the shapes the listing reads.

Pure functions, tolerant of every form the platform has sent: `"<none>"` and missing fields,
Kubernetes quantities (`"16Gi"`, older `"16G"`, `"500m"` cores, `"1234Mi"` in use), decimal-GB
strings (`"2.15"`), statuses old and new (`Succeeded`, `Error`, `Completed`, `Failed (DeadlineExceeded)`).
A platform session becomes the engine-shaped summary and inspect documents that `core/listing.py`
and `core/session.py` read, with the session's facts in the usual labels, so the service, the CLI
and the UI see it as any other session.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from ..host import ImageInfo
from ..plan import L_CORES, L_CREATED, L_EXPIRY, L_GPUS, L_ID, L_IMAGE, L_KIND, L_MODE, L_NAME, L_OWNER, L_PORT, L_RAM
from ..record import record
from ..session import parse_time

NONE_WORDS = frozenset({"", "<none>", "none", "null", "n/a", "unknown"})
GIB = 1024**3
_BINARY = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50, "e": 2**60}
_QUANTITY = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([kKmMgGtTpPeE]?)(i?)[bB]?$")
PLAIN_GB_BELOW = 1e5  # a bare number under this is decimal GB (the listing's unit); above, bytes
# A platform "type" that is part of another session (an app started inside a desktop): not listed apart.
HIDDEN_TYPES = frozenset({"desktop-app"})
EVENT_ACTIONS = {"created": "create", "started": "start", "restarted": "restart", "died": "die",
                 "oomkilled": "oom", "oomkilling": "oom", "killing": "kill", "stopped": "stop",
                 "paused": "pause", "resumed": "unpause", "deleted": "destroy"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def is_none(value: Any) -> bool:
    return _text(value).lower() in NONE_WORDS


def cores_of(value: Any) -> float | None:
    """Cores as the platform writes them: `"2"`, `"0.5"`, `"500m"` (millicores); None when unknown."""
    text = _text(value)
    if is_none(text):
        return None
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None


def memory_bytes(value: Any) -> int | None:
    """Memory as the platform writes it, in bytes; None when unknown.

    `16Gi`, `1234Mi`: binary. `16G`: binary too (older servers dropped the `i` of what was asked as
    `16Gi`). A bare number is decimal GB when small (`"2.15"`, the session listing's unit) and bytes
    when large (a raw Kubernetes quantity).
    """
    text = _text(value)
    if is_none(text):
        return None
    m = _QUANTITY.match(text)
    if m is None:
        return None
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit == "m" and m.group(2) == "m" and not m.group(3):
        return int(number / 1000)  # Kubernetes "millibytes"
    if unit:
        return int(number * _BINARY[unit])
    return int(number * 1e9) if number < PLAIN_GB_BELOW else int(number)


def gb_of(value: Any) -> float | None:
    """Memory in the app's GB (GiB), rounded to 0.01; None when unknown."""
    found = memory_bytes(value)
    return round(found / GIB, 2) if found is not None else None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(float(_text(value)))
    except ValueError:
        return default


# --- sessions --------------------------------------------------------------------------------------

@record
class PlatformSession:
    """One session as the platform lists it, with every field read (None where it sent none)."""

    id: str
    name: str
    kind: str
    status: str  # the platform's word, as sent ("Running", "Failed (DeadlineExceeded)")
    image: str
    userid: str
    start: datetime | None
    expiry: datetime | None
    connect_url: str
    fixed: bool
    cores: float | None  # requested
    ram_gb: float | None  # requested, in the app's GB
    gpus: int
    cores_in_use: float | None
    ram_in_use: int | None  # bytes

    @property
    def word(self) -> str:
        """The status word without its detail: "failed" for "Failed (DeadlineExceeded)"."""
        return self.status.split("(", 1)[0].strip().lower()

    @property
    def detail(self) -> str:
        _, sep, rest = self.status.partition("(")
        return rest.rstrip(")").strip() if sep else ""

    @property
    def running(self) -> bool:
        return self.word == "running"


def parse_session(raw: Any) -> PlatformSession:
    """One element of `GET /session` (or the answer of `GET /session/{id}`); ValueError without an id."""
    if not isinstance(raw, dict):
        raise ValueError("a session is not a JSON object")
    sid = _text(raw.get("id"))
    if is_none(sid):
        raise ValueError("a session without an id")
    cores, ram = cores_of(raw.get("requestedCPUCores")), gb_of(raw.get("requestedRAM"))
    fixed_flag = raw.get("isFixedResources")
    fixed = bool(fixed_flag) if isinstance(fixed_flag, bool) else (cores is not None and ram is not None)
    name = _text(raw.get("name"))
    return PlatformSession(
        id=sid,
        name="" if is_none(name) else name,
        kind=_text(raw.get("type")).lower() or "headless",
        status=_text(raw.get("status")) or "Unknown",
        image=_text(raw.get("image")),
        userid=_text(raw.get("userid")),
        start=None if is_none(raw.get("startTime")) else parse_time(_text(raw.get("startTime"))),
        expiry=None if is_none(raw.get("expiryTime")) else parse_time(_text(raw.get("expiryTime"))),
        connect_url="" if is_none(raw.get("connectURL")) else _text(raw.get("connectURL")),
        fixed=fixed,
        cores=cores,
        ram_gb=ram,
        gpus=max(0, _int(cores_of(raw.get("requestedGPUCores")) or 0)),
        cores_in_use=cores_of(raw.get("cpuCoresInUse")),
        ram_in_use=memory_bytes(raw.get("ramInUse")),
    )


def parse_sessions(raw: Any) -> list[PlatformSession]:
    """`GET /session`: the sessions that can be read (one without an id is skipped), desktop apps left out."""
    if not isinstance(raw, list):
        raise ValueError("the session list is not a JSON array")
    found = []
    for item in raw:
        try:
            s = parse_session(item)
        except ValueError:
            continue
        if s.kind not in HIDDEN_TYPES:
            found.append(s)
    return found


def engine_state(s: PlatformSession, now: datetime) -> tuple[str, int | None, str, datetime | None]:
    """(engine status word, exit code, error, finished at) that lifecycle.derive_state reads for the
    platform's status: Pending is starting, Terminating is being removed, Completed ended normally,
    Failed past the expiry (or for its deadline) is Expired, any other Failed says so."""
    word = s.word
    if word == "pending":
        return "pending", None, "", None
    if word == "running":
        return "running", None, "", None
    if word == "terminating":
        return "removing", None, "", None
    if word in ("completed", "succeeded"):
        return "exited", 0, "", None
    if word in ("failed", "error"):
        deadline = s.detail.lower() == "deadlineexceeded"
        if s.expiry is not None and (deadline or now >= s.expiry):
            return "exited", None, "", s.expiry
        if deadline:
            return "exited", None, "stopped by the platform at its time limit", None
        why = f" ({s.detail})" if s.detail else ""
        return "exited", None, f"the platform reports it failed{why}; its events and logs may say why", None
    return "unknown", None, "", None


def labels_of(s: PlatformSession, owner: str) -> dict[str, str]:
    """The session's facts in the labels a listing reads (see core/plan.py)."""
    labels = {L_ID: s.id, L_NAME: s.name, L_KIND: s.kind, L_OWNER: owner, L_IMAGE: s.image, L_PORT: "0",
              L_MODE: "fixed" if s.fixed else "flexible", L_GPUS: str(s.gpus),
              L_CREATED: s.start.isoformat() if s.start else "", L_EXPIRY: s.expiry.isoformat() if s.expiry else ""}
    if s.cores is not None and s.cores > 0:
        labels[L_CORES] = f"{s.cores:g}"
    if s.ram_gb is not None and s.ram_gb > 0:
        labels[L_RAM] = f"{s.ram_gb:g}"
    return labels


def summary_of(s: PlatformSession, owner: str, now: datetime) -> dict[str, Any]:
    """The session as one entry of an engine's short container listing."""
    status = engine_state(s, now)[0]
    return {"Id": s.id, "Names": [f"/{s.id}"], "Image": s.image, "State": status, "Status": s.status,
            "Labels": labels_of(s, owner), "Ports": []}


def url_secret(url: str) -> str:
    """The secret a connect URL carries in its query (`token=`, `password=`, or a websocket path's
    own `token=`), so logs, reports and printed URLs can hide it; "" when it carries none."""
    try:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    except ValueError:
        return ""
    for key in ("token", "password"):
        for value in query.get(key, []):
            if len(value) >= 8:
                return value
    for path in query.get("path", []):
        found = url_secret("/?" + path.partition("?")[2])
        if found:
            return found
    return ""


def inspect_of(s: PlatformSession, owner: str, now: datetime, secret_env: str = "") -> dict[str, Any]:
    """The session as an engine's inspect document: state, times, memory limit, and the URL's secret
    under the kind's secret variable (`secret_env`) so it is redacted like a local session's."""
    status, code, error, finished = engine_state(s, now)
    secret = url_secret(s.connect_url)
    env = [f"{secret_env}={secret}"] if secret and secret_env else []
    limit = int(s.ram_gb * GIB) if s.fixed and s.ram_gb else 0
    return {
        "Id": s.id, "Name": f"/{s.id}",
        "Config": {"Labels": labels_of(s, owner), "Image": s.image, "Env": env},
        "State": {"Status": status, "ExitCode": code, "OOMKilled": False, "Error": error,
                  "StartedAt": s.start.isoformat() if s.start and status != "pending" else "",
                  "FinishedAt": finished.isoformat() if finished else ""},
        "HostConfig": {"Memory": limit},
        "NetworkSettings": {"Ports": {}},
    }


# --- events ----------------------------------------------------------------------------------------

def parse_events(text: str, session_id: str, fallback: datetime) -> list[dict[str, Any]]:
    """`GET /session/{id}?view=events`: a header, then rows whose columns are two or more spaces apart
    (TYPE REASON MESSAGE FIRST-TIME LAST-TIME), as raw events `core/events.parse_event` reads."""
    events = []
    when = fallback
    for line in text.splitlines():
        row = line.strip()
        if not row or is_none(row) or row.upper().startswith("TYPE "):
            continue
        cols = re.split(r"\s{2,}", row)
        level, reason = [*cols, "", ""][:2]
        rest = cols[2:]
        # the last one or two columns are times when they read as times (or "<none>"); the rest is the message
        stamps: list[str] = []
        while rest and len(stamps) < 2 and (is_none(rest[-1]) or parse_time(rest[-1]) is not None):
            stamps.insert(0, rest.pop())
        message = re.sub(r"\s+", " ", " ".join(c for c in rest if not is_none(c))).strip()
        times = [t for t in (parse_time(c) for c in stamps if not is_none(c)) if t is not None]
        when = times[-1] if times else when
        action = EVENT_ACTIONS.get(reason.lower(), reason or "event")
        detail = message if level.lower() != "warning" or action in EVENT_ACTIONS.values() else f"warning: {message}"
        events.append({"Type": "platform", "Action": action, "time": int(when.timestamp()),
                       "timeNano": int(when.timestamp() * 1e9),
                       "Actor": {"ID": session_id, "Attributes": {L_ID: session_id, "message": detail}}})
    return events


# --- capacity, context and images -----------------------------------------------------------------

@record
class PlatformContext:
    """`GET /context`: the resource options a session may ask for."""

    cores: tuple[int, ...]
    ram_gb: tuple[int, ...]
    gpus: tuple[int, ...]
    default_cores: int | None = None
    default_ram_gb: int | None = None
    max_sessions: int | None = None


def _options(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    found = sorted({n for n in (_int(v, -1) for v in value) if n >= 0})
    return tuple(found)


def parse_context(raw: Any) -> PlatformContext:
    """Current servers (`{"cores": {"options": […]}, "memoryGB": {…}, "gpus": {…}}`) and older ones
    (`availableCores`, `availableRAM`, `availableGPUs`)."""
    if not isinstance(raw, dict):
        raise ValueError("the context is not a JSON object")

    def section(key: str) -> dict[str, Any]:
        value = raw.get(key)
        return value if isinstance(value, dict) else {}

    cores = _options(section("cores").get("options")) or _options(raw.get("availableCores"))
    ram = _options(section("memoryGB").get("options")) or _options(raw.get("availableRAM"))
    gpus = _options(section("gpus").get("options")) or _options(raw.get("availableGPUs"))
    default_cores = section("cores").get("default", raw.get("defaultCores"))
    default_ram = section("memoryGB").get("default", raw.get("defaultRAM"))
    limit = raw.get("maxInteractiveSessions")
    return PlatformContext(
        cores=tuple(c for c in cores if c > 0), ram_gb=tuple(r for r in ram if r > 0), gpus=tuple(g for g in gpus if g > 0),
        default_cores=_int(default_cores) or None, default_ram_gb=_int(default_ram) or None,
        max_sessions=_int(limit) or None)


def parse_images(raw: Any) -> list[ImageInfo]:
    """`GET /image`: `[{"id": …, "types": […], "digest": …}]` (a bare string is an image of no known kind)."""
    if not isinstance(raw, list):
        raise ValueError("the image list is not a JSON array")
    found = []
    for item in raw:
        if isinstance(item, str):
            ref, types, digest = item, [], ""
        elif isinstance(item, dict) and _text(item.get("id")):
            ref, digest = _text(item.get("id")), _text(item.get("digest"))
            raw_types = item.get("types") or ([item["type"]] if item.get("type") else [])
            types = [str(t).lower() for t in raw_types] if isinstance(raw_types, list) else []
        else:
            continue
        found.append(ImageInfo(ref=ref, kinds=frozenset(types), size=0, created="", title="", digest=digest))
    return found


def capacity_text(raw: Any) -> str:
    """`GET /session?view=stats` in one line: what the platform's sessions request of what it has."""
    if not isinstance(raw, dict):
        return ""
    cores, ram = raw.get("cores"), raw.get("ram")
    cores = cores if isinstance(cores, dict) else {}
    ram = ram if isinstance(ram, dict) else {}
    parts = []
    asked, total = cores_of(cores.get("requestedCPUCores")), cores_of(cores.get("cpuCoresAvailable"))
    if asked is not None and total:
        parts.append(f"{asked:.0f} of {total:.0f} cores")
    asked_ram, total_ram = memory_bytes(ram.get("requestedRAM")), memory_bytes(ram.get("ramAvailable"))
    if asked_ram is not None and total_ram:
        parts.append(f"{asked_ram / GIB:.0f} of {total_ram / GIB:.0f} GB of memory")
    return ("sessions request " + " and ".join(parts)) if parts else ""


# --- usage as stats readings -----------------------------------------------------------------------

Counters = tuple[int, int, float]  # (CPU time in ns, elapsed time in ns, when), running totals


def stats_document(s: PlatformSession, before: Counters | None, now: float) -> tuple[dict[str, Any], Counters | None]:
    """What the platform measured (cores and memory in use) as an engine stats reading, so the monitors
    and `stats` read it as any other. CPU is accumulated into running totals (one reading against the
    previous gives the cores in use); {} when the platform measured nothing."""
    if not s.running or (s.cores_in_use is None and s.ram_in_use is None):
        return {}, before
    cpu0, sys0, t0 = before or (0, 0, now - 1.0)
    elapsed = max(now - t0, 1e-3)
    cpu = cpu0 + int((s.cores_in_use or 0.0) * elapsed * 1e9)
    system = sys0 + int(elapsed * 1e9)
    limit = int(s.ram_gb * GIB) if s.fixed and s.ram_gb else 0
    doc = {
        "read": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        "cpu_stats": {"cpu_usage": {"total_usage": cpu}, "system_cpu_usage": system, "online_cpus": 1},
        "precpu_stats": {"cpu_usage": {"total_usage": cpu0}, "system_cpu_usage": sys0},
        "memory_stats": {"usage": s.ram_in_use or 0, "limit": limit},
        "pids_stats": {}, "networks": {},
    }
    return doc, (cpu, system, now)
