"""The use cases: list, launch, wait, renew, delete, prune, expire. Shared by the CLI and the app.

Every method blocks (the Docker SDK does); the app calls them from worker threads.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import plan as P
from .backend import DockerHost, ProgressFn
from .errors import (
    CanfarError,
    LaunchError,
    LimitError,
    NotFound,
    StateError,
    ValidationError,
)
from .events import EngineEvent, parse_event
from .hosts import HELPER_LABEL, is_remote, make_dialer, make_host, prepare_volumes, storage_description
from .kinds import KINDS, get_kind
from .ledger import Ledger
from .lifecycle import INTERRUPTED_AFTER_S, Facts, State, derive_state
from .probe import connection_counts, http_ready
from .session import Session, from_summary, with_inspect
from .settings import AppPaths, HostConfig, Resources, Settings, write_atomic
from .tunnels import Target, TunnelManager
from .validation import normalize_image, parse_env, validate_name, validate_resources

Clock = Callable[[], datetime]
LOCAL_ADDRESS = "127.0.0.1"
ACTIVE_STATUSES = ("created", "running", "restarting", "paused")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HostStatus:
    name: str
    ok: bool
    error: str = ""
    rtt_ms: float | None = None


@dataclass(frozen=True)
class HostListing:
    """The last listing of one host: while it is unreachable, its last known sessions stay here so the
    UI can show them as "host unreachable" instead of Terminated."""

    host: str
    sessions: tuple[Session, ...]
    reachable: bool
    error: CanfarError | None = None
    listed_at: datetime | None = None  # when `sessions` were read from the engine
    checked_at: datetime | None = None  # when the host was last tried


class SessionService:
    def __init__(self, settings: Settings, paths: AppPaths, clock: Clock = utcnow,
                 hosts: dict[str, DockerHost] | None = None) -> None:
        self.settings = settings
        self.paths = paths
        self.clock = clock
        self.ledger = Ledger(paths.ledger_file)
        self._hosts: dict[str, DockerHost] = dict(hosts or {})
        self._ready: set[str] = set()  # container ids whose app has answered since they started
        self._connections: dict[int, int] | None = None  # per-port connection counts during one listing
        self._lock = threading.Lock()
        self.tunnels = TunnelManager()  # local forwards to sessions on remote hosts
        self._listings: dict[str, HostListing] = {}

    # --- hosts --------------------------------------------------------------------------------

    def host_config(self, name: str | None = None) -> HostConfig:
        return self.settings.host(name)

    def host(self, name: str | None = None) -> DockerHost:
        cfg = self.host_config(name)
        with self._lock:
            if cfg.name not in self._hosts:
                self._hosts[cfg.name] = make_host(cfg)
            return self._hosts[cfg.name]

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings (from the app's settings dialog); hosts whose configuration changed reconnect."""
        with self._lock:
            old = {h.name: h for h in self.settings.hosts}
            new = {h.name: h for h in settings.hosts}
            for name in builtins.list(self._hosts):
                if old.get(name) != new.get(name):
                    self._hosts.pop(name).reset()
            self.settings = settings
        for name in old:  # forwards of a removed or re-pointed host lead to the old place: close them
            if old[name] != new.get(name):
                self.tunnels.close_host(name)

    def host_names(self) -> builtins.list[str]:
        return [h.name for h in self.settings.hosts]

    def host_status(self, name: str) -> HostStatus:
        started = time.monotonic()
        try:
            self.host(name).ping()
        except CanfarError as exc:
            return HostStatus(name, False, str(exc))
        return HostStatus(name, True, rtt_ms=(time.monotonic() - started) * 1000)

    def endpoint(self, session: Session) -> tuple[str, int]:
        """Where this machine reaches the session's port: directly, or a local forward for remote hosts."""
        if session.host_port is None:
            raise StateError(f"Session {session.id} has no published port", "it is not running; see canfar-desktop info")
        cfg = self.host_config(session.host)
        if not is_remote(cfg):
            return LOCAL_ADDRESS, session.host_port
        dh = self.host(session.host)
        kind = KINDS.get(session.kind)
        target = Target(session.container_id, session.host_port, kind.port if kind else session.host_port)
        return self.tunnels.endpoint(cfg.name, lambda: make_dialer(cfg, dh), target)

    def storage_description(self, host: str | None = None) -> str:
        """Where /arc lives for sessions on this host, for the launch dialog, cards and `hosts ls`."""
        return storage_description(self.host_config(host), self.settings.arc_folder(), self.settings.user)

    def listing(self, host: str) -> HostListing | None:
        """The last listing of a host made by list_all (None before the first)."""
        return self._listings.get(host)

    def close(self) -> None:
        """Close every forward (the app calls this on exit)."""
        self.tunnels.close_all()

    # --- reading ------------------------------------------------------------------------------

    def list(self, host: str | None = None, probe: bool = True, all_users: bool = False) -> builtins.list[Session]:
        """This user's sessions on one host (everyone's with all_users), newest first, with derived states."""
        dh = self.host(host)
        sessions = [from_summary(dh.name, s) for s in dh.summaries()]
        if not all_users:
            sessions = [s for s in sessions if s.owner == self.settings.user]
        renewals = self.ledger.entries(dh.name)
        if probe:  # probe every session not known to be ready at once, not one after another
            waiting = [s for s in sessions if s.id and s.status == "running" and s.host_port is not None
                       and s.container_id not in self._ready]
            if waiting:
                with ThreadPoolExecutor(max_workers=min(16, len(waiting))) as pool:
                    answers = list(pool.map(self._probe_quietly, waiting))
                for s, ok in zip(waiting, answers, strict=True):
                    if ok:
                        self._mark_ready(dh, s, renewals.get(s.id, {}))
        self._connections = connection_counts()
        try:
            result = [self._complete(dh, s, renewals.get(s.id, {}), False) for s in sessions if s.id]
        finally:
            self._connections = None
        result.sort(key=lambda s: s.created or datetime.min.replace(tzinfo=UTC), reverse=True)
        if not all_users:  # forwards of sessions that stopped or went away are closed
            self.tunnels.keep_only(dh.name, {(s.container_id, s.host_port) for s in result if s.status == "running"})
        return result

    def list_all(self, probe: bool = True) -> tuple[builtins.list[Session], dict[str, CanfarError]]:
        sessions: builtins.list[Session] = []
        errors: dict[str, CanfarError] = {}
        for name in self.host_names():
            now = self.clock()
            try:
                listed = self.list(name, probe)
            except CanfarError as exc:
                errors[name] = exc
                last = self._listings.get(name)
                self._listings[name] = HostListing(name, last.sessions if last else (), False, exc,
                                                   last.listed_at if last else None, now)
                continue
            sessions.extend(listed)
            self._listings[name] = HostListing(name, tuple(listed), True, None, now, now)
        return sessions, errors

    def _complete(self, dh: DockerHost, s: Session, entry: dict[str, object], probe: bool,
                  inspected: bool = False) -> Session:
        renewed = entry.get("expiry")
        if isinstance(renewed, str):
            try:
                s = replace(s, expiry=max(filter(None, [s.expiry, datetime.fromisoformat(renewed)])))
            except ValueError:
                pass
        last_log = ""
        if not inspected and (s.status != "running" or s.kind not in KINDS):
            try:
                s = with_inspect(s, dh.inspect(s.container_id))
            except NotFound:
                return s.with_state(State.TERMINATED, "deleted")
        if s.status in ("exited", "dead") and not s.oom_killed and s.exit_code not in (0, 143):
            last_log = self._last_log_line(dh, s)
        ready: bool | None = None
        viewers: int | None = None
        if s.status == "running":
            ready = s.container_id in self._ready
            if not ready and probe and s.host_port is not None:
                ready = self._probe(s)
                if ready:
                    self._mark_ready(dh, s, entry)
            if s.host_port is not None:
                try:  # counted on the local port: the forward's for remote hosts
                    port = self.endpoint(s)[1]
                    counts = self._connections if self._connections is not None else connection_counts()
                    viewers = None if counts is None else counts.get(port, 0)
                except CanfarError:
                    viewers = None
        else:
            self._ready.discard(s.container_id)
        facts = Facts(
            status=s.status,
            exit_code=s.exit_code,
            oom_killed=s.oom_killed,
            error=s.error,
            finished_at=s.finished_at,
            expiry=s.expiry,
            ready=ready,
            viewers=viewers,
            was_opened=bool(entry.get("opened")),
            memory_limit=s.memory_limit,
            last_log=last_log,
            created=s.created,
            launch_abandoned=s.status == "created" and self.ledger.held(f"launching-{s.id}") is False,
        )
        state, reason = derive_state(facts, self.clock())
        return s.with_state(state, reason)

    def refresh(self, dh: DockerHost, container_id: str, probe: bool = True) -> Session:
        """One session re-read with a single inspect (cheaper than listing the host)."""
        data = dh.inspect(container_id)
        config = data.get("Config") or {}
        summary = {
            "Id": data.get("Id", container_id), "Names": [data.get("Name", "")], "Labels": config.get("Labels") or {},
            "State": (data.get("State") or {}).get("Status", ""), "Image": config.get("Image", ""), "Ports": [],
        }
        s = with_inspect(from_summary(dh.name, summary), data)
        return self._complete(dh, s, self.ledger.entry(dh.name, s.id), probe, inspected=True)

    def _probe(self, s: Session) -> bool:
        kind = KINDS[s.kind]
        addr, port = self.endpoint(s)
        from .kinds import LaunchContext

        ctx = LaunchContext(session_id=s.id, user=s.owner, secret="", threads=1)
        return http_ready(addr, port, kind.probe(ctx), timeout=1.0)

    def _probe_quietly(self, s: Session) -> bool:
        try:
            return self._probe(s)
        except CanfarError:
            return False

    def _mark_ready(self, dh: DockerHost, s: Session, entry: dict[str, object]) -> None:
        """Remember a session answered; from then on the engine restarts it after an engine restart.

        Before it is first ready a session has no restart policy, so a process that exits at
        start-up shows Failed with its reason instead of restarting in a loop.
        """
        self._ready.add(s.container_id)
        if entry.get("restart_policy") != s.container_id:
            dh.keep_running(s.container_id)
            try:
                self.ledger.update(dh.name, s.id, restart_policy=s.container_id)
            except CanfarError:
                pass  # a read-only state folder only costs a repeated call

    def forget_readiness(self, container_id: str) -> None:
        """Called when the engine reports the container died or restarted."""
        self._ready.discard(container_id)

    def _last_log_line(self, dh: DockerHost, s: Session) -> str:
        try:
            raw = dh.logs(s.container_id, tail=5)
        except CanfarError:
            return ""
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return self.redact(lines[-1], s)[:200] if lines else ""

    def get(self, ref: str, host: str | None = None, details: bool = True) -> Session:
        """Find a session by id, name or container name; details add the secret and exit facts."""
        candidates = self.list(host) if host else self.list_all()[0]
        matches = [s for s in candidates if ref in (s.id, s.container_name, s.container_id)]
        if not matches:
            matches = [s for s in candidates if s.name == ref]
        if not matches and len(ref) >= 3:
            matches = [s for s in candidates if s.id.startswith(ref) or s.container_id.startswith(ref)]
        if not matches:
            raise NotFound(f"No session {ref!r}", "list sessions with canfar-desktop ps -a")
        if len(matches) > 1:
            ids = ", ".join(s.id for s in matches)
            raise ValidationError(f"{ref!r} matches several sessions ({ids})", "use the session id")
        s = matches[0]
        if details and not s.secret:
            try:
                s = replace(with_inspect(s, self.host(s.host).inspect(s.container_id)),
                            state=s.state, reason=s.reason)
            except NotFound:
                pass
        return s

    # --- launching ----------------------------------------------------------------------------

    def default_image(self, kind_name: str, host: str | None = None) -> str:
        """The newest image on the host labelled for the kind, else the kind's upstream image."""
        kind = get_kind(kind_name)
        try:
            local = [i for i in self.host(host).images() if kind.name in i.kinds]
        except CanfarError:
            local = []
        latest = [i for i in local if i.ref.endswith(":latest")] or local
        if latest:
            return sorted(latest, key=lambda i: i.created, reverse=True)[0].ref
        if kind.default_image:
            return kind.default_image
        raise ValidationError(
            f"There is no default image for {kind.name} sessions", "name an image labelled for this kind"
        )

    def validate(self, kind_name: str, image: str, name: str, env: Iterable[str] = (),
                 resources: Resources | None = None, host: str | None = None) -> P.LaunchRequest:
        """Check everything a launch needs before anything is created."""
        kind = get_kind(kind_name)
        validate_name(name)
        ref = normalize_image(image)
        parsed = parse_env(list(env), reserved=kind.secret_env)
        res = resources or self.settings.default_resources
        info = self.host(host).info()
        validate_resources(res, info.cpus, info.memory_gb, None if info.gpus_possible else 0)
        return P.LaunchRequest(kind=kind.name, image=ref, name=name, resources=res, env=parsed)

    def launch(self, req: P.LaunchRequest, host: str | None = None, progress: ProgressFn | None = None) -> Session:
        """Create and start a session; returns it in Launching (use wait_ready for Running)."""
        report = progress or (lambda stage, fraction: None)
        kind = get_kind(req.kind)
        dh = self.host(host)
        info = dh.info()
        validate_resources(req.resources, info.cpus, info.memory_gb, None if info.gpus_possible else 0)
        image_id = dh.image_id(req.image)
        if image_id is None:
            report(f"pulling {req.image}", 0.0)
            dh.pull(req.image, report)
            image_id = dh.image_id(req.image) or req.image
        session_id = P.new_session_id()
        storage = self._storage(dh, session_id)
        volumes = [(m.source, mode) for m, mode in ((storage.home, 0o700), (storage.projects, 0o775),
                                                    (storage.scratch, 0o700)) if m.type == "volume"]
        if volumes:  # remote hosts: the engine makes volumes root's; sessions run as the user
            prepare_volumes(dh, req.image, volumes, self.settings.uid, self.settings.gid)
        plan = P.build_plan(
            req, kind, session_id=session_id, secret=P.new_secret(), user=self.settings.user,
            uid=self.settings.uid, gid=self.settings.gid, storage=storage, host_cpus=info.cpus,
            host_ram_gb=info.memory_gb, now=self.clock(),
            lifetime=timedelta(hours=self.settings.session_lifetime_hours),
        )
        report("creating", None)
        with self.ledger.hold(f"launching-{session_id}"):
            return self._create_and_start(dh, plan, storage, image_id, report)

    def _create_and_start(self, dh: DockerHost, plan: P.ContainerPlan, storage: P.Storage, image_id: str,
                          report: ProgressFn) -> Session:
        session_id = plan.session_id
        with self.ledger.locked(f"launch-{dh.name}"):
            mine = [s for s in dh.summaries() if (s.get("Labels") or {}).get(P.L_OWNER) == self.settings.user]
            active = [s for s in mine if self._holds_slot(dh, s)]
            if len(active) >= self.settings.session_limit:
                self._remove_storage(dh, storage)
                raise LimitError(
                    f"User {self.settings.user} has reached the maximum of {self.settings.session_limit} active sessions",
                    "delete a session (canfar-desktop delete ID) or raise the limit in settings",
                )
            container_id = dh.create(plan)
        try:
            self._add_user(dh, container_id, image_id)
        except CanfarError:
            dh.remove(container_id)
            self._remove_storage(dh, storage)
            raise
        report("starting", None)
        try:
            dh.start(container_id)
        except LaunchError as exc:
            # The container stays, so the session shows Failed with the engine's reason until deleted.
            raise LaunchError(f"Session {session_id}: {exc.message}",
                              f"{exc.hint}; then delete it (canfar-desktop delete -f {session_id})") from None
        return self.refresh(dh, container_id, probe=False)

    @staticmethod
    def _holds_slot(dh: DockerHost, summary: dict[str, object]) -> bool:
        """Whether a container counts against the limit: up, or created and not failed to start."""
        status = summary.get("State")
        if status != "created":
            return status in ACTIVE_STATUSES
        try:
            return not (dh.inspect(str(summary.get("Id"))).get("State") or {}).get("Error")
        except NotFound:
            return False

    def wait_ready(self, session: Session, timeout: float = 300.0, progress: ProgressFn | None = None,
                   interval: float = 0.05) -> Session:
        """Poll the engine and the kind's probe until Running; a session that dies raises its reason."""
        report = progress or (lambda stage, fraction: None)
        deadline = time.monotonic() + timeout
        dh = self.host(session.host)
        report("waiting for the app", None)
        while True:
            data = dh.inspect(session.container_id)
            current = with_inspect(session, data)
            if current.status in ("exited", "dead"):
                failed = self.refresh(dh, session.container_id)
                logs = self.tail_logs(failed, 5)
                raise LaunchError(
                    f"Session {session.id} stopped while launching: {failed.reason}",
                    "see its logs (canfar-desktop logs " + session.id + ")" + (f"; last output: {logs[-1]}" if logs else ""),
                )
            if current.status == "running" and current.host_port and self._probe(current):
                self._mark_ready(dh, current, self.ledger.entry(dh.name, current.id))
                return self.refresh(dh, session.container_id)
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"Session {session.id} did not answer within {timeout:.0f} s",
                    "see its logs (canfar-desktop logs " + session.id + ") or run canfar-desktop doctor " + session.id,
                )
            time.sleep(interval)

    def dry_run(self, req: P.LaunchRequest, host: str | None = None) -> dict[str, object]:
        """The container configuration a launch would create, with nothing created."""
        kind = get_kind(req.kind)
        dh = self.host(host)
        info = dh.info()
        plan = P.build_plan(
            req, kind, session_id="<id>", secret="<generated at launch>", user=self.settings.user,
            uid=self.settings.uid, gid=self.settings.gid, storage=self._storage(dh, "<id>", create=False),
            host_cpus=info.cpus, host_ram_gb=info.memory_gb, now=self.clock(),
            lifetime=timedelta(hours=self.settings.session_lifetime_hours),
        )
        return {"host": dh.name, **asdict(plan)}

    def _storage(self, dh: DockerHost, session_id: str, create: bool = True) -> P.Storage:
        user = self.settings.user
        cfg = self.host_config(dh.name)
        if is_remote(cfg):
            if cfg.arc_path:
                base = cfg.arc_path.rstrip("/")
                home = P.Mount(f"{base}/home/{user}", f"/arc/home/{user}")
                projects = P.Mount(f"{base}/projects", "/arc/projects")
            else:
                home = P.Mount(f"canfar-arc-home-{user}", f"/arc/home/{user}", type="volume")
                projects = P.Mount("canfar-arc-projects", "/arc/projects", type="volume")
            return P.Storage(home, projects, P.Mount(f"canfar-scratch-{session_id}", "/scratch", type="volume"))
        arc = self.settings.arc_folder()
        home_dir = arc / "home" / user
        projects_dir = arc / "projects"
        scratch_dir = self.paths.scratch_dir / session_id
        for folder, mode in ((arc, 0o755), (arc / "home", 0o755), (home_dir, 0o700),
                             (projects_dir, 0o775), (self.paths.scratch_dir, 0o711), (scratch_dir, 0o700)):
            if create:
                self._make_dir(folder, mode, owned=folder in (home_dir, projects_dir, scratch_dir))
        return P.Storage(
            P.Mount(str(home_dir), f"/arc/home/{user}"),
            P.Mount(str(projects_dir), "/arc/projects"),
            P.Mount(str(scratch_dir), "/scratch"),
        )

    def _make_dir(self, folder: Path, mode: int, owned: bool) -> None:
        """Create a folder once; when the app runs as root, hand the session's folders to its uid."""
        if folder.exists():
            return
        try:
            try:
                folder.mkdir(parents=True, mode=mode)
            except FileExistsError:
                return  # made a moment ago by a launch running beside this one
            os.chmod(folder, mode)
            if owned and os.geteuid() == 0:
                os.chown(folder, self.settings.uid, self.settings.gid)
        except OSError as exc:
            raise LaunchError(
                f"Could not create {folder} ({exc.strerror})",
                "choose a writable folder for /arc in settings (arc_root)",
            ) from None

    def _remove_storage(self, dh: DockerHost, storage: P.Storage) -> None:
        """Remove the session's private /scratch; /arc is never touched."""
        scratch = storage.scratch
        if scratch.type == "volume":
            try:
                dh.remove_volume(scratch.source)
            except CanfarError:
                pass
        else:
            self._remove_scratch_dir(scratch.source)

    def _remove_scratch_dir(self, source: str) -> None:
        path = Path(source).resolve()
        root = self.paths.scratch_dir.resolve()
        if path.parent == root and path.exists():
            shutil.rmtree(path, ignore_errors=True)

    def _image_accounts(self, dh: DockerHost, container_id: str, image_id: str) -> tuple[str, str]:
        """The image's own /etc/passwd and /etc/group, read once per image and kept on disk."""
        cache = self.paths.state_dir / "accounts" / f"{image_id.replace(':', '-').replace('/', '-')}.json"
        try:
            data = json.loads(cache.read_text())
            return str(data["passwd"]), str(data["group"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        passwd = (dh.read_file(container_id, "/etc/passwd") or b"").decode(errors="replace")
        group = (dh.read_file(container_id, "/etc/group") or b"").decode(errors="replace")
        try:
            write_atomic(cache, json.dumps({"passwd": passwd, "group": group}))
        except CanfarError:
            pass  # a cache only: a read-only state folder costs two reads per launch
        return passwd, group

    def _add_user(self, dh: DockerHost, container_id: str, image_id: str) -> None:
        """Give the session's uid a name inside the container (CANFAR writes passwd entries too)."""
        user, uid, gid = self.settings.user, self.settings.uid, self.settings.gid
        passwd, group = self._image_accounts(dh, container_id, image_id)
        shell = "/bin/sh"
        kept: builtins.list[str] = []
        for line in passwd.splitlines():
            fields = line.split(":")
            if len(fields) >= 7 and fields[0] == "root" and fields[6]:
                shell = fields[6]
            if len(fields) >= 3 and (fields[0] == user or fields[2] == str(uid)):
                continue
            kept.append(line)
        kept.append(f"{user}:x:{uid}:{gid}:{user}:/arc/home/{user}:{shell}")
        groups = [line for line in group.splitlines() if line.split(":")[2:3] != [str(gid)]]
        groups.append(f"{user}:x:{gid}:")
        dh.write_files(container_id, "/etc", {
            "passwd": ("\n".join(kept) + "\n").encode(),
            "group": ("\n".join(groups) + "\n").encode(),
        })

    # --- changing -----------------------------------------------------------------------------

    def renew(self, ref: str, host: str | None = None) -> Session:
        """Set the expiry to now + lifetime; an expired (stopped) session is started again."""
        s = self.get(ref, host)
        if s.state in (State.TERMINATING, State.TERMINATED, State.FAILED):
            raise StateError(f"Session {s.id} is {s.state.value} and cannot be renewed", "launch a new session")
        expiry = self.clock() + timedelta(hours=self.settings.session_lifetime_hours)
        self.ledger.update(s.host, s.id, expiry=expiry.isoformat(timespec="seconds"))
        if s.status in ("exited", "dead"):
            self.host(s.host).start(s.container_id)
        return self.get(s.id, s.host)

    def delete(self, ref: str | Session, host: str | None = None) -> Session:
        """Remove the container and its /scratch; /arc is never touched."""
        s = ref if isinstance(ref, Session) else self.get(ref, host, details=False)
        dh = self.host(s.host)
        data_scratch = ""
        try:
            data = dh.inspect(s.container_id)
            data_scratch = ((data.get("Config") or {}).get("Labels") or {}).get(P.L_SCRATCH, "")
        except NotFound:
            pass
        dh.remove(s.container_id)
        self._ready.discard(s.container_id)
        self.tunnels.close_session(s.host, s.container_id)
        if data_scratch.startswith("canfar-scratch-"):
            dh.remove_volume(data_scratch)
        elif data_scratch:
            self._remove_scratch_dir(data_scratch)
        return s.with_state(State.TERMINATED, "deleted")

    def prune(self, prefix: str = "", kind: str | None = None, state: State | None = None,
              host: str | None = None) -> builtins.list[Session]:
        """Delete sessions whose name starts with prefix, optionally of one kind and in one state."""
        if kind:
            get_kind(kind)
        chosen = [
            s for s in (self.list(host) if host else self.list_all()[0])
            if s.name.startswith(prefix) and (kind is None or s.kind == kind) and (state is None or s.state == state)
        ]
        for s in chosen:
            self.delete(s)
        return chosen

    def cleanup_orphans(self, host: str | None = None, grace_s: float = INTERRUPTED_AFTER_S) -> builtins.list[str]:
        """Remove what an interrupted launch left behind (an app killed mid-launch, a crash).

        That is: containers that never started long after their launch began, scratch folders and
        scratch volumes without a session. Returns what was removed; /arc is never touched.
        """
        dh = self.host(host)
        removed: builtins.list[str] = []
        sessions = self.list(dh.name, probe=False)
        for s in sessions:
            age = (self.clock() - s.created).total_seconds() if s.created else 0.0
            abandoned = s.reason.startswith("the launch was interrupted") or age > grace_s
            if s.status == "created" and not s.error and self.ledger.held(f"launching-{s.id}") is not True and abandoned:
                self.delete(s)
                removed.append(f"container {s.container_name}")
        known = {s.id for s in self.list(dh.name, probe=False, all_users=True)}
        now = time.time()
        if not is_remote(self.host_config(dh.name)) and self.paths.scratch_dir.is_dir():
            # every local host shares the scratch folder: a folder is an orphan only if no local
            # host knows its session (an unreachable one means: leave the folders be this time)
            for other in self.host_names():
                if other != dh.name and not is_remote(self.host_config(other)):
                    try:
                        known |= {s.id for s in self.list(other, probe=False, all_users=True)}
                    except CanfarError:
                        return removed
            for folder in self.paths.scratch_dir.iterdir():
                try:
                    young = now - folder.stat().st_mtime < grace_s
                except OSError:
                    continue
                if folder.is_dir() and folder.name not in known and not young:
                    self._remove_scratch_dir(str(folder))
                    removed.append(f"scratch folder {folder}")
        for helper in dh.helpers(HELPER_LABEL):  # a helper whose removal was cut short (a dropped connection)
            if now - float(helper.get("Created", now)) > grace_s:
                dh.remove(str(helper.get("Id")))
                removed.append(f"helper container {str(helper.get('Id'))[:12]}")
        for volume in dh.volumes("canfar-scratch-"):
            if volume.removeprefix("canfar-scratch-") not in known:
                try:
                    dh.remove_volume(volume)
                    removed.append(f"scratch volume {volume}")
                except CanfarError:
                    pass  # still in use by a container being created right now
        return removed

    def mark_opened(self, s: Session) -> None:
        self.ledger.update(s.host, s.id, opened=True)

    def open_url(self, s: Session) -> str:
        """The full URL (secret included) to open a Running or Suspended session."""
        if s.state not in (State.RUNNING, State.SUSPENDED):
            raise StateError(
                f"Session {s.id} is {s.state.value}" + (f" ({s.reason})" if s.reason else ""),
                "only Running sessions can be opened; wait for it or see canfar-desktop info " + s.id,
            )
        if not s.secret:
            s = self.get(s.id, s.host)
        addr, port = self.endpoint(s)
        return f"http://{addr}:{port}{s.url_path()}"

    def enforce_expiry(self, sessions: Iterable[Session]) -> builtins.list[Session]:
        """Stop running sessions whose expiry has passed; they then show Expired."""
        stopped = []
        now = self.clock()
        for s in sessions:
            if s.state == State.EXPIRED and s.status in ("running", "paused", "restarting"):
                renewed = self.ledger.expiry(s.host, s.id)  # read again: a renewal may have just landed
                if renewed is not None and renewed > now:
                    continue
                self.host(s.host).stop(s.container_id, timeout=10)
                self._ready.discard(s.container_id)
                self.tunnels.close_session(s.host, s.container_id)
                stopped.append(s)
        return stopped

    # --- observing ----------------------------------------------------------------------------

    def redact(self, text: str, s: Session) -> str:
        return text.replace(s.secret, "********") if s.secret else text

    def tail_logs(self, s: Session, lines: int = 50) -> builtins.list[str]:
        if not s.secret:
            s = self.get(s.id, s.host)
        raw = self.host(s.host).logs(s.container_id, tail=lines)
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else ""
        return [self.redact(line, s) for line in text.splitlines()]

    def events_of(self, s: Session) -> builtins.list[EngineEvent]:
        """The engine's recorded events for a session, oldest first."""
        since = (s.created or self.clock()) - timedelta(seconds=5)
        raw = self.host(s.host).events(since=since.timestamp(), until=self.clock().timestamp() + 1,
                                       container=s.container_id)
        found = [e for e in (parse_event(r) for r in raw) if e is not None]
        return [EngineEvent(e.when, e.action, self.redact(e.detail, s), e.container_id, e.session_id) for e in found]


def image_for(service: SessionService, kind: str, image: str | None, host: str | None = None) -> str:
    return normalize_image(image) if image else service.default_image(kind, host)
