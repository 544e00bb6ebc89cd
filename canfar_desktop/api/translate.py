"""Sessions, events, images and the host's capacity in the platform's own shapes and words (pure functions).

The shapes follow what CANFAR's session service sends and what the official `canfar` client
parses: field names, ISO 8601 times with `Z`, status words (Pending, Running, Terminating,
Completed, Failed), decimal-GB strings for memory and the events table whose columns are
separated by two or more spaces.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..core.events import EngineEvent
from ..core.host import HostInfo, ImageInfo
from ..core.lifecycle import State
from ..core.record import record
from ..core.session import Session
from ..core.settings import Resources
from ..core.validation import CANFAR_REGISTRY, normalize_image

# The platform's words, as the client's types list them.
PLATFORM_KINDS = ("desktop", "notebook", "carta", "headless", "firefly", "desktop-app", "contributed")
PLATFORM_STATUSES = ("Pending", "Running", "Terminating", "Succeeded", "Completed", "Error", "Failed")
LEGACY_STATUS = {"succeeded": "Completed", "error": "Failed"}
FLEX_REQUEST = Resources(mode="flexible", cores=1, ram_gb=4)  # what a flexible session reserves (CANFAR's too)
RUNNING_STATUSES = ("running", "paused", "restarting")


@record
class Usage:
    """What a running session uses now, as the engine measured it."""

    cpu_cores: float
    memory_bytes: int


def platform_status(s: Session) -> str:
    """The platform's status word for a session's state."""
    if s.state == State.LAUNCHING:
        return "Pending"
    if s.state in (State.RUNNING, State.SUSPENDED):
        return "Running"
    if s.state == State.TERMINATING:
        return "Terminating"
    if s.state == State.TERMINATED:
        return "Completed"
    if s.state == State.EXPIRED and s.status in RUNNING_STATUSES:
        return "Terminating"  # past its expiry and being stopped
    return "Failed"  # Failed, and Expired (the platform's portal shows a Failed session as "Expired")


def status_filter(word: str | None) -> str | None:
    """A `status=` parameter as the status word it selects (legacy words included); None selects all."""
    if not word:
        return None
    key = word.strip().lower()
    if key in LEGACY_STATUS:
        return LEGACY_STATUS[key]
    for known in PLATFORM_STATUSES:
        if known.lower() == key:
            return known
    return word.strip()  # the platform filters by any word: an unknown one selects nothing


def iso_z(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def cores_text(cores: float) -> str:
    """Cores as the platform writes them: whole numbers plain, fractions with three decimals."""
    return str(int(cores)) if float(cores).is_integer() else f"{cores:.3f}"


def gb_text(n_bytes: float) -> str:
    """Memory as decimal GB with two decimals, the session listing's unit."""
    return f"{n_bytes / 1e9:.2f}"


def size_text(gb: float) -> str:
    """Memory for the stats view: `23.4G`."""
    return f"{gb:.2f}".rstrip("0").rstrip(".") + "G"


def session_json(s: Session, uid: int, gid: int, url: str | None = None, usage: Usage | None = None) -> dict[str, Any]:
    """One session as the platform lists it; fields that are not known are left out."""
    fixed = s.resources.mode == "fixed"
    data: dict[str, Any] = {
        "id": s.id,
        "userid": s.owner,
        "runAsUID": str(uid),
        "runAsGID": str(gid),
        "supplementalGroups": [],
        "image": s.image,
        "type": s.kind,
        "status": platform_status(s),
        "name": s.name,
        "startTime": iso_z(s.created),
        "expiryTime": iso_z(s.expiry),
        "connectURL": url,
        "requestedGPUCores": str(s.resources.gpus),
        "isFixedResources": fixed,
    }
    if fixed:
        ram = s.memory_limit if s.memory_limit else s.resources.ram_gb * 1024**3
        data["requestedRAM"] = gb_text(ram)
        data["requestedCPUCores"] = cores_text(s.resources.cores)
    if usage is not None:
        data["ramInUse"] = gb_text(usage.memory_bytes)
        data["cpuCoresInUse"] = f"{usage.cpu_cores:.3f}"
    return {key: value for key, value in data.items() if value is not None}


def public_json(s: Session) -> dict[str, Any]:
    """What `view=all` shows of anyone's session: who, what kind, its status and start."""
    data = {"userid": s.owner, "type": s.kind, "status": platform_status(s), "startTime": iso_z(s.created)}
    return {key: value for key, value in data.items() if value is not None}


_REASONS = {
    "create": "Created", "start": "Started", "restart": "Restarted", "die": "Died", "oom": "OOMKilled",
    "kill": "Killing", "stop": "Stopped", "pause": "Paused", "unpause": "Resumed", "destroy": "Deleted",
    "health_status": "Health",
}


