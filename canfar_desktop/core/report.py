"""Host facts and the support report: what to send when asking for help, with every secret taken out.

The guide says: contact support with the session ID, the container image and the error messages.
The report gathers those plus what the app and the engine saw, and is redacted twice: known
secrets (the session's own) by value, and anything shaped like `token=…` or `password: …` by form.
"""

from __future__ import annotations

import platform
import re
import shutil
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .. import __version__
from .diagnostics import _existing_parent, meminfo, run_checks
from .errors import CanfarError
from .formats import human_bytes
from .hosts import is_remote
from .lifecycle import State
from .platform_hosts import is_platform
from .record import record
from .session import Session

if TYPE_CHECKING:
    from .service import SessionService

MASK = "********"
# key=value, key: value, "key": "value" and --key value forms of names that usually hold secrets.
_SECRET_NAMES = r"(?:[A-Za-z0-9_.-]*(?:token|password|passwd|secret|api[_-]?key|access[_-]?key))"
_SECRET_PATTERNS = [
    re.compile(rf"(?i)({_SECRET_NAMES}[\"']?\s*[=:]\s*[\"']?)([^\s\"'&,;}}]+)"),
    re.compile(rf"(?i)(--{_SECRET_NAMES}[ =])(\S+)"),
    re.compile(r"(?i)(Authorization:\s*(?:Bearer|Basic|token)\s+)(\S+)"),
    re.compile(r"(?i)(://[^/\s:@]+:)([^@\s/]+)(@)"),  # user:password@ in URLs
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values anywhere, then values of anything that looks like a secret setting."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(3) if m.lastindex and m.lastindex >= 3 else ""),
                           text)
    return text


@record
class HostOverview:
    """What the troubleshooting panel's host box and the report show about one Docker host."""

    name: str
    engine: str
    os: str
    cpus: int
    memory_total: int
    memory_used: int | None  # None on remote hosts (measured through /proc/meminfo, locally only)
    images_bytes: int | None
    containers_bytes: int | None
    volumes_bytes: int | None
    arc_where: str
    arc_free: int | None
    arc_total: int | None
    error: str = ""
    product: str = "Docker"  # what answers for the host: "Docker", or "Skaha" for a science platform
    capacity: str = ""  # a platform's load in one line

    def lines(self) -> list[str]:
        if self.error:
            return [f"host {self.name}: {self.error}"]
        out = [f"host {self.name}: {self.product} {self.engine} on {self.os}",
               f"CPUs {self.cpus}, memory {human_bytes(self.memory_total)}"
               + (f" ({human_bytes(self.memory_used)} in use)" if self.memory_used is not None else "")]
        if self.capacity:
            out.append(f"platform load: {self.capacity}")
        if self.images_bytes is not None:
            out.append(f"engine disk: images {human_bytes(self.images_bytes)}, containers "
                       f"{human_bytes(self.containers_bytes or 0)}, volumes {human_bytes(self.volumes_bytes or 0)}")
        if self.arc_free is not None and self.arc_total:
            out.append(f"/arc: {human_bytes(self.arc_free)} free of {human_bytes(self.arc_total)} at {self.arc_where}")
        else:
            out.append(f"/arc: {self.arc_where}")
        return out


def host_overview(service: SessionService, host: str | None = None, disk: bool = True) -> HostOverview:
    """Engine version, CPUs, memory (in use, for local hosts), engine disk use and /arc free space.

    `disk=False` skips the engine's disk usage call, which can take seconds on hosts with many images.
    """
    cfg = service.host_config(host)
    try:
        info = service.host(host).info()
    except CanfarError as exc:
        return HostOverview(cfg.name, "", "", 0, 0, None, None, None, None, "", None, None,
                            f"not reachable: {exc.message}")
    used: int | None = None
    arc_where, arc_free, arc_total = service.storage_description(host), None, None
    if not is_remote(cfg):
        mem = meminfo()
        if mem.get("MemTotal"):
            used = mem["MemTotal"] - mem.get("MemAvailable", mem.get("MemFree", 0))
        where = _existing_parent(service.settings.arc_folder())
        try:
            usage = shutil.disk_usage(where)
            arc_where, arc_free, arc_total = str(where), usage.free, usage.total
        except OSError:
            pass
    images = containers = volumes = None
    if disk:
        try:
            df = service.host(host).disk_usage()
            images = sum(int(i.get("Size", 0) or 0) for i in df.get("Images") or [])
            containers = sum(int(c.get("SizeRw", 0) or 0) for c in df.get("Containers") or [])
            volumes = sum(int((v.get("UsageData") or {}).get("Size", 0) or 0) for v in df.get("Volumes") or [])
        except CanfarError:
            pass
    return HostOverview(cfg.name, info.engine_version, info.os, info.cpus, info.memory_bytes, used,
                        images, containers, volumes, arc_where, arc_free, arc_total,
                        product=info.engine, capacity=info.capacity)


