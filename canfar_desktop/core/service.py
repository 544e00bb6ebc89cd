"""The one front for every use case: the app, the CLI and the API server call only this.

It composes the parts, each in a module named for its job: hosts and forwards (registry.py),
listing and lookups (listing.py), readiness marks (readiness.py), launching (launch.py), the /arc
layout (storage.py), accounts inside containers (accounts.py), ending and cleaning up
(housekeeping.py). Every method blocks; the app calls them from worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import oom
from .errors import CanfarError
from .host import HostInfo, ImageInfo, ProgressFn, SessionHost, Stream, platform_of
from .hosts import storage_description
from .housekeeping import Housekeeper
from .ledger import Ledger
from .lifecycle import State
from .listing import HostListing, SessionLister, redact
from .plan import LaunchRequest
from .platform_hosts import is_platform
from .readiness import Readiness
from .record import replace
from .registry import HostProbe, HostRegistry, HostStatus
from .session import Session
from .settings import AppPaths, HostConfig, Resources, Settings

if TYPE_CHECKING:
    import threading
    from pathlib import Path

    from .events import EngineEvent
    from .launch import Launcher
    from .projects import ProjectStore
    from .transfer import Entry, ProgressCallback

Clock = Callable[[], datetime]

__all__ = ["HostListing", "HostStatus", "LineStream", "SessionService"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class LineStream:
    """A session's output as redacted text lines, until closed (from any thread)."""

    def __init__(self, raw: Stream, session: Session) -> None:
        self._raw = raw
        self._session = session

    def __iter__(self) -> Iterator[str]:
        pending = b""
        for chunk in self._raw:
            pending += chunk if isinstance(chunk, bytes) else str(chunk).encode()
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield redact(line.decode(errors="replace").rstrip("\r"), self._session)
        if pending:
            yield redact(pending.decode(errors="replace"), self._session)

    def close(self) -> None:
        self._raw.close()