def _event_row(e: EngineEvent) -> list[str]:
    failed = e.action == "oom" or (e.action == "die" and e.detail not in ("exit code 0", "exit code 143"))
    reason = _REASONS.get(e.action, e.action.capitalize() or "Event")
    message = re.sub(r"\s+", " ", e.detail).strip() or f"container {e.action}"
    stamp = iso_z(e.when) or "<none>"
    return ["Warning" if failed else "Normal", reason, message, stamp, stamp]


def events_text(events: Iterable[EngineEvent]) -> str:
    """The engine's events as the platform's table: a header, then one row per event, columns apart by
    at least two spaces (what the client splits on); `<none>` when there are none."""
    rows = [_event_row(e) for e in events]
    if not rows:
        return "<none>\n"
    table = [["TYPE", "REASON", "MESSAGE", "FIRST-TIME", "LAST-TIME"], *rows]
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    lines = ["   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in table]
    return "\n".join(lines) + "\n"


def requested(s: Session) -> Resources:
    """What a session reserves: its fixed cores and RAM, or a flexible session's request."""
    return s.resources if s.resources.mode == "fixed" else FLEX_REQUEST


def stats_json(infos: Iterable[HostInfo], sessions: Iterable[Session]) -> dict[str, Any]:
    """The platform's `view=stats`: cores and RAM the active sessions reserve against the hosts' capacity."""
    hosts = list(infos)
    active = [s for s in sessions if s.active]
    cores = sum(requested(s).cores for s in active)
    ram = sum(requested(s).ram_gb for s in active)
    biggest = max(hosts, key=lambda h: (h.cpus, h.memory_bytes), default=None)
    max_cores = float(biggest.cpus) if biggest else 0.0
    max_ram = size_text(biggest.memory_bytes / 1e9) if biggest else "0G"
    return {
        "cores": {
            "requestedCPUCores": float(cores),
            "cpuCoresAvailable": float(sum(h.cpus for h in hosts)),
            "maxCPUCores": {"cpuCores": max_cores, "withRam": max_ram},
        },
        "ram": {
            "requestedRAM": size_text(ram * 1024**3 / 1e9),
            "ramAvailable": size_text(sum(h.memory_bytes for h in hosts) / 1e9),
            "maxRAM": {"ram": max_ram, "withCPUCores": max_cores},
        },
    }


def core_options(info: HostInfo) -> list[int]:
    return list(range(1, max(1, info.cpus) + 1))


def ram_options(info: HostInfo) -> list[int]:
    return list(range(1, max(1, math.floor(info.memory_gb)) + 1))


def gpu_options(info: HostInfo) -> list[int]:
    return list(range(1, 29)) if info.gpus_possible else []


def context_json(info: HostInfo, defaults: Resources, session_limit: int) -> dict[str, Any]:
    """The host's real capacity as the platform's resource options."""
    cores, ram = core_options(info), ram_options(info)
    return {
        "cores": {"default": min(max(1, int(defaults.cores)), cores[-1]), "defaultRequest": 1,
                  "defaultLimit": min(8, cores[-1]), "options": cores},
        "memoryGB": {"default": min(max(1, int(defaults.ram_gb)), ram[-1]), "defaultRequest": min(4, ram[-1]),
                     "defaultLimit": min(32, ram[-1]), "options": ram},
        "gpus": {"options": gpu_options(info)},
        "maxInteractiveSessions": session_limit,
    }


def image_types(image: ImageInfo) -> list[str]:
    """The kinds an image serves; any image labelled for a kind can also run a batch (headless) job."""
    kinds = set(image.kinds) & set(PLATFORM_KINDS)
    return sorted(kinds | {"headless"}, key=PLATFORM_KINDS.index) if kinds else []


def images_json(images: Iterable[ImageInfo], kind: str | None = None) -> list[dict[str, Any]]:
    out = []
    for image in sorted(images, key=lambda i: i.ref):
        types = image_types(image)
        if types and (kind is None or kind in types):
            out.append({"id": image.ref, "types": types, "digest": image.digest})
    return out


def local_image(requested_ref: str, available: Iterable[str]) -> str:
    """The image a request means on this host.

    The client prefixes a two-part name with CANFAR's registry (`canfar-desktop/notebook:latest`
    becomes `images.canfar.net/canfar-desktop/notebook:latest`); when the host has no image of that
    name but has the unprefixed one, that local image is meant.
    """
    ref = normalize_image(requested_ref)
    refs = set(available)
    prefix = CANFAR_REGISTRY + "/"
    if ref not in refs and ref.startswith(prefix) and ref.removeprefix(prefix) in refs:
        return ref.removeprefix(prefix)
    return ref
