"""Files in and out of a session through the engine's archive API, streamed, and one command run in it.

The archive API (`GET/PUT/HEAD /containers/{id}/archive`) is the engine's own way to move files,
so it works for this computer's engine and for remote ones alike, over the connection the app
already has (no new port). Nothing here holds a whole file: the tar stream goes out and comes in
in chunks. `ArchiveOverSdk` gives DockerHost these calls; core/transfer.py builds on them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import docker
import docker.errors
import docker.types

from ..errors import Busy, CanfarError, EngineUnavailable, NotFound, StateError
from .sdk_errors import first_line as _first_line

CHUNK = 1024 * 1024


class ArchiveStream:
    """The tar stream of a path in a container, until read to the end or closed (from any thread)."""

    def __init__(self, response: Any, where: str) -> None:
        self._response = response
        self._where = where
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.raw.stream(CHUNK, decode_content=False)
        except Exception as exc:  # noqa: BLE001 - whatever cut the stream, the copy says so in one line
            if not self._closed:
                raise EngineUnavailable(f"The copy from {self._where} was cut off ({_first_line(str(exc))})",
                                        "check the connection to the host and copy again") from None
        finally:
            self.close()

    def close(self) -> None:
        self._closed = True
        try:
            self._response.close()
        except Exception:  # noqa: BLE001 - a dead connection may fail to close in many ways
            pass


def decode_stat(header: str | None) -> dict[str, Any]:
    """The engine's X-Docker-Container-Path-Stat header: name, size, mode (Go's bits), mtime, linkTarget."""
    if not header:
        return {}
    try:
        data = json.loads(base64.b64decode(header))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ArchiveOverSdk:
    """Archive and exec calls for a host reached through the Docker SDK (mixed into DockerHost)."""

    name: str
    where: str
    _sdk: Callable[[Callable[[docker.DockerClient], Any]], Any]

    def archive_stat(self, container_id: str, path: str) -> dict[str, Any] | None:
        """What is at `path` in the container (None: nothing): name, size, mode, mtime, linkTarget."""
        def head(c: docker.DockerClient) -> Any:
            url = c.api._url("/containers/{0}/archive", container_id)
            return c.api.head(url, params={"path": path}, timeout=60)

        response = self._sdk(head)
        if response.status_code == 404:  # the session was just found: the path is missing
            return None
        if response.status_code >= 400:
            raise CanfarError(f"The engine on {self.name} cannot read {path} in the session "
                              f"(HTTP {response.status_code})", "check the session is still there")
        return decode_stat(response.headers.get("X-Docker-Container-Path-Stat"))

    def archive_read(self, container_id: str, path: str) -> tuple[ArchiveStream, dict[str, Any]]:
        """A tar stream of `path` (a file or a folder) and what the engine says is there."""
        def get(c: docker.DockerClient) -> Any:
            url = c.api._url("/containers/{0}/archive", container_id)
            # identity: the engine would gzip the tar for requests' default Accept-Encoding
            return c.api._get(url, params={"path": path}, stream=True, headers={"Accept-Encoding": "identity"})

        response = self._sdk(get)
        if response.status_code == 404:
            response.close()
            raise NotFound(f"There is no {path} in the session", "check the path (canfar-desktop cp ID:/arc/home/…)")
        if response.status_code >= 400:
            message = _first_line(response.text)
            response.close()
            raise CanfarError(f"The engine on {self.name} cannot read {path}: {message}", "check the path")
        stat = decode_stat(response.headers.get("X-Docker-Container-Path-Stat"))
        return ArchiveStream(response, self.where), stat

    def archive_write(self, container_id: str, directory: str, chunks: Iterable[bytes]) -> None:
        """Unpack a tar stream into `directory` of the container (the engine writes as the tar says)."""
        def put(c: docker.DockerClient) -> Any:
            url = c.api._url("/containers/{0}/archive", container_id)
            return c.api._put(url, params={"path": directory, "noOverwriteDirNonDir": "true"}, data=iter(chunks),
                              headers={"Content-Type": "application/x-tar"}, timeout=None)

        response = self._sdk(put)
        if response.status_code >= 400:
            raise CanfarError(f"The engine on {self.name} refused the copy into {directory}: "
                              f"{_first_line(_message(response))}", "check the folder exists and there is space")

    def exec_run(self, container_id: str, cmd: list[str], user: str) -> tuple[int, str]:
        """Run a short command in the running session as `user`; its exit code and output."""
        def run(c: docker.DockerClient) -> tuple[int, str]:
            created = c.api.exec_create(container_id, cmd, user=user, stdout=True, stderr=True)
            output = c.api.exec_start(created["Id"])
            code = c.api.exec_inspect(created["Id"]).get("ExitCode")
            text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
            return int(code if code is not None else -1), text

        try:
            result: tuple[int, str] = self._sdk(run)
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                raise StateError("The session is not running", "renew or start it, then copy again") from None
            raise CanfarError(f"The engine on {self.name} could not run {cmd[0]} in the session: "
                              f"{_first_line(str(exc.explanation or exc))}", "retry") from None
        return result


    def helper_container(self, image: str, mounts: list[tuple[str, str, str]], name: str | None = None) -> str:
        """A container that is created and never started, only to reach `mounts` (source, target, type)
        through the archive calls above; the caller removes it. No network, labelled a helper.

        A `name` makes it a lock across every client of the engine: a second one of that name is
        refused (Busy) until the first is removed."""
        from ..plan import L_HELPER as HELPER_LABEL

        def create(c: docker.DockerClient) -> str:
            binds = [docker.types.Mount(target=target, source=source, type=kind, no_copy=kind == "volume")
                     for source, target, kind in mounts]
            config = c.api.create_host_config(mounts=binds, network_mode="none")
            made = c.api.create_container(image, command=["true"], entrypoint=[], host_config=config, name=name,
                                          labels={HELPER_LABEL: "files"}, network_disabled=True)
            return str(made["Id"])

        try:
            result: str = self._sdk(create)
        except docker.errors.APIError as exc:
            if name and exc.status_code == 409:
                raise Busy(f"{name} is held on {self.name}", "wait for the other change to finish") from None
            raise CanfarError(f"The engine on {self.name} could not reach /arc: {_first_line(str(exc.explanation or exc))}",
                              "check the host's disk and that its session images are there") from None
        return result


def _message(response: Any) -> str:
    try:
        return str(json.loads(response.content).get("message", ""))
    except (ValueError, AttributeError):
        return str(getattr(response, "text", ""))
