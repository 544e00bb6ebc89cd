"""The troubleshooting checks for a science platform host and its sessions, with what its API offers.

The platform reports a session's state, its events and logs, and the cores and memory it uses
against what it asked for; it does not let anyone measure its nodes, disks or processes, so the
checks that need an engine say they do not apply instead of guessing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .diagnostics import Check, check_images
from .errors import CanfarError
from .formats import human_bytes
from .host import platform_of
from .lifecycle import ACTIVE, State
from .monitor import sample_once
from .session import Session

if TYPE_CHECKING:
    from .service import SessionService

TITLE = "CANFAR Science Platform"
ENGINE_ONLY = "measured on Docker hosts only; the platform does not report it"


def run_platform_checks(service: SessionService, session_ref: str | None, host: str | None) -> list[Check]:
    """The platform answers (and who is signed in), its limits and images, then the session's checks."""
    checks = [check_platform(service, host)]
    if checks[0].level == "fail":
        return checks
    checks += [
        Check("host-memory", "Host memory", "info", "does not apply: the platform runs sessions on its own nodes"),
        check_platform_limit(service, host),
        check_images(service, host),
        Check("disk-arc", "Space for /arc", "info", "does not apply here: /arc is the platform's storage",
              hint="see your quota in the CANFAR portal's storage page"),
    ]
    if session_ref:
        try:
            s = service.get(session_ref, host)
        except CanfarError as exc:
            checks.append(Check("session", "Session", "fail", exc.message, hint=exc.hint))
            return checks
        checks += platform_session_checks(service, s)
    return checks


def check_platform(service: SessionService, host: str | None) -> Check:
    started = time.monotonic()
    try:
        dh = service.host(host)
        info = dh.info(refresh=True)
        service.sessions(dh.name, probe=False)  # the session list needs the login, the options do not
    except CanfarError as exc:
        return Check("engine", TITLE, "fail", f"not usable: {exc.message}", hint=exc.hint)
    rtt = (time.monotonic() - started) * 1000
    platform = platform_of(dh)
    login = platform.login() if platform is not None else ""
    figure = f"sessions up to {info.cpus} cores and {human_bytes(info.memory_bytes)}, answered in {rtt:.0f} ms"
    if info.capacity:
        figure += f"; {info.capacity}"
    cred = getattr(dh, "credential", None)
    now = datetime.now(UTC)
    if cred is not None and cred.expires_soon(now):
        return Check("engine", TITLE, "warn", f"{info.os}; {login}", figure, cred.renew)
    return Check("engine", TITLE, "ok", f"{info.os}" + (f"; {login}" if login else ""), figure)


def check_platform_limit(service: SessionService, host: str | None) -> Check:
    sessions = service.sessions(host, probe=False)
    active = sum(1 for s in sessions if s.state in ACTIVE and s.kind != "headless")
    limit = service.host_info(host).session_limit
    if limit is None:
        return Check("limit", "Active sessions", "info", "the platform sets its own limit",
                     f"{active} interactive session(s) active")
    figure = f"{active} of {limit} active"
    if active >= limit:
        return Check("limit", "Active sessions", "warn", "at the platform's limit: a new launch will be refused",
                     figure, "delete a session you no longer need (canfar-desktop delete ID)")
    return Check("limit", "Active sessions", "ok", "below the platform's limit", figure)


def platform_session_checks(service: SessionService, s: Session) -> list[Check]:
    try:
        events = service.events_of(s)
    except CanfarError:
        events = []
    warnings = [e for e in events if e.detail.startswith("warning:") or e.action in ("oom", "die", "kill")]
    out = [_start(service, s, warnings[-1].detail if warnings else "")]
    kills = [e for e in events if e.action == "oom"]
    if kills:
        out.append(Check("oom", "Memory", "fail", f"out of memory: the platform killed it {len(kills)} time(s)",
                         kills[-1].detail, f"launch a fixed session with more memory (e.g. canfar-desktop create "
                                           f"{s.kind} {s.image} -m 32 --host {s.host})"))
    if s.status == "running":
        out.append(_usage(service, s))
    out.append(Check("slow", "CPU throttling, disk I/O and processes", "info", ENGINE_ONLY))
    return out


def _start(service: SessionService, s: Session, last_warning: str) -> Check:
    title = "Session start"
    if s.state in (State.RUNNING, State.SUSPENDED):
        return Check("start", title, "ok", "Running on the platform")
    if s.state == State.LAUNCHING:
        age = (service.clock() - s.created).total_seconds() if s.created else 0.0
        return Check("start", title, "warn" if age > 600 else "info", f"launching: {s.reason}",
                     last_warning or f"{age:.0f} s since it was submitted",
                     "the platform may be pulling a large image or waiting for free cores; its events say which")
    if s.state == State.FAILED:
        return Check("start", title, "fail", s.reason or "the platform reports it failed", last_warning,
                     f"read its events and logs (canfar-desktop events {s.id}; canfar-desktop logs {s.id})")
    return Check("start", title, "info", s.state.value, s.reason)


def _usage(service: SessionService, s: Session) -> Check:
    sample = sample_once(service, s)
    if sample is None:
        return Check("usage", "Resources in use", "info", "the platform has not measured this session yet")
    used = f"{sample.cpu_percent / 100:.2f} cores, {human_bytes(sample.memory_bytes)}"
    if s.resources.mode != "fixed":
        return Check("usage", "Resources in use", "ok", "a flexible session", f"using {used}")
    asked = f"{s.resources.cores:g} cores, {s.resources.ram_gb:g} GB requested"
    if sample.limit_bytes and sample.memory_bytes > 0.9 * sample.limit_bytes:
        return Check("usage", "Resources in use", "warn", "close to the memory it asked for", f"{used} of {asked}",
                     "save your work; launch a session with more memory before it is killed")
    return Check("usage", "Resources in use", "ok", "within what it asked for", f"{used} of {asked}")
