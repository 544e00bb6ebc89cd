"""The troubleshooting guide as measurements: each check gives a verdict, the figure behind it and a hint.

`canfar-desktop doctor [ID]` prints these; the app's troubleshooting panel shows the same list.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CanfarError
from .formats import human_bytes
from .hosts import is_remote
from .lifecycle import ACTIVE, State
from .monitor import Sample, parse_stats, reading_time
from .platform_hosts import is_platform
from .record import asdict, record, replace
from .session import Session

if TYPE_CHECKING:
    from .service import SessionService

SYMBOLS = {"ok": "✔", "info": "•", "warn": "!", "fail": "✘"}


@record
class Check:
    id: str
    title: str
    level: str  # ok, info, warn, fail
    verdict: str
    figure: str = ""
    hint: str = ""

    @property
    def symbol(self) -> str:
        return SYMBOLS.get(self.level, "?")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_checks(service: SessionService, session_ref: str | None = None, host: str | None = None) -> list[Check]:
    """Host checks, then (with a session) the checks of each trouble the guide names."""
    if is_platform(service.host_config(host)):  # a science platform: what its API offers (platform_checks.py)
        from .platform_checks import run_platform_checks

        return run_platform_checks(service, session_ref, host)
    checks: list[Check] = []
    engine = check_engine(service, host)
    checks.append(engine)
    if engine.level == "fail":
        return checks
    checks += [check_host_memory(service, host), check_session_limit(service, host), check_images(service, host)]
    checks += check_disk(service, host)
    checks += check_arc_permissions(service, host)
    from .project_checks import group_checks, session_group_checks  # projects' groups, beside the uid's

    checks += group_checks(service, host)
    if session_ref:
        try:
            s = service.get(session_ref, host)
        except CanfarError as exc:
            checks.append(Check("session", "Session", "fail", exc.message, hint=exc.hint))
            return checks
        checks += session_checks(service, s) + session_group_checks(service, s)
    return checks


def session_checks(service: SessionService, s: Session) -> list[Check]:
    if is_platform(service.host_config(s.host)):
        from .platform_checks import platform_session_checks

        return platform_session_checks(service, s)
    s = replace(s, oom_kills=service.oom_kills(s))
    out = [check_start(service, s), check_oom(s)]
    if s.status == "running":
        out += check_slow(service, s)
    return out


# --- host ---------------------------------------------------------------------------------------

def check_engine(service: SessionService, host: str | None) -> Check:
    started = time.monotonic()
    try:
        dh = service.host(host)
        info = dh.info(refresh=True)
    except CanfarError as exc:
        return Check("engine", "Docker engine", "fail", f"not reachable: {exc.message}", hint=exc.hint)
    rtt = (time.monotonic() - started) * 1000
    return Check("engine", "Docker engine", "ok", f"Docker {info.engine_version} (API {info.api_version}) on {info.os}",
                 f"{info.cpus} CPUs, {human_bytes(info.memory_bytes)}, answered in {rtt:.0f} ms")


def meminfo(path: Path = Path("/proc/meminfo")) -> dict[str, int]:
    """Host memory figures in bytes from /proc/meminfo (local hosts only)."""
    out: dict[str, int] = {}
    try:
        for line in path.read_text().splitlines():
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                out[key] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    except (OSError, ValueError):
        pass
    return out


def check_host_memory(service: SessionService, host: str | None) -> Check:
    cfg = service.host_config(host)
    if is_remote(cfg):
        return Check("host-memory", "Host memory", "info", "measured on local hosts only")
    mem = meminfo()
    total, available = mem.get("MemTotal", 0), mem.get("MemAvailable", 0)
    if not total:
        return Check("host-memory", "Host memory", "info", "not measurable on this system")
    used = total - available
    figure = f"{human_bytes(used)} used of {human_bytes(total)}, {human_bytes(available)} available"
    if available < 0.05 * total or available < 512 * 1024**2:
        return Check("host-memory", "Host memory", "fail", "almost no memory left on the host", figure,
                     "delete or stop sessions you do not need, or launch fixed sessions with less memory")
    if available < 0.15 * total:
        return Check("host-memory", "Host memory", "warn", "the host is under memory pressure", figure,
                     "new sessions may start slowly or be killed; delete sessions you do not need")
    return Check("host-memory", "Host memory", "ok", "enough memory available", figure)


def check_session_limit(service: SessionService, host: str | None) -> Check:
    sessions = service.sessions(host, probe=False)
    active = sum(1 for s in sessions if s.state in ACTIVE)
    limit = service.settings.session_limit
    figure = f"{active} of {limit} active"
    if active >= limit:
        return Check("limit", "Active sessions", "warn", "at the limit: a new launch will be refused", figure,
                     "delete a session (canfar-desktop delete ID) or raise session_limit in settings")
    return Check("limit", "Active sessions", "ok", "below the limit", figure)


def check_images(service: SessionService, host: str | None) -> Check:
    images = service.host(host).images()
    kinds = sorted({k for i in images for k in i.kinds})
    if not kinds:
        return Check("images", "Session images", "warn", "no image on this host is labelled for a session kind", "",
                     "build the bundled images (make images) or pull one, e.g. docker pull images.canfar.net/skaha/astroml")
    return Check("images", "Session images", "ok", f"images for: {', '.join(kinds)}",
                 f"{sum(1 for i in images if i.kinds)} labelled image(s)")


def check_disk(service: SessionService, host: str | None) -> list[Check]:
    out: list[Check] = []
    cfg = service.host_config(host)
    if not is_remote(cfg):
        arc = service.settings.arc_folder()
        where = _existing_parent(arc)
        usage = shutil.disk_usage(where)
        figure = f"{human_bytes(usage.free)} free of {human_bytes(usage.total)} at {where}"
        biggest = largest_folders(arc / "home" / service.settings.user)
        if biggest:
            figure += "; largest in your home: " + ", ".join(f"{n} {human_bytes(b)}" for n, b in biggest[:3])
        if usage.free < 0.02 * usage.total or usage.free < 200 * 1024**2:
            out.append(Check("disk-arc", "Space for /arc", "fail", "the disk behind /arc is full", figure,
                             "remove or compress large files (gzip), move old data to vault, or use /scratch "
                             "for temporary files"))
        elif usage.free < 0.10 * usage.total or usage.free < 2 * 1024**3:
            out.append(Check("disk-arc", "Space for /arc", "warn", "the disk behind /arc is nearly full", figure,
                             "clean up large temporary files before sessions fail with 'No space left on device'"))
        else:
            out.append(Check("disk-arc", "Space for /arc", "ok", "enough free space", figure))
    try:
        df = service.host(host).disk_usage()
    except CanfarError:
        return out
    images = sum(int(i.get("Size", 0)) for i in df.get("Images") or [])
    containers = sum(int(c.get("SizeRw", 0) or 0) for c in df.get("Containers") or [])
    volumes = sum(int((v.get("UsageData") or {}).get("Size", 0) or 0) for v in df.get("Volumes") or [])
    ended = [s for s in service.sessions(host, probe=False) if s.state not in ACTIVE]
    reclaim = sum(int(c.get("SizeRw", 0) or 0) for c in df.get("Containers") or []
                  if c.get("Id") in {s.container_id for s in ended})
    reclaim += sum(folder_size(service.paths.scratch_dir / s.id) for s in ended)
    out.append(Check("disk-engine", "Engine disk use", "info",
                     f"images {human_bytes(images)}, containers {human_bytes(containers)}, volumes {human_bytes(volumes)}",
                     f"{len(ended)} ended session(s); deleting them frees {human_bytes(reclaim)}",
                     "canfar-desktop prune '' --force deletes every ended session" if ended else ""))
    return out


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def folder_size(path: Path, budget: float = 2.0) -> int:
    """Bytes under a folder, giving up after `budget` seconds on huge trees."""
    total = 0
    deadline = time.monotonic() + budget
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
        if time.monotonic() > deadline:
            break
    return total


def largest_folders(path: Path, limit: int = 5) -> list[tuple[str, int]]:
    try:
        entries = list(os.scandir(path))
    except OSError:
        return []
    sizes = []
    for entry in entries:
        try:
            size = folder_size(Path(entry.path), 0.5) if entry.is_dir(follow_symlinks=False) else entry.stat().st_size
        except OSError:
            continue
        sizes.append((entry.name, size))
    return sorted(sizes, key=lambda item: item[1], reverse=True)[:limit]


def can_access(path: Path, uid: int, gid: int, need_write: bool = True) -> tuple[bool, str]:
    """Whether uid/gid may read (and write) a folder, from its owner and mode bits."""
    try:
        st = path.stat()
    except OSError as exc:
        return False, f"{path}: {exc.strerror}"
    mode = st.st_mode
    if st.st_uid == uid:
        want = stat.S_IRUSR | stat.S_IXUSR | (stat.S_IWUSR if need_write else 0)
    elif st.st_gid == gid:
        want = stat.S_IRGRP | stat.S_IXGRP | (stat.S_IWGRP if need_write else 0)
    else:
        want = stat.S_IROTH | stat.S_IXOTH | (stat.S_IWOTH if need_write else 0)
    figure = f"{path} owner {st.st_uid}:{st.st_gid} mode {stat.filemode(mode)}"
    return (mode & want) == want, figure


def check_arc_permissions(service: SessionService, host: str | None) -> list[Check]:
    if is_remote(service.host_config(host)):
        return []
    settings = service.settings
    arc = settings.arc_folder()
    out = []
    for path, write in ((arc / "home" / settings.user, True), (arc / "projects", False)):
        if not path.exists():
            continue
        ok, figure = can_access(path, settings.uid, settings.gid, need_write=write)
        what = "read and write" if write else "read"
        if ok:
            out.append(Check(f"access-{path.name}", f"Access to {path}", "ok",
                             f"uid {settings.uid} can {what} it", figure))
        else:
            out.append(Check(f"access-{path.name}", f"Access to {path}", "fail",
                             f"sessions run as uid {settings.uid} and cannot {what} it", figure,
                             f"sudo chown -R {settings.uid}:{settings.gid} {path}  (or chmod g+rwX for a shared group)"))
    return out


# --- session -------------------------------------------------------------------------------------

def check_start(service: SessionService, s: Session) -> Check:
    title = "Session start"
    if s.state in (State.RUNNING, State.SUSPENDED):
        return Check("start", title, "ok", f"{s.state.value}", f"started {s.started_at:%Y-%m-%d %H:%M}"
                     if s.started_at else "")
    if s.state == State.FAILED and s.status == "created":
        figure = s.error
        hint = "run canfar-desktop doctor for the host checks"
        if "port is already allocated" in s.error or "address already in use" in s.error:
            port = _requested_port(service, s)
            figure = f"port {port} on 127.0.0.1 is taken" if port else s.error
            hint = "delete this session and launch again without a fixed port (a free one is chosen)"
        return Check("start", title, "fail", "the container could not start", figure, hint)
    if s.state == State.FAILED and not s.oom_killed:
        logs = service.tail_logs(s, 5)
        return Check("start", title, "fail", f"the session's process exited with code {s.exit_code}",
                     " | ".join(logs[-3:]) if logs else "no output",
                     "read the last lines of output above (canfar-desktop logs ID); try the kind's default image")
    if s.state == State.LAUNCHING:
        if not service.host(s.host).has_image(s.image):
            return Check("start", title, "fail", f"the image {s.image} is not on the host", "",
                         "pull it (docker pull) or pick an image from canfar-desktop image ls")
        age = (service.clock() - s.started_at).total_seconds() if s.started_at else 0
        level = "warn" if age > 120 else "info"
        return Check("start", title, level, f"launching: {s.reason}", f"{age:.0f} s since start",
                     "large images take minutes to pull; see canfar-desktop logs ID for the app's progress")
    return Check("start", title, "info", s.state.value, s.reason)


def _requested_port(service: SessionService, s: Session) -> str:
    try:
        data = service.host(s.host).inspect(s.container_id)
    except CanfarError:
        return ""
    for bindings in ((data.get("HostConfig") or {}).get("PortBindings") or {}).values():
        for b in bindings or []:
            if b.get("HostPort"):
                return str(b["HostPort"])
    return ""


def check_oom(s: Session) -> Check:
    if s.oom_kills and not s.oom_killed:
        limit = s.memory_limit or 0
        suggestion = max(1, round(2 * limit / 1024**3)) if limit else 16
        times = len(s.oom_kills)
        return Check("oom", "Memory", "fail",
                     f"out of memory: the kernel killed a process {times} time{'s' if times > 1 else ''} "
                     f"(last at {s.oom_kills[-1].astimezone():%H:%M}); a notebook kernel restarts after it",
                     f"limit {human_bytes(limit)}" if limit else "",
                     f"launch a fixed session with more memory (e.g. canfar-desktop create {s.kind} {s.image} "
                     f"-m {suggestion}), or process data in smaller chunks")
    if s.oom_killed:
        limit = s.memory_limit or 0
        suggestion = max(1, round(2 * limit / 1024**3)) if limit else 16
        return Check("oom", "Memory", "fail", "out of memory: the kernel killed the session",
                     f"limit {human_bytes(limit)}" if limit else "",
                     f"launch a fixed session with more memory (e.g. canfar-desktop create {s.kind} {s.image} "
                     f"-m {suggestion}), or process data in smaller chunks")
    return Check("oom", "Memory", "ok", "no out-of-memory kill", f"limit {human_bytes(s.memory_limit)}"
                 if s.memory_limit else "no limit (flexible)")


def two_samples(service: SessionService, s: Session) -> tuple[Sample, Sample, float] | None:
    """Two consecutive stats readings (about a second apart) and the seconds between them, for rates."""
    stream = None
    try:
        stream = service.host(s.host).stats_stream(s.container_id)
        readings = iter(stream)
        first, second = next(readings), next(readings)
    except (CanfarError, StopIteration):
        return None
    except Exception:  # noqa: BLE001 - the container may vanish mid-stream
        return None
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    t0, t1 = reading_time(first), reading_time(second)
    if t0 is None or t1 is None or t1 <= t0:
        return None  # the container stopped between the readings
    return parse_stats(first), parse_stats(second, first), t1 - t0


def check_slow(service: SessionService, s: Session, sampler: Callable[..., Any] = two_samples) -> list[Check]:
    pair = sampler(service, s)
    if pair is None:
        return [Check("slow", "Performance", "info", "could not sample the session")]
    a, b, seconds = pair
    out = []
    periods = b.periods - a.periods
    throttled = b.throttled_periods - a.throttled_periods
    ratio = throttled / periods if periods > 0 else 0.0
    figure = f"CPU {b.cpu_percent:.0f}%, throttled in {ratio * 100:.0f}% of periods"
    if ratio > 0.2:
        out.append(Check("cpu", "CPU", "warn", "the session is held back at its CPU limit", figure,
                         "launch a session with more cores, or reduce the threads your code uses"))
    else:
        out.append(Check("cpu", "CPU", "ok", "not limited by its CPU share", figure))
    if b.limit_bytes and b.memory_bytes > 0.9 * b.limit_bytes:
        out.append(Check("mem-near", "Memory use", "warn", "close to its memory limit",
                         f"{human_bytes(b.memory_bytes)} of {human_bytes(b.limit_bytes)}",
                         "save your work; launch a fixed session with more memory before it is killed"))
    io_rate = ((b.blk_read + b.blk_write) - (a.blk_read + a.blk_write)) / seconds
    if io_rate > 50 * 1024**2:
        out.append(Check("io", "Disk I/O", "warn", "heavy disk I/O", f"{human_bytes(io_rate)}/s",
                         "use /scratch for intensive I/O and copy results to /arc at the end"))
    return out
