"""This computer's Docker engine, read through a plain HTTP client on its Unix socket.

Listing sessions (and the helpers and volumes the clean-up looks for), inspecting one, the host's
capacity, images and a log tail are a few JSON requests; answering them without the Docker SDK (and
the requests, urllib3 and paramiko it imports) is what lets `canfar-desktop ps` answer about as fast
as `docker ps`, and the app list its sessions at start without loading the SDK; creating and starting
a session and the streams (events, logs, stats) are a few more. Pulls and making or removing volumes
go to the SDK-backed DockerHost, imported on first use.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

from ..errors import CanfarError, EngineUnavailable, NotFound
from ..host import HostInfo, ImageInfo
from ..http1 import Connection, Response
from ..plan import L_HELPER, L_ID, ContainerPlan
from ..platform import unix_socket
from ..settings import HostConfig
from .shapes import (
    container_config,
    create_refused,
    demux,
    disk_usage_in_turn,
    file_from_tar,
    host_info,
    image_list,
    made_for,
    network_config,
    network_is_isolated,
    network_refused,
    start_refused,
    tar_of,
)

TIMEOUT_S = 30.0


def _unix_connection(path: str, timeout: float) -> Connection:
    def connect() -> socket.socket:
        sock = unix_socket()
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock

    return Connection(connect, "docker")


class LocalEngine:
    """A SessionHost for a unix:// engine: fast reads here, the rest delegated to the SDK host."""

    def __init__(self, cfg: HostConfig, url: str) -> None:
        self.name = cfg.name
        self.where = url
        self._cfg = cfg
        self._path = urllib.parse.urlparse(url).path
        self._sdk_host: Any = None
        self._info: HostInfo | None = None
        self._networks: set[str] = set()  # networks known to exist and be isolated
        self._local = threading.local()  # one kept-alive connection per thread
        self._df_lock = threading.Lock()

    # --- the SDK host, for everything not read here ---------------------------------------

    @property
    def sdk(self) -> Any:
        if self._sdk_host is None:
            from .docker_remote import connect

            self._sdk_host = connect(self._cfg)
        return self._sdk_host

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.sdk, name)

    @property
    def remote(self) -> bool:
        return False

    def reset(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self._info = None
        self._networks.clear()
        if self._sdk_host is not None:
            self._sdk_host.reset()

    # --- plain HTTP -----------------------------------------------------------------------

    def _request(self, method: str, path: str, params: dict[str, str] | None = None, body: bytes | None = None,
                 content_type: str = "application/json") -> tuple[int, bytes]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        headers = {} if body is None else {"Content-Type": content_type}
        for attempt in (0, 1):
            conn = getattr(self._local, "conn", None)
            fresh = conn is None or conn.sock is None
            if conn is None:
                conn = self._local.conn = _unix_connection(self._path, TIMEOUT_S)
            try:
                response = conn.request(method, path + query, body, headers)
                return response.status, response.read()
            except OSError as exc:
                conn.close()
                self._local.conn = None
                # a kept-alive connection the engine closed is retried once on a new one; every request
                # here is safe to repeat (a repeated create is recognised by its session id, see create)
                if fresh or attempt:
                    raise _unavailable(exc, self.where) from None
        raise AssertionError("unreachable")

    def _get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
        return self._request("GET", path, params)

    def _post(self, path: str, params: dict[str, str] | None = None, body: Any = None) -> tuple[int, bytes]:
        return self._request("POST", path, params, None if body is None else json.dumps(body).encode())

    def _json(self, path: str, params: dict[str, str] | None = None, what: str = "") -> Any:
        status, body = self._get(path, params)
        if status == 404:
            raise NotFound(f"{what or 'It'} is not on {self.name}", "run canfar-desktop ps -a")
        if status >= 400:
            message = _message(body)
            raise CanfarError(f"The engine on {self.name} refused: {message}", "run canfar-desktop doctor")
        return json.loads(body)

    # --- the reads ------------------------------------------------------------------------

    def ping(self) -> None:
        status, body = self._get("/_ping")
        if status != 200:
            raise EngineUnavailable(f"The Docker engine at {self.where} failed: {_message(body)}",
                                    "run canfar-desktop doctor")

    def info(self, refresh: bool = False) -> HostInfo:
        if self._info is None or refresh:
            # the engine takes a few milliseconds over each (it asks containerd for /version): both at once
            version: list[Any] = []

            def read_version() -> None:
                try:
                    version.append(self._json("/version"))
                except CanfarError as exc:
                    version.append(exc)

            beside = threading.Thread(target=read_version, name="engine-version", daemon=True)
            beside.start()
            try:
                info = self._json("/info")
            finally:
                beside.join()
            if isinstance(version[0], CanfarError):
                raise version[0]
            self._info = host_info(self.name, info, version[0])
        return self._info

    def summaries(self) -> list[dict[str, Any]]:
        """Every session container (any state), as the engine's short listing."""
        result: list[dict[str, Any]] = self._json(
            "/containers/json", {"all": "1", "filters": json.dumps({"label": [L_ID]})})
        return result

    def helpers(self) -> list[dict[str, Any]]:
        """The app's own short-lived helper containers, in any state (the clean-up reads them at every
        start: asking here keeps the Docker SDK out of a start that only lists)."""
        result: list[dict[str, Any]] = self._json(
            "/containers/json", {"all": "1", "filters": json.dumps({"label": [L_HELPER]})})
        return result

    def volumes(self, prefix: str) -> list[str]:
        data = self._json("/volumes")
        return [str(v["Name"]) for v in (data.get("Volumes") or []) if str(v.get("Name", "")).startswith(prefix)]

    def disk_usage(self) -> dict[str, Any]:
        return disk_usage_in_turn(self._df_lock, lambda: dict(self._json("/system/df")))

    def inspect(self, container_id: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._json(f"/containers/{_q(container_id)}/json")
        except NotFound:
            raise NotFound(f"Session container {container_id[:12]} is gone", "run canfar-desktop ps -a") from None
        return result

    def images(self) -> list[ImageInfo]:
        return image_list(self._json("/images/json"))

    def image_id(self, ref: str) -> str | None:
        try:
            return str(self._json(f"/images/{urllib.parse.quote(ref, safe='/:@')}/json")["Id"])
        except NotFound:
            return None

    def has_image(self, ref: str) -> bool:
        return self.image_id(ref) is not None

    # --- writes ---------------------------------------------------------------------------

    def create(self, plan: ContainerPlan) -> str:
        status, body = self._post("/containers/create", {"name": plan.container_name}, container_config(plan))
        if status == 409:
            existing = self._created_before(plan)
            if existing:
                return existing  # a retried request whose first attempt had created it
        if status >= 400:
            raise create_refused(self.name, plan.image, status, _message(body))
        return str(json.loads(body)["Id"])

    def _created_before(self, plan: ContainerPlan) -> str | None:
        try:
            data = self.inspect(plan.container_name)
        except NotFound:
            return None
        return str(data["Id"]) if made_for(data, plan) else None

    def start(self, container_id: str) -> None:
        status, body = self._post(f"/containers/{_q(container_id)}/start")
        if status >= 400 and status != 304:  # 304: already running
            raise start_refused(_message(body))

    def ensure_network(self, name: str) -> None:
        """The sessions' isolated network, made once; one that exists but is not isolated is refused."""
        if name in self._networks:
            return
        try:
            data = self._json(f"/networks/{_q(name)}", what=f"The network {name}")
        except NotFound:
            status, body = self._post("/networks/create", body=network_config(name))
            if status >= 400 and status != 409:  # 409: made a moment ago by a launch beside this one
                raise CanfarError(f"Could not create the sessions' network on {self.name}: {_message(body)}",
                                  "run canfar-desktop doctor") from None
            data = self._json(f"/networks/{_q(name)}", what=f"The network {name}")
        if not network_is_isolated(data):
            raise network_refused(name, self.name)
        self._networks.add(name)

    def keep_running(self, container_id: str) -> None:
        """Ask the engine to bring the container back after an engine restart (or a crash)."""
        self._post(f"/containers/{_q(container_id)}/update", body={"RestartPolicy": {"Name": "unless-stopped"}})

    def stop(self, container_id: str, timeout: int = 10) -> None:
        status, body = self._post(f"/containers/{_q(container_id)}/stop", {"t": str(timeout)})
        if status >= 400 and status not in (304, 404):
            raise CanfarError(f"The engine could not stop the session: {_message(body)}", "retry")

    def rename(self, container_id: str, name: str) -> None:
        status, body = self._post(f"/containers/{_q(container_id)}/rename", {"name": name})
        if status >= 400:
            raise CanfarError(f"The engine could not rename the container: {_message(body)}", "retry")

    def remove(self, container_id: str) -> None:
        status, body = self._request("DELETE", f"/containers/{_q(container_id)}", {"force": "1", "v": "1"})
        if status >= 400 and status != 404 and "already in progress" not in _message(body):
            raise CanfarError(f"The engine could not delete the session: {_message(body)}", "retry")

    def read_file(self, container_id: str, path: str) -> bytes | None:
        """A file from the container's file system (works before the container starts)."""
        status, body = self._get(f"/containers/{_q(container_id)}/archive", {"path": path})
        if status == 404:
            return None
        if status >= 400:
            raise CanfarError(f"Could not read {path} in the session: {_message(body)}", "retry")
        return file_from_tar(body)

    def write_files(self, container_id: str, directory: str, files: dict[str, bytes], mode: int = 0o644) -> None:
        """Put files into a container (before it starts, too) in one call."""
        status, body = self._request("PUT", f"/containers/{_q(container_id)}/archive", {"path": directory},
                                     tar_of(files, mode), "application/x-tar")
        if status >= 400:
            raise CanfarError(f"Could not write into the session: {_message(body)}", "retry")

    def top(self, container_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json(f"/containers/{_q(container_id)}/top",
                                            {"ps_args": "-o pid,user,pcpu,pmem,rss,etime,args"}, "The session")
        return result

    def stats(self, container_id: str, one_shot: bool = False) -> dict[str, Any]:
        """One stats reading; `one_shot` answers at once (no CPU baseline: compare two readings)."""
        params = {"stream": "0", **({"one-shot": "1"} if one_shot else {})}
        result: dict[str, Any] = self._json(f"/containers/{_q(container_id)}/stats", params, "The session")
        return result

    # --- streams: one connection each, closed from any thread to end a blocked read ------------

    def _stream(self, path: str, params: dict[str, str], frames: bool = False) -> HttpStream:
        conn = _unix_connection(self._path, TIMEOUT_S)
        try:
            response = conn.request("GET", f"{path}?{urllib.parse.urlencode(params)}")
        except OSError as exc:
            conn.close()
            raise _unavailable(exc, self.where) from None
        if response.status == 404:
            conn.close()
            raise NotFound(f"{path} is not on {self.name}", "run canfar-desktop ps -a")
        if response.status >= 400:
            message = _message(response.read())
            conn.close()
            raise CanfarError(f"The engine on {self.name} refused: {message}", "run canfar-desktop doctor")
        if conn.sock is not None:
            conn.sock.settimeout(None)  # a stream waits as long as the engine has nothing to say
        return HttpStream(conn, response, self.where, frames)

    def events(self, since: float | None = None, until: float | None = None,
               session_only: bool = True, container: str | None = None) -> HttpStream:
        """The engine's container events; with `until` the stream ends there, else it follows."""
        filters: dict[str, list[str]] = {"type": ["container"]}
        if session_only:
            filters["label"] = [L_ID]
        if container:
            filters["container"] = [container]
        params = {"filters": json.dumps(filters)}
        if since is not None:
            params["since"] = f"{since:.9f}"
        if until is not None:
            params["until"] = f"{until:.9f}"
        return self._stream("/events", params)

    def follow_logs(self, container_id: str, tail: int | str = "all") -> HttpStream:
        params = {"stdout": "1", "stderr": "1", "follow": "1", "tail": str(tail)}
        return self._stream(f"/containers/{_q(container_id)}/logs", params, frames=True)

    def stats_stream(self, container_id: str) -> HttpStream:
        """The engine's per-second stats readings until closed."""
        return self._stream(f"/containers/{_q(container_id)}/stats", {"stream": "1"})

    def logs(self, container_id: str, tail: int | str = "all", timestamps: bool = False) -> bytes:
        params = {"stdout": "1", "stderr": "1", "tail": str(tail), "timestamps": "1" if timestamps else "0"}
        status, body = self._get(f"/containers/{_q(container_id)}/logs", params)
        if status == 404:
            raise NotFound(f"Session container {container_id[:12]} is gone", "run canfar-desktop ps -a")
        if status >= 400:
            raise CanfarError(f"The engine cannot show this session's output: {_message(body)}",
                              "its logging driver may not keep output; see docker info")
        return demux(body)


class HttpStream:
    """A streaming answer: JSON documents one per line (events, stats), or a container's output frames."""

    def __init__(self, conn: Connection, response: Response, where: str, frames: bool) -> None:
        self._conn = conn
        self._response = response
        self._where = where
        self._frames = frames
        self._closed = False

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from (self._output() if self._frames else self._documents())
        except (OSError, ValueError) as exc:
            # closed from another thread: the read fails or finds the socket closed
            if not self._closed:
                raise _unavailable(exc, self._where) from None
        finally:
            self.close()

    def _documents(self) -> Iterator[dict[str, Any]]:
        while not self._closed:
            line = self._response.readline()
            if not line:
                return
            if line.strip():
                yield json.loads(line)

    def _output(self) -> Iterator[bytes]:
        """The multiplexed stdout/stderr frames of a container without a TTY, as raw bytes."""
        while not self._closed:
            header = self._response.read(8)
            if len(header) < 8:
                return
            if header[0] not in (0, 1, 2) or header[1:4] != b"\0\0\0":  # a TTY container: plain output
                yield header
                while not self._closed and (data := self._response.read1(65536)):
                    yield data
                return
            data = self._response.read(int.from_bytes(header[4:8], "big"))
            if not data:
                return
            yield data

    def close(self) -> None:
        self._closed = True
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread
            except OSError:
                pass
        self._conn.close()


def _q(container_id: str) -> str:
    return urllib.parse.quote(container_id, safe="")


def _message(body: bytes) -> str:
    try:
        text = str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        text = body.decode(errors="replace")
    return (text.strip().splitlines() or ["unknown error"])[0][:300]


def _unavailable(exc: BaseException, where: str) -> EngineUnavailable:
    if isinstance(exc, PermissionError):
        return EngineUnavailable(f"Not allowed to use the Docker engine at {where}",
                                 "add yourself to the docker group (sudo usermod -aG docker $USER) and log in again")
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return EngineUnavailable(f"Docker is not running at {where}",
                                 "start Docker Desktop or the engine (sudo systemctl start docker), then retry")
    if isinstance(exc, TimeoutError):
        return EngineUnavailable(f"The Docker engine at {where} did not answer in time",
                                 "check the host is up and not overloaded, then retry")
    return EngineUnavailable(f"The Docker engine at {where} failed: {exc}", "run canfar-desktop doctor")