def _stamp(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "-"


def support_report(service: SessionService, session: Session, seen: Sequence[tuple[datetime, str, str]] = (),
                   log_lines: int = 40, checks: bool = True) -> str:
    """A plain-text report for support: the session, its state history, errors, logs, host and app.

    `seen` is what the app saw this run: (when, state, reason) in order. Every part is redacted.
    """
    s = session
    if not s.secret:
        try:
            s = service.get(s.id, s.host)
        except CanfarError:
            pass
    kills = service.oom_kills(s)
    try:
        on_platform = is_platform(service.host_config(s.host))
    except CanfarError:
        on_platform = False
    runs = "the platform" if on_platform else "the engine"
    lines = [
        "CANFAR Desktop support report",
        f"generated {_stamp(datetime.now(UTC))} by canfar-desktop {__version__} "
        f"(Python {platform.python_version()}, {platform.system()} {platform.release()})",
        "",
        "== Session",
        f"id:         {s.id}",
        f"name:       {s.name}",
        f"kind:       {s.kind}",
        f"image:      {s.image}",
        f"host:       {s.host}",
        f"platform:   session {s.id} on {s.host} (the platform runs it; no container here)" if on_platform
        else f"container:  {s.container_name} ({s.container_id[:12]})",
        f"resources:  {s.describe_resources()}"
        + (f", memory limit {human_bytes(s.memory_limit)}" if s.memory_limit else ""),
        f"state:      {s.state.value}" + (f" ({s.reason})" if s.reason else ""),
        f"{'status:' if on_platform else 'engine:':<12}{s.status}"
        + (f", exit code {s.exit_code}" if s.exit_code is not None else "")
        + (", killed: out of memory" if s.oom_killed else ""),
        f"oom kills:  {len(kills)}" + (" (" + ", ".join(_stamp(k) for k in kills[-5:]) + ")" if kills else ""),
        f"created:    {_stamp(s.created)}",
        f"started:    {_stamp(s.started_at)}",
        f"finished:   {_stamp(s.finished_at)}",
        f"expires:    {_stamp(s.expiry)}",
        "",
        "== Errors",
    ]
    errors = [e for e in (s.error, s.reason if s.state == State.FAILED else "") if e]
    lines += [f"- {e}" for e in dict.fromkeys(errors)] or [f"(none reported by {runs})"]
    lines += ["", "== State history seen by the app this run"]
    lines += [f"{_stamp(when)}  {state}" + (f"  ({reason})" if reason else "") for when, state, reason in seen] \
        or ["(the app did not watch this session change)"]
    lines += ["", "== Platform events" if on_platform else "== Engine events"]
    try:
        events = service.events_of(s)
        lines += [f"{_stamp(e.when)}  {e.action:<13} {e.detail}".rstrip() for e in events] or ["(none recorded)"]
    except CanfarError as exc:
        lines.append(f"(could not read events: {exc.message})")
    if checks:
        lines += ["", "== Diagnosis"]
        try:
            for c in run_checks(service, s.id, s.host):
                lines.append(f"{c.symbol} {c.title}: {c.verdict}" + (f" [{c.figure}]" if c.figure else ""))
                if c.hint and c.level != "ok":
                    lines.append(f"    -> {c.hint}")
        except CanfarError as exc:
            lines.append(f"(diagnosis failed: {exc.message})")
    lines += ["", f"== Last {log_lines} log lines"]
    try:
        lines += service.tail_logs(s, log_lines) or ["(no output)"]
    except CanfarError as exc:
        lines.append(f"(could not read logs: {exc.message})")
    lines += ["", "== Host"]
    lines += host_overview(service, s.host).lines()
    return redact("\n".join(lines) + "\n", [s.secret])
