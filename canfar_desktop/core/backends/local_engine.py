"""This computer's Docker engine, read through a plain HTTP client on its Unix socket.

Listing sessions, inspecting one, the host's capacity, images and a log tail are a few JSON
requests; answering them without the Docker SDK (and the requests, urllib3 and paramiko it imports)
is what lets `canfar-desktop ps` answer about as fast as `docker ps`. Everything else (creating,
streams, archives, pulls) goes to the SDK-backed DockerHost, imported on first use.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse
from typing import Any

from ..errors import CanfarError, EngineUnavailable, NotFound
from ..host import HostInfo, ImageInfo
from ..plan import L_ID
from ..settings import HostConfig
from .shapes import demux, host_info, image_list

TIMEOUT_S = 30.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class LocalEngine:
    """A SessionHost for a unix:// engine: fast reads here, the rest delegated to the SDK host."""

    def __init__(self, cfg: HostConfig, url: str) -> None:
        self.name = cfg.name
        self.where = url
        self._cfg = cfg
        self._path = urllib.parse.urlparse(url).path
        self._sdk_host: Any = None
        self._info: HostInfo | None = None
        self._local = threading.local()  # one kept-alive connection per thread

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
        if self._sdk_host is not None:
            self._sdk_host.reset()

    # --- plain HTTP -----------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, bytes]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        for attempt in (0, 1):
            conn = getattr(self._local, "conn", None)
            fresh = conn is None
            if conn is None:
                conn = self._local.conn = _UnixConnection(self._path, TIMEOUT_S)
            try:
                conn.request("GET", path + query, headers={"Host": "docker"})
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError) as exc:
                conn.close()
                self._local.conn = None
                if fresh or attempt:  # a kept-alive connection the engine closed is retried once
                    raise _unavailable(exc, self.where) from None
        raise AssertionError("unreachable")

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
            self._info = host_info(self.name, self._json("/info"), self._json("/version"))
        return self._info

    def summaries(self) -> list[dict[str, Any]]:
        """Every session container (any state), as the engine's short listing."""
        result: list[dict[str, Any]] = self._json(
            "/containers/json", {"all": "1", "filters": json.dumps({"label": [L_ID]})})
        return result

    def inspect(self, container_id: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._json(f"/containers/{urllib.parse.quote(container_id)}/json")
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

    def logs(self, container_id: str, tail: int | str = "all", timestamps: bool = False) -> bytes:
        params = {"stdout": "1", "stderr": "1", "tail": str(tail), "timestamps": "1" if timestamps else "0"}
        status, body = self._get(f"/containers/{urllib.parse.quote(container_id)}/logs", params)
        if status == 404:
            raise NotFound(f"Session container {container_id[:12]} is gone", "run canfar-desktop ps -a")
        if status >= 400:
            raise CanfarError(f"The engine cannot show this session's output: {_message(body)}",
                              "its logging driver may not keep output; see docker info")
        return demux(body)


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
