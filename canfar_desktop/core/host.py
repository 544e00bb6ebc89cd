"""The seam between the session logic and whatever runs sessions: what a host can do, as a Protocol.

The Docker engine (local socket, ssh://, tcp:// with TLS) is one implementation, in
`core/backends/`; a host that is not a Docker engine is added beside it by implementing this
Protocol, without touching the service or the UI. Records cross the seam in the engine's own
shapes (the listing's summaries, the inspect document, stats readings), which every implementation
produces; failures cross it only as the project's own errors (`core/errors.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .plan import ContainerPlan

ProgressFn = Callable[[str, float | None], None]  # (stage text, fraction 0..1 or None)


@dataclass(frozen=True)
class HostInfo:
    name: str
    engine_version: str
    api_version: str
    cpus: int
    memory_bytes: int
    os: str
    gpus_possible: bool
    docker_root: str

    @property
    def memory_gb(self) -> float:
        return self.memory_bytes / 1024**3


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
    # storage and helpers
    def disk_usage(self) -> dict[str, Any]: ...
    def volumes(self, prefix: str) -> list[str]: ...
    def remove_volume(self, name: str) -> None: ...
    def prepare_volumes(self, image: str, mounts: list[tuple[str, int]], uid: int, gid: int) -> None: ...
    def helpers(self) -> list[dict[str, Any]]: ...
    # reaching session ports of a remote host from this machine
    @property
    def remote(self) -> bool: ...
    def dialer(self) -> Dialer: ...