class SessionService:
    def __init__(self, settings: Settings, paths: AppPaths, clock: Clock = utcnow,
                 hosts: dict[str, SessionHost] | None = None) -> None:
        self.paths = paths
        self.clock = clock
        self.ledger = Ledger(paths.ledger_file)
        self.registry = HostRegistry(settings, hosts, paths=paths)
        self.readiness = Readiness(self.ledger)
        self.lister = SessionLister(self.registry, self.ledger, self.readiness, clock)
        self._launcher: Launcher | None = None
        self.housekeeper = Housekeeper(self.registry, self.lister, self.ledger, self.readiness, paths, clock)

    @property
    def launcher(self) -> Launcher:
        """Made on first use: listing commands never load the launch code (or what it imports)."""
        if self._launcher is None:
            from .launch import Launcher

            self._launcher = Launcher(self.registry, self.lister, self.ledger, self.paths, self.clock)
        return self._launcher

    # --- hosts --------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.registry.settings

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings (from the app's settings dialog); hosts whose configuration changed reconnect."""
        self.registry.apply(settings)

    def host_config(self, name: str | None = None) -> HostConfig:
        return self.registry.config(name)

    def host(self, name: str | None = None) -> SessionHost:
        """The host object, for core modules (diagnostics, monitor, report); the UI asks the methods here."""
        return self.registry.get(name)

    def host_names(self) -> list[str]:
        return self.registry.names()

    def host_status(self, name: str) -> HostStatus:
        return self.registry.status(name)

    def test_host(self, cfg: HostConfig) -> HostProbe:
        return self.registry.test(cfg)

    def reset_host(self, name: str) -> None:
        self.registry.reset(name)

    def host_info(self, host: str | None = None) -> HostInfo:
        return self.registry.get(host).info()

    def images(self, host: str | None = None) -> list[ImageInfo]:
        return self.registry.get(host).images()

    def endpoint(self, session: Session) -> tuple[str, int]:
        return self.registry.endpoint(session)

    def storage_description(self, host: str | None = None) -> str:
        """Where /arc lives for sessions on this host, for the launch dialog, cards and `hosts ls`; for a
        platform also who is signed in and until when (known after its first answer; never asks it)."""
        cfg = self.host_config(host)
        text = storage_description(cfg, self.settings.arc_folder(), self.settings.user)
        platform = platform_of(self.registry.get(cfg.name)) if is_platform(cfg) else None
        login = platform.login() if platform is not None else ""
        return f"{text}; {login}" if login else text

    def listing(self, host: str) -> HostListing | None:
        """The last listing of a host made by list_all (None before the first)."""
        return self.lister.listings.get(host)

    def close(self) -> None:
        self.registry.close()

    # --- reading ------------------------------------------------------------------------------

    def sessions(self, host: str | None = None, probe: bool = True, all_users: bool = False) -> list[Session]:
        return self.lister.sessions(host, probe, all_users)

    def list_all(self, probe: bool = True) -> tuple[list[Session], dict[str, CanfarError]]:
        return self.lister.list_all(probe)

    def refresh(self, host: str, container_id: str, probe: bool = True) -> Session:
        return self.lister.refresh(host, container_id, probe)

    def get(self, ref: str, host: str | None = None, details: bool = True) -> Session:
        return self.lister.get(ref, host, details)

    def answers(self, s: Session) -> bool:
        """Whether a running session's app answers its readiness probe now (one HTTP request)."""
        return self.lister.probe_quietly(s)

    def forget_readiness(self, container_id: str) -> None:
        self.readiness.forget(container_id)

    # --- launching ----------------------------------------------------------------------------

    def default_image(self, kind: str, host: str | None = None) -> str:
        return self.launcher.default_image(kind, host)

    def prepare_launch(self, kind: str, image: str | None = None, name: str | None = None,
                       resources: Resources | None = None, host: str | None = None, port: int | None = None,
                       command: Sequence[str] = (), env: Iterable[str] = ()) -> LaunchRequest:
        return self.launcher.prepare_launch(kind, image, name, resources, host, port, command, env)

    def launch(self, req: LaunchRequest, progress: ProgressFn | None = None) -> Session:
        return self.launcher.launch(req, progress)

    def wait_ready(self, session: Session, timeout: float = 300.0, progress: ProgressFn | None = None,
                   interval: float = 0.05) -> Session:
        return self.launcher.wait_ready(session, timeout, progress, interval)

    def wait_finished(self, session: Session, timeout: float = 300.0, progress: ProgressFn | None = None) -> Session:
        return self.launcher.wait_finished(session, timeout, progress)

    def dry_run(self, req: LaunchRequest) -> dict[str, object]:
        return self.launcher.dry_run(req)

    # --- changing -----------------------------------------------------------------------------

    def renew(self, ref: str, host: str | None = None) -> Session:
        return self.housekeeper.renew(ref, host)

    def delete(self, ref: str | Session, host: str | None = None) -> Session:
        return self.housekeeper.delete(ref, host)

    def enforce_expiry(self, sessions: Iterable[Session]) -> list[Session]:
        return self.housekeeper.enforce_expiry(sessions)

    def recover_gated(self, sessions: Iterable[Session]) -> list[Session]:
        return self.housekeeper.recover_gated(sessions)

    def cleanup_orphans(self, host: str | None = None) -> list[str]:
        return self.housekeeper.cleanup_orphans(host)

    def mark_opened(self, s: Session) -> None:
        self.ledger.update(s.host, s.id, opened=True)

    def open_url(self, s: Session) -> str:
        """The full URL (secret included) to open a Running or Suspended session."""
        from .errors import StateError

        if s.state not in (State.RUNNING, State.SUSPENDED):
            raise StateError(
                f"Session {s.id} is {s.state.value}" + (f" ({s.reason})" if s.reason else ""),
                "only Running sessions can be opened; wait for it or see canfar-desktop info " + s.id,
            )
        platform = platform_of(self.host(s.host))
        if platform is not None:  # the platform says where its sessions open
            return platform.connect_url(s.container_id)
        if not s.secret:
            s = self.get(s.id, s.host)
        addr, port = self.endpoint(s)
        return f"http://{addr}:{port}{s.url_path()}"

    # --- observing ----------------------------------------------------------------------------

    def redact(self, text: str, s: Session) -> str:
        return redact(text, s)

    def _with_secret(self, s: Session) -> Session:
        return s if s.secret else self.get(s.id, s.host)

    def tail_logs(self, s: Session, lines: int = 50) -> list[str]:
        s = self._with_secret(s)
        text = self.host(s.host).logs(s.container_id, tail=lines).decode(errors="replace")
        return [redact(line, s) for line in text.splitlines()]

    def follow_logs(self, s: Session, tail: int = 200) -> LineStream:
        s = self._with_secret(s)
        return LineStream(self.host(s.host).follow_logs(s.container_id, tail=tail), s)

    def events_of(self, s: Session) -> list[EngineEvent]:
        """The engine's recorded events for a session, oldest first."""
        from .events import parse_event  # here: listing commands never read events

        since = (s.created or self.clock()) - timedelta(seconds=5)
        raw = self.host(s.host).events(since=since.timestamp(), until=self.clock().timestamp() + 1,
                                       container=s.container_id)
        found = [e for e in (parse_event(r) for r in raw) if e is not None]
        return [replace(e, detail=redact(e.detail, s)) for e in found]

    def oom_kills(self, s: Session) -> tuple[datetime, ...]:
        """Every out-of-memory kill in the session since it started: the ledger's and the engine's."""
        try:
            engine = [e.when for e in self.events_of(s) if e.action == "oom"]
        except CanfarError:
            engine = []
        return oom.merged(s.oom_kills, engine)

    def record_oom(self, host: str, container_id: str, when: datetime) -> Session | None:
        """The session loop saw an `oom` event: remember it for the session it belongs to."""
        try:
            s = self.refresh(host, container_id, probe=False)
        except CanfarError:
            return None
        oom.record(self.ledger, host, s, when)
        return replace(s, oom_kills=oom.merged(s.oom_kills, [when]))

    def processes(self, s: Session) -> dict[str, Any]:
        """The processes in a session, as the engine's `top` answers (Titles and Processes)."""
        return self.host(s.host).top(s.container_id)

    # --- files ----------------------------------------------------------------------------------

    def copy_in(self, s: Session, sources: Sequence[Path], dest: str, progress: ProgressCallback | None = None,
                cancel: threading.Event | None = None) -> list[str]:
        """Copy local files or folders into a running session's /arc or /scratch (core/transfer.py)."""
        from . import transfer

        return transfer.copy_in(self.host(s.host), s, sources, dest, progress, cancel)

    def copy_out(self, s: Session, source: str, dest: Path | str, progress: ProgressCallback | None = None,
                 cancel: threading.Event | None = None) -> Path:
        """Copy a file or folder out of a session's /arc or /scratch to this computer (core/transfer.py)."""
        from . import transfer

        return transfer.copy_out(self.host(s.host), s, source, dest, progress, cancel)

    def list_folder(self, s: Session, path: str) -> tuple[str, list[Entry], bool]:
        """A folder of a running session as its user sees it (core/transfer.py): path, entries, cut short."""
        from . import transfer

        return transfer.list_folder(self.host(s.host), s, path)

    # --- projects -------------------------------------------------------------------------------

    def projects(self, host: str | None = None) -> ProjectStore:
        """The /arc/projects folders and groups of a host (core/projects.py)."""
        from .projects import ProjectStore

        cfg = self.host_config(host)
        return ProjectStore.of(self.host(cfg.name), self.settings, self.paths, cfg.name, self.registry.is_remote(cfg.name))
