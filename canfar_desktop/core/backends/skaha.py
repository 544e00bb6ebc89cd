"""A science platform (a Skaha server, such as the CANFAR Science Platform) as one more host.

It implements the SessionHost seam by translation: the platform's sessions become the engine-shaped
listing and inspect documents the service reads (core/backends/skaha_shapes.py), usage becomes stats
readings, events and logs come from the API. What only a platform does (launch from a request, open
at its connect URL, renew) is the PlatformHost part of the seam (core/host.py). Engine-only calls
(files inside a container, volumes, processes) say they do not apply.

The platform is shared by many people, so it is asked gently: one listing serves every caller for a
few seconds (longer while nothing is starting or ending), capacity and images are kept for minutes,
a refused or unreachable platform is not asked again until its back-off has passed (skaha_client),
and it has no event stream, so the event follower is simply told nothing until it is closed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ..credentials import Credential
from ..errors import CanfarError, EngineUnavailable, NotFound, StateError, ValidationError
from ..host import HostInfo, ImageInfo, ProgressFn, ResourceOptions
from ..kinds import ALL_KINDS
from ..plan import ContainerPlan, LaunchRequest
from ..platform_hosts import server_name, site_url
from ..settings import AppPaths, HostConfig
from .skaha_client import SkahaClient
from .skaha_refusals import EngineOnly
from .skaha_shapes import (
    GIB,
    Counters,
    PlatformContext,
    PlatformSession,
    capacity_text,
    inspect_of,
    parse_context,
    parse_events,
    parse_images,
    parse_session,
    parse_sessions,
    stats_document,
    summary_of,
)
from .skaha_streams import IdleStream, ListStream, PollStream

LIST_FRESH_S = 3.0  # a listing is reused this long while a session is starting or ending
LIST_CALM_S = 10.0  # … and this long when nothing is
CONTEXT_FRESH_S = 600.0  # resource options and images change rarely
CAPACITY_FRESH_S = 60.0
POLL_S = 2.0  # a launching session is asked about this often
LOG_POLL_S = 5.0  # a followed log is read again this often
STATS_EVERY_S = 10.0  # the platform measures usage about this often
IN_FLUX = ("pending", "terminating")
ENDED = ("completed", "succeeded", "failed", "error")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SkahaHost(EngineOnly):
    """A Skaha server's sessions for the person signed in; `owner` is the app's user name for them."""

    poll_s = POLL_S

    def __init__(self, cfg: HostConfig, owner: str, paths: AppPaths, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = _utcnow) -> None:
        self.name = cfg.name
        self.where = site_url(cfg)
        self.server = server_name(cfg)
        self.owner = owner
        self.client = SkahaClient(cfg, paths, clock)
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._fetching = threading.Lock()  # one listing at a time; callers meanwhile get its answer
        self._listed: tuple[float, dict[str, PlatformSession]] | None = None
        self._context: tuple[float, PlatformContext] | None = None
        self._images: tuple[float, list[ImageInfo]] | None = None
        self._capacity: tuple[float, str] | None = None
        self._final_logs: dict[str, bytes] = {}
        self._counters: dict[str, Counters] = {}

    # --- connection ------------------------------------------------------------------------------

    @property
    def remote(self) -> bool:
        return True

    def reset(self) -> None:
        """Forget what was read and look for the credential again; a back-off in force stays."""
        self.client.forget()
        with self._lock:
            self._listed = self._context = self._images = self._capacity = None

    def ping(self) -> None:
        self._sessions()

    def round_trip_ms(self) -> float | None:
        return self.client.rtt_ms

    @property
    def credential(self) -> Credential | None:
        return self.client.known_credential

    def login(self) -> str:
        cred = self.client.known_credential
        return f"signed in with {cred.describe(self._now())}" if cred is not None else ""

    def login_warning(self) -> str:
        cred = self.client.known_credential
        return cred.warning(self._now()) if cred is not None else ""

    def info(self, refresh: bool = False) -> HostInfo:
        ctx = self._platform_context(refresh)
        return HostInfo(
            name=self.name, engine_version="v1", api_version="v1",
            cpus=max(ctx.cores, default=256), memory_bytes=max(ctx.ram_gb, default=1024) * GIB,
            os=f"CANFAR Science Platform at {self.server}", gpus_possible=bool(ctx.gpus), docker_root="",
            engine="Skaha", capacity=self._load(refresh), session_limit=ctx.max_sessions,
            options=ResourceOptions(ctx.cores, ctx.ram_gb, (0, *[g for g in ctx.gpus if g])) if ctx.cores else None,
        )

    def _platform_context(self, refresh: bool = False) -> PlatformContext:
        with self._lock:
            kept = self._context
        if kept is not None and not refresh and self._clock() - kept[0] < CONTEXT_FRESH_S:
            return kept[1]
        try:
            ctx = parse_context(self.client.json("/context"))
        except ValueError as exc:
            raise EngineUnavailable(f"{self.server} answered /context in a form this app cannot read ({exc})",
                                    f"check that {self.where} is a Skaha session service") from None
        with self._lock:
            self._context = (self._clock(), ctx)
        return ctx

    def _load(self, refresh: bool) -> str:
        with self._lock:
            kept = self._capacity
        if kept is not None and not refresh and self._clock() - kept[0] < CAPACITY_FRESH_S:
            return kept[1]
        try:
            text = capacity_text(self.client.json("/session", {"view": "stats"}))
        except CanfarError:
            text = ""  # the load is a nicety; the host still works without it
        with self._lock:
            self._capacity = (self._clock(), text)
        return text

    # --- sessions --------------------------------------------------------------------------------

    def _sessions(self) -> dict[str, PlatformSession]:
        with self._fetching:
            with self._lock:
                kept = self._listed
            if kept is not None:
                busy = any(s.word in IN_FLUX for s in kept[1].values())
                if self._clock() - kept[0] < (LIST_FRESH_S if busy else LIST_CALM_S):
                    return dict(kept[1])  # a copy: the kept one is replaced, never changed, but callers iterate
            try:
                found = parse_sessions(self.client.json("/session"))
            except ValueError as exc:
                raise EngineUnavailable(f"{self.server} answered /session in a form this app cannot read ({exc})",
                                        f"check that {self.where} is a Skaha session service") from None
            listed = {s.id: s for s in found}
            with self._lock:
                self._listed = (self._clock(), listed)
            return dict(listed)

    def _session(self, session_id: str, fresh: bool = False) -> PlatformSession:
        """One session: from the last listing while it is fresh, else asked for."""
        if not fresh:
            listed = self._sessions()
            if session_id in listed:
                return listed[session_id]
        try:
            s = parse_session(self.client.json(f"/session/{session_id}"))
        except NotFound:
            self._drop(session_id)
            raise NotFound(f"Session {session_id} is gone from {self.server}",
                           "list sessions with canfar-desktop ps -a") from None
        except ValueError as exc:
            raise EngineUnavailable(f"{self.server} answered for session {session_id} in a form this app "
                                    f"cannot read ({exc})", "try again; if it persists, report it") from None
        with self._lock:
            if self._listed is not None:
                self._listed = (self._listed[0], {**self._listed[1], s.id: s})
        return s

    def _drop(self, session_id: str) -> None:
        """The platform changed a session: the next listing asks again."""
        with self._lock:
            if self._listed is not None:
                self._listed = (float("-inf"), {k: v for k, v in self._listed[1].items() if k != session_id})

    def summaries(self) -> list[dict[str, Any]]:
        now = self._now()
        return [summary_of(s, self.owner, now) for s in self._sessions().values()]

    def inspect(self, container_id: str) -> dict[str, Any]:
        s = self._session(container_id)
        kind = ALL_KINDS.get(s.kind)
        return inspect_of(s, self.owner, self._now(), kind.secret_env[0] if kind and kind.secret_env else "")

    # --- launching, renewing, deleting -----------------------------------------------------------

    def check(self, req: LaunchRequest) -> None:
        """What the platform would refuse, said before anything is sent (its own options, its rules)."""
        kind = ALL_KINDS.get(req.kind)
        if req.host_port is not None:
            raise ValidationError(f"{self.name} chooses how its sessions are reached; a port cannot be set",
                                  f"leave out the port for sessions on {self.name}")
        if kind is not None and kind.interactive and req.command:
            raise ValidationError(f"{kind.title} sessions on {self.name} start their own application",
                                  "a command can be given to headless jobs only (create headless IMAGE -- CMD ARGS)")
        if any(" " in part for part in req.command[1:]):
            raise ValidationError("The platform splits a job's arguments on spaces, so an argument cannot hold one",
                                  "put the code in a script under /arc and run that script")
        ctx = self._platform_context()
        res = req.resources
        if res.mode == "fixed":
            for what, value, options in (("cores", res.cores, ctx.cores), ("memory (GB)", res.ram_gb, ctx.ram_gb)):
                if options and (value != int(value) or int(value) not in options):
                    raise ValidationError(f"{self.name} does not offer {value:g} {what}",
                                          f"choose one of: {', '.join(str(o) for o in options)}")
        if res.gpus and ctx.gpus and res.gpus not in ctx.gpus:
            raise ValidationError(f"{self.name} does not offer {res.gpus} GPUs",
                                  f"choose one of: {', '.join(str(o) for o in ctx.gpus)}")
        if res.gpus and not ctx.gpus:
            raise ValidationError(f"{self.name} offers no GPUs to your account", "launch without GPUs")

    def params(self, req: LaunchRequest) -> dict[str, object]:
        """The request's parameters as the platform takes them (POST /session)."""
        params: dict[str, object] = {"name": req.name, "image": req.image, "type": req.kind}
        if req.resources.mode == "fixed":
            params["cores"] = int(req.resources.cores)
            params["ram"] = int(req.resources.ram_gb)
        if req.resources.gpus:
            params["gpus"] = req.resources.gpus
        if req.env:
            params["env"] = [f"{k}={v}" for k, v in req.env.items()]
        if req.command:
            params["cmd"] = req.command[0]
            if len(req.command) > 1:
                params["args"] = " ".join(req.command[1:])
        return params

    def submit(self, req: LaunchRequest) -> str:
        """Launch on the platform; returns the new session's id."""
        self.check(req)
        body = self.client.request("POST", "/session", self.params(req), accept="text/plain")
        session_id = next((line.strip() for line in body.decode(errors="replace").splitlines() if line.strip()), "")
        if not session_id or " " in session_id:
            raise EngineUnavailable(f"{self.server} accepted the launch but sent no session id",
                                    "list sessions (canfar-desktop ps --host " + self.name + ") to find it")
        self._drop(session_id)
        return session_id

    def connect_url(self, session_id: str) -> str:
        s = self._session(session_id)
        if not s.connect_url:
            s = self._session(session_id, fresh=True)
        if not s.connect_url:
            raise StateError(f"{self.server} gives no address for session {session_id} yet",
                             "wait until it is Running, then open it again")
        return s.connect_url

    def extend(self, session_id: str) -> None:
        try:
            self.client.request("POST", f"/session/{session_id}", {"action": "renew"}, accept="text/plain")
        except ValidationError as exc:
            raise StateError(f"{self.server} did not renew session {session_id}: {exc.message}",
                             "a session that has ended cannot be renewed; launch a new one") from None
        finally:
            self._drop(session_id)

    def remove(self, container_id: str) -> None:
        try:
            self.client.request("DELETE", f"/session/{container_id}", accept="text/plain")
        except NotFound:
            pass  # gone already
        finally:
            self._drop(container_id)
            with self._lock:
                self._counters.pop(container_id, None)

    def stop(self, container_id: str, timeout: int = 10) -> None:
        """The platform stops its sessions at their expiry by itself."""

    def keep_running(self, container_id: str) -> None:
        """The platform keeps its sessions running by itself."""

    def start(self, container_id: str) -> None:
        raise StateError(f"A session on {self.name} that has stopped cannot be started again", "launch a new one")

    def create(self, plan: ContainerPlan) -> str:
        raise StateError(f"{self.name} is not a container engine", "sessions there are launched with submit()")

    # --- observing -------------------------------------------------------------------------------

    def logs(self, container_id: str, tail: int | str = "all", timestamps: bool = False) -> bytes:
        with self._lock:
            kept = self._final_logs.get(container_id)
        if kept is None:
            body = self.client.request("GET", f"/session/{container_id}", {"view": "logs"}, accept="text/plain")
            try:
                ended = self._session(container_id).word in ENDED
            except CanfarError:
                ended = False
            if ended:  # an ended session's output no longer changes
                with self._lock:
                    self._final_logs[container_id] = body
            kept = body
        if tail == "all" or not isinstance(tail, int):
            return kept
        lines = kept.splitlines(keepends=True)
        return b"".join(lines[-tail:]) if tail > 0 else b""

    def follow_logs(self, container_id: str, tail: int | str = "all") -> PollStream:
        sent: bytes | None = None  # the whole log as last read; None before the first reading

        def poll() -> tuple[list[bytes], bool]:
            nonlocal sent
            text = self.logs(container_id)
            if sent is None:
                chunk = self.logs(container_id, tail)
            elif text.startswith(sent):
                chunk = text[len(sent):]
            else:
                chunk = text  # the platform started the log over
            sent = text
            with self._lock:
                done = container_id in self._final_logs
            return ([chunk] if chunk else []), done

        return PollStream(poll, LOG_POLL_S)

    def events(self, since: float | None = None, until: float | None = None,
               session_only: bool = True, container: str | None = None) -> IdleStream | ListStream:
        """A session's recorded events; without a session and an end, the (silent) live stream."""
        if container is None:
            return IdleStream() if until is None else ListStream([])
        text = self.client.request("GET", f"/session/{container}", {"view": "events"},
                                   accept="text/plain").decode(errors="replace")
        try:
            start = self._session(container).start
        except CanfarError:
            start = None
        return ListStream(parse_events(text, container, start or self._now()))

    def stats(self, container_id: str, one_shot: bool = False) -> dict[str, Any]:
        """What the platform measured for a running session, as a stats reading ({} when nothing)."""
        s = self._session(container_id)
        with self._lock:
            doc, counters = stats_document(s, self._counters.get(container_id), time.time())
            if counters is not None:
                self._counters[container_id] = counters
        return doc

    def stats_stream(self, container_id: str) -> PollStream:
        def poll() -> tuple[list[dict[str, Any]], bool]:
            doc = self.stats(container_id)
            return ([doc], False) if doc else ([], True)

        return PollStream(poll, STATS_EVERY_S)

    def top(self, container_id: str) -> dict[str, Any]:
        raise StateError(f"{self.name} does not list the processes inside a session",
                         "open the session and run top (or ps) in its terminal")

    # --- images ------------------------------------------------------------------------------------

    def images(self) -> list[ImageInfo]:
        with self._lock:
            kept = self._images
        if kept is not None and self._clock() - kept[0] < CONTEXT_FRESH_S:
            return kept[1]
        try:
            found = parse_images(self.client.json("/image"))
        except ValueError as exc:
            raise EngineUnavailable(f"{self.server} answered /image in a form this app cannot read ({exc})",
                                    f"check that {self.where} is a Skaha session service") from None
        with self._lock:
            self._images = (self._clock(), found)
        return found

    def image_id(self, ref: str) -> str | None:
        return ref  # the platform resolves references itself

    def has_image(self, ref: str) -> bool:
        return any(i.ref == ref for i in self.images())

    def pull(self, ref: str, progress: ProgressFn | None = None) -> None:
        """The platform pulls images itself."""

    def remove_image(self, ref: str) -> None:
        raise StateError(f"Images on {self.name} belong to the platform", "they cannot be removed from here")

    def export_image(self, ref: str) -> Iterator[bytes]:
        raise StateError(f"Images on {self.name} belong to the platform", "they cannot be copied from here")

    def load_image(self, chunks: Iterable[bytes]) -> None:
        raise StateError(f"Images on {self.name} belong to the platform", "publish images to its registry")
