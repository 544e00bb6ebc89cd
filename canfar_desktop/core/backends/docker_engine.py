"""A Docker engine as a SessionHost (core/host.py): the SDK calls, and its errors turned into ours.

Calls here block; the app runs them in worker threads, the CLI calls them directly. No SDK
exception leaves this package: `call` translates connection failures into EngineUnavailable and
any other engine answer into a CanfarError (NotFound for a missing object).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import docker
import docker.errors
import docker.types
import requests.exceptions

from ..errors import CanfarError, ImageError, NotFound, StateError
from ..host import Dialer, HostInfo, ImageInfo, ProgressFn
from ..plan import L_HELPER as HELPER_LABEL
from ..plan import L_ID, ContainerPlan
from .archive import ArchiveOverSdk
from .sdk_errors import EngineStream, engine_error
from .sdk_errors import first_line as _first_line
from .shapes import (
    container_config,
    create_refused,
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


class DockerHost(ArchiveOverSdk):  # files in and out, and a command, through the archive API
    """A Docker engine reached through a docker.DockerClient made on first use."""

    def __init__(self, name: str, client_factory: Callable[[], docker.DockerClient], where: str) -> None:
        self.name = name
        self.where = where
        self._factory = client_factory
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._info: HostInfo | None = None
        self._networks: set[str] = set()  # networks known to exist and be isolated
        self._df_lock = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._factory()
                except docker.errors.DockerException as exc:
                    raise engine_error(exc, self.where) from None
            return self._client

    def reset(self) -> None:
        """Forget the connection so the next call reconnects (after the engine comes back)."""
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                except Exception:  # noqa: BLE001 - closing a dead connection can fail in many ways
                    pass
            self._client = None
            self._info = None
            self._networks.clear()

    def _sdk(self, fn: Callable[[docker.DockerClient], Any]) -> Any:
        """Run one SDK call: connection failures become EngineUnavailable, the engine's answers
        (docker.errors.APIError, NotFound) are left for the caller here to interpret."""
        try:
            return fn(self.client)
        except (docker.errors.APIError, docker.errors.InvalidVersion):
            raise
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
            self.reset()
            raise engine_error(exc, self.where) from None

    def call(self, fn: Callable[[docker.DockerClient], Any]) -> Any:
        """Run one SDK call with every failure as the project's own error."""
        try:
            return self._sdk(fn)
        except docker.errors.NotFound as exc:
            raise NotFound(f"Not found on {self.name}: {_first_line(str(exc.explanation or exc))}",
                           "run canfar-desktop ps -a") from None
        except docker.errors.APIError as exc:
            raise CanfarError(f"The engine on {self.name} refused: {_first_line(str(exc.explanation or exc))}",
                              "run canfar-desktop doctor") from None

    @property
    def remote(self) -> bool:
        return False

    def dialer(self) -> Dialer:
        raise StateError(f"{self.name} is this computer's engine", "its sessions are reached directly")

    def ping(self) -> None:
        self.call(lambda c: c.ping())

    def info(self, refresh: bool = False) -> HostInfo:
        if self._info is None or refresh:
            raw = self.call(lambda c: c.info())
            version = self.call(lambda c: c.version())
            self._info = host_info(self.name, raw, version)
        return self._info

    # --- sessions -------------------------------------------------------------------------

    def summaries(self) -> list[dict[str, Any]]:
        """Every session container (any state), as the engine's short listing."""
        result: list[dict[str, Any]] = self.call(
            lambda c: c.api.containers(all=True, filters={"label": L_ID})
        )
        return result

    def inspect(self, container_id: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._sdk(lambda c: c.api.inspect_container(container_id))
            return result
        except docker.errors.NotFound:
            raise NotFound(f"Session container {container_id[:12]} is gone", "run canfar-desktop ps -a") from None

    def create(self, plan: ContainerPlan) -> str:
        try:
            created = self._sdk(lambda c: c.api.create_container_from_config(container_config(plan),
                                                                             plan.container_name))
        except docker.errors.APIError as exc:
            existing = self._created_before(plan) if exc.status_code == 409 else None
            if existing:
                return existing  # a retried request whose first attempt had created it
            raise create_refused(self.name, plan.image, exc.status_code or 0,
                                 _first_line(str(exc.explanation or exc))) from None
        return str(created["Id"])

    def _created_before(self, plan: ContainerPlan) -> str | None:
        try:
            data = self._sdk(lambda c: c.api.inspect_container(plan.container_name))
        except docker.errors.NotFound:
            return None
        return str(data["Id"]) if made_for(data, plan) else None

    def start(self, container_id: str) -> None:
        try:
            self._sdk(lambda c: c.api.start(container_id))
        except docker.errors.APIError as exc:
            raise start_refused(_first_line(str(exc.explanation or exc))) from None

    def keep_running(self, container_id: str) -> None:
        """Ask the engine to bring the container back after an engine restart (or a crash)."""
        try:
            self._sdk(lambda c: c.api.update_container(container_id, restart_policy={"Name": "unless-stopped"}))
        except docker.errors.APIError:
            pass

    def helpers(self) -> list[dict[str, Any]]:
        """The app's own short-lived helper containers, in any state."""
        result: list[dict[str, Any]] = self.call(
            lambda c: c.api.containers(all=True, filters={"label": HELPER_LABEL}))
        return result

    def ensure_network(self, name: str) -> None:
        """The sessions' isolated network, made once; one that exists but is not isolated is refused."""
        if name in self._networks:
            return
        try:
            data = self._sdk(lambda c: c.api.inspect_network(name))
        except docker.errors.NotFound:
            config = network_config(name)
            try:
                self._sdk(lambda c: c.api.create_network(name, driver=config["Driver"], options=config["Options"],
                                                         check_duplicate=True, labels=config["Labels"]))
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # made a moment ago by a launch beside this one
                    raise CanfarError(f"Could not create the sessions' network on {self.name}: "
                                      f"{_first_line(str(exc.explanation or exc))}", "run canfar-desktop doctor") from None
            data = self._sdk(lambda c: c.api.inspect_network(name))
        except docker.errors.APIError as exc:
            raise CanfarError(f"Could not read the sessions' network on {self.name}: {_first_line(str(exc))}",
                              "run canfar-desktop doctor") from None
        if not network_is_isolated(data):
            raise network_refused(name, self.name)
        self._networks.add(name)

    def prepare_volumes(self, image: str, mounts: list[tuple[str, int]], uid: int, gid: int) -> None:
        """Hand new named volumes (/arc on a remote host, /scratch) to the session's uid.

        The engine creates a volume owned by root, and sessions never run as root, so a throwaway root
        container (the session's own image, no network) changes the owner once, while the folder is still
        root's; a volume that already belongs to someone is left alone.
        """
        script = "; ".join(
            f'[ "$(stat -c %u /v/{i})" = 0 ] && chown {uid}:{gid} /v/{i} && chmod {mode:o} /v/{i}'
            for i, (_, mode) in enumerate(mounts)
        ) + "; true"
        binds = [docker.types.Mount(target=f"/v/{i}", source=name, type="volume")
                 for i, (name, _) in enumerate(mounts)]

        def run(c: docker.DockerClient) -> None:
            helper = c.containers.create(image, [script], entrypoint=["/bin/sh", "-c"], user="0:0", mounts=binds,
                                         network_disabled=True, labels={HELPER_LABEL: "volumes"})
            try:
                helper.start()
                helper.wait(timeout=120)
            finally:
                helper.remove(force=True)  # always: a helper left behind would be an orphan on the host

        try:
            self._sdk(run)
        except docker.errors.DockerException as exc:
            raise CanfarError(f"Could not prepare the session's volumes on {self.name}: {_first_line(str(exc))}",
                              "check the host's disk space and that the image has /bin/sh") from None

    def volumes(self, prefix: str) -> list[str]:
        data = self.call(lambda c: c.api.volumes())
        return [str(v["Name"]) for v in (data.get("Volumes") or []) if str(v.get("Name", "")).startswith(prefix)]

    def stop(self, container_id: str, timeout: int = 10) -> None:
        try:
            self._sdk(lambda c: c.api.stop(container_id, timeout=timeout))
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise CanfarError(f"The engine could not stop the session: {_first_line(str(exc))}", "retry") from None

    def rename(self, container_id: str, name: str) -> None:
        try:
            self._sdk(lambda c: c.api.rename(container_id, name))
        except docker.errors.APIError as exc:
            raise CanfarError(f"The engine could not rename the container: {exc.explanation or exc}", "retry") from None

    def remove(self, container_id: str) -> None:
        try:
            self._sdk(lambda c: c.api.remove_container(container_id, force=True, v=True))
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise CanfarError(f"The engine could not delete the session: {_first_line(str(exc))}", "retry") from None

    def read_file(self, container_id: str, path: str) -> bytes | None:
        """A file from the container's file system (works before the container starts)."""
        try:
            stream, _ = self._sdk(lambda c: c.api.get_archive(container_id, path))
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise CanfarError(f"Could not read {path} in the session: {_first_line(str(exc))}", "retry") from None
        return file_from_tar(b"".join(stream))

    def write_files(self, container_id: str, directory: str, files: dict[str, bytes], mode: int = 0o644) -> None:
        """Put files into a container (before it starts, too) in one call."""
        archive = tar_of(files, mode)
        self.call(lambda c: c.api.put_archive(container_id, directory, archive))

    def logs(self, container_id: str, tail: int | str = "all", timestamps: bool = False) -> bytes:
        raw = self.call(lambda c: c.api.logs(container_id, stream=False, tail=tail, timestamps=timestamps))
        return raw if isinstance(raw, bytes) else b""

    def follow_logs(self, container_id: str, tail: int | str = "all") -> EngineStream:
        return EngineStream(self.where, self.call(
            lambda c: c.api.logs(container_id, stream=True, follow=True, tail=tail)))

    def events(self, since: float | None = None, until: float | None = None,
               session_only: bool = True, container: str | None = None) -> EngineStream:
        """The engine's container events; with `until` the stream ends there, else it follows."""
        filters: dict[str, Any] = {"type": "container"}
        if session_only:
            filters["label"] = L_ID
        if container:
            filters["container"] = container
        return EngineStream(self.where, self.call(
            lambda c: c.api.events(since=since, until=until, filters=filters, decode=True)))

    def stats(self, container_id: str, one_shot: bool = False) -> dict[str, Any]:
        """One stats reading; `one_shot` answers at once (no CPU baseline: compare two readings)."""
        if one_shot:
            try:
                return dict(self._sdk(lambda c: c.api.stats(container_id, stream=False, one_shot=True)))
            except docker.errors.InvalidVersion:
                pass  # engines before API 1.41 wait about a second for a baseline instead
            except docker.errors.APIError:
                pass  # answered below as a translated error
        return dict(self.call(lambda c: c.api.stats(container_id, stream=False)))

    def stats_stream(self, container_id: str) -> EngineStream:
        """The engine's per-second stats readings until closed."""
        return EngineStream(self.where, self.call(lambda c: c.api.stats(container_id, stream=True, decode=True)))

    def top(self, container_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            lambda c: c.api.top(container_id, ps_args="-o pid,user,pcpu,pmem,rss,etime,args")
        )
        return result

    # --- images ---------------------------------------------------------------------------

    def image_id(self, ref: str) -> str | None:
        try:
            return str(self._sdk(lambda c: c.api.inspect_image(ref))["Id"])
        except docker.errors.NotFound:
            return None

    def has_image(self, ref: str) -> bool:
        try:
            self._sdk(lambda c: c.api.inspect_image(ref))
            return True
        except docker.errors.NotFound:
            return False

    def images(self) -> list[ImageInfo]:
        return image_list(self.call(lambda c: c.api.images()))

    def pull(self, ref: str, progress: ProgressFn | None = None) -> None:
        """Pull with aggregated byte progress; any failure becomes a clear ImageError."""
        repo, _, tag = ref.rpartition(":") if "@" not in ref else (ref, "", "")
        if "/" in tag:  # the colon belonged to a registry port
            repo, tag = ref, "latest"
        layers: dict[str, tuple[int, int]] = {}
        try:
            stream = self._sdk(lambda c: c.api.pull(repo, tag=tag or None, stream=True, decode=True))
            for event in stream:
                if "error" in event:
                    raise ImageError(
                        f"Could not pull {ref}: {_first_line(str(event['error']))}",
                        "check the image name and your network or registry login, or build the image locally",
                    )
                detail = event.get("progressDetail") or {}
                layer, status = event.get("id"), event.get("status")
                if layer and detail.get("total") and status == "Downloading":  # not "Extracting": it restarts at 0
                    layers[layer] = (int(detail.get("current", 0)), int(detail["total"]))
                elif layer in layers and status in ("Verifying Checksum", "Download complete", "Pull complete"):
                    layers[layer] = (layers[layer][1], layers[layer][1])
                if progress:
                    done = sum(c for c, _ in layers.values())
                    total = sum(t for _, t in layers.values())
                    progress(f"pulling {ref}", done / total if total else None)
        except docker.errors.APIError as exc:
            raise ImageError(
                f"Could not pull {ref}: {_first_line(str(exc.explanation or exc))}",
                "check the image name and your network or registry login, or build the image locally",
            ) from None
        if not self.has_image(ref):
            raise ImageError(f"Pulling {ref} did not leave the image on {self.name}", "retry the pull")

    def export_image(self, ref: str) -> Iterator[bytes]:
        """The image as `docker save` writes it, in chunks (to load into another engine)."""
        chunks: Iterator[bytes] = self._sdk(lambda c: c.api.get_image(ref, chunk_size=1024 * 1024))
        return chunks

    def load_image(self, chunks: Iterable[bytes]) -> None:
        """Load what another engine's export_image gave; the engine's complaint becomes an ImageError."""
        for event in self.call(lambda c: list(c.api.load_image(chunks))):
            if isinstance(event, dict) and event.get("error"):
                raise ImageError(f"{self.name} could not load the image: {_first_line(str(event['error']))}",
                                 "see the engine's log there, and that it has disk space left")

    def remove_image(self, ref: str) -> None:
        """Untag (and delete when no other tag is left) an image; refused while a container uses it."""
        try:
            self._sdk(lambda c: c.api.remove_image(ref))
        except docker.errors.NotFound:
            raise NotFound(f"The image {ref} is not on {self.name}", "see canfar-desktop image ls") from None
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                raise StateError(f"The image {ref} is in use on {self.name}",
                                 "delete the sessions that use it first (canfar-desktop ps -a)") from None
            raise CanfarError(f"The engine could not remove {ref}: {_first_line(str(exc.explanation or exc))}",
                              "retry") from None

    # --- storage --------------------------------------------------------------------------

    def disk_usage(self) -> dict[str, Any]:
        return disk_usage_in_turn(self._df_lock, lambda: dict(self.call(lambda c: c.api.df())))

    def remove_volume(self, name: str) -> None:
        try:
            self._sdk(lambda c: c.api.remove_volume(name, force=True))
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise CanfarError(f"The engine could not remove volume {name}: {_first_line(str(exc))}",
                              "delete the session that uses it first") from None
