"""The seam between the session logic and whatever runs sessions: what a host can do, as a Protocol.

The Docker engine (local socket, ssh://, tcp:// with TLS) is one implementation, in
`core/backends/`; a host that is not a Docker engine is added beside it by implementing this
Protocol, without touching the service or the UI. Records cross the seam in the engine's own
shapes (the listing's summaries, the inspect document, stats readings), which every implementation
produces; failures cross it only as the project's own errors (`core/errors.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

from .plan import ContainerPlan, LaunchRequest
from .record import record

ProgressFn = Callable[[str, float | None], None]  # (stage text, fraction 0..1 or None)


@record
class ResourceOptions:
    """The sizes a host offers, when it has a fixed menu of them (a science platform's `/context`)."""

    cores: tuple[int, ...]
    ram_gb: tuple[int, ...]
    gpus: tuple[int, ...] = (0,)


@record
class HostInfo:
    name: str
    engine_version: str
    api_version: str
    cpus: int
    memory_bytes: int
    os: str
    gpus_possible: bool
    docker_root: str
    engine: str = "Docker"  # what answers: "Docker", or "Skaha" for a science platform
    capacity: str = ""  # a platform's load in one line ("sessions request 120 of 1024 cores …")
    session_limit: int | None = None  # the host's own limit of active sessions, when it has one
    options: ResourceOptions | None = None  # its menu of sizes; None: any size up to its capacity

    @property
    def memory_gb(self) -> float:
        return self.memory_bytes / 1024**3


@record
class ImageInfo:
    ref: str
    kinds: frozenset[str]
    size: int
    created: str
    title: str
    digest: str = ""  # the image's content digest (sha256:…), as the engine names it


class Stream(Protocol):
    """A stream of records that can be closed from another thread (events, logs, stats)."""

    def __iter__(self) -> Iterator[Any]: ...
    def close(self) -> None: ...


class Pipe(Protocol):
    """One relayed connection to a session's port on a remote host."""

    def sendall(self, data: bytes) -> None: ...
    def recv(self, size: int) -> bytes: ...
    def close(self) -> None: ...


@record
class Target:
    """What a forward reaches: a port on the remote host's loopback, or a port inside a container."""

    container_id: str
    host_port: int | None  # the published port on the remote host's 127.0.0.1 (SSH forwards)
    container_port: int  # the app's port inside the container (exec relays)


class Dialer(Protocol):
    """Opens connections to session ports of one remote host (core/forwards.py listens for them)."""

    via: str  # "ssh" or "docker exec", for people reading where a forward goes

    def open(self, target: Target, origin: tuple[str, int]) -> Pipe: ...
    def close(self) -> None: ...


class SessionHost(Protocol):
    """What a host can do for sessions. Every call blocks; failures are CanfarError subclasses."""

    name: str
    where: str

    def reset(self) -> None: ...
    def ping(self) -> None: ...
    def info(self, refresh: bool = False) -> HostInfo: ...
    # sessions
    def summaries(self) -> list[dict[str, Any]]: ...
    def inspect(self, container_id: str) -> dict[str, Any]: ...
    def create(self, plan: ContainerPlan) -> str: ...
    def start(self, container_id: str) -> None: ...
    def keep_running(self, container_id: str) -> None: ...
    def stop(self, container_id: str, timeout: int = 10) -> None: ...
    def remove(self, container_id: str) -> None: ...
    def rename(self, container_id: str, name: str) -> None: ...
    def read_file(self, container_id: str, path: str) -> bytes | None: ...
    def write_files(self, container_id: str, directory: str, files: dict[str, bytes], mode: int = 0o644) -> None: ...
    # observing
    def logs(self, container_id: str, tail: int | str = "all", timestamps: bool = False) -> bytes: ...
    def follow_logs(self, container_id: str, tail: int | str = "all") -> Stream: ...
    def events(self, since: float | None = None, until: float | None = None,
               session_only: bool = True, container: str | None = None) -> Stream: ...
    def stats(self, container_id: str, one_shot: bool = False) -> dict[str, Any]: ...
    def stats_stream(self, container_id: str) -> Stream: ...
    def top(self, container_id: str) -> dict[str, Any]: ...
    # images
    def image_id(self, ref: str) -> str | None: ...
    def has_image(self, ref: str) -> bool: ...
    def images(self) -> list[ImageInfo]: ...
    def pull(self, ref: str, progress: ProgressFn | None = None) -> None: ...
    def remove_image(self, ref: str) -> None: ...
    def export_image(self, ref: str) -> Iterator[bytes]: ...  # as `docker save` writes it
    def load_image(self, chunks: Iterable[bytes]) -> None: ...  # what another host's export_image gave
    # storage and helpers
    def disk_usage(self) -> dict[str, Any]: ...
    def volumes(self, prefix: str) -> list[str]: ...
    def remove_volume(self, name: str) -> None: ...
    def prepare_volumes(self, image: str, mounts: list[tuple[str, int]], uid: int, gid: int) -> None: ...
    def helpers(self) -> list[dict[str, Any]]: ...
    def ensure_network(self, name: str) -> None: ...
    # reaching session ports of a remote host from this machine
    @property
    def remote(self) -> bool: ...
    def dialer(self) -> Dialer: ...


@runtime_checkable
class PlatformHost(Protocol):
    """A host that runs sessions itself (a science platform such as CANFAR's, through its session API)
    rather than a container engine. Besides SessionHost's calls it takes a launch request whole, says
    where a session opens, renews sessions itself, and reports its own round trip. The service asks
    it for these instead of composing them Docker-style (containers, published ports and readiness
    probes, renewals in the ledger); a running session on it is ready when the platform says so."""

    poll_s: float  # how often to ask about a launching session (the platform is shared: gently)

    def check(self, req: LaunchRequest) -> None: ...  # the platform's own rules; ValidationError
    def params(self, req: LaunchRequest) -> dict[str, object]: ...  # what submit sends (a dry run)
    def submit(self, req: LaunchRequest) -> str: ...  # launch; returns the session's id
    def connect_url(self, session_id: str) -> str: ...
    def extend(self, session_id: str) -> None: ...  # renew
    def round_trip_ms(self) -> float | None: ...
    def login(self) -> str: ...  # who is signed in and until when, in words ("" before the first call)
    def login_warning(self) -> str: ...  # a login expired or expiring within three days, in words; else ""


def platform_of(host: object) -> PlatformHost | None:
    """The host as a PlatformHost when it is one (else it is a container engine)."""
    # asked of the class first: an engine client that hands unknown names to another (LocalEngine to the
    # SDK) would otherwise load that other just to say no
    return host if hasattr(type(host), "submit") and isinstance(host, PlatformHost) else None


@runtime_checkable
class FileHost(Protocol):
    """A host whose sessions' files can be reached (a container engine's archive API): files in and out,
    streamed (core/transfer.py), a short command in a session, and a never-started helper container
    that mounts /arc for the app's own use (core/projects.py). A science platform has its own storage."""

    def archive_stat(self, container_id: str, path: str) -> dict[str, Any] | None: ...
    def archive_read(self, container_id: str, path: str) -> tuple[Stream, dict[str, Any]]: ...
    def archive_write(self, container_id: str, directory: str, chunks: Iterable[bytes]) -> None: ...
    def exec_run(self, container_id: str, cmd: list[str], user: str) -> tuple[int, str]: ...
    def helper_container(self, image: str, mounts: list[tuple[str, str, str]], name: str | None = None) -> str: ...


def files_of(host: object) -> FileHost:
    """The host as a FileHost, or a clear refusal for a host that has no such access (a platform)."""
    if isinstance(host, FileHost):
        return host
    from .errors import StateError

    name = getattr(host, "name", "this host")
    raise StateError(f"Files and projects of {name} cannot be reached from this app",
                     "use the platform's own storage tools (canfar data, vcp) there")
