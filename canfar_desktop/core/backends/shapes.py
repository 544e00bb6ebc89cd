"""The Docker engine's JSON answers read into the seam's records, shared by both engine clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import CanfarError, ImageError, LaunchError, PortTaken
from ..host import HostInfo, ImageInfo
from ..kinds import image_kinds
from ..plan import L_GATE_OF, L_ID, ContainerPlan

DF_BUSY = "disk usage operation is already running"
DF_ATTEMPTS, DF_RETRY_S = 20, 0.25


def host_info(name: str, info: dict[str, Any], version: dict[str, Any]) -> HostInfo:
    """`GET /info` and `GET /version` as the host's capacity."""
    return HostInfo(
        name=name,
        engine_version=str(info.get("ServerVersion", "?")),
        api_version=str(version.get("ApiVersion", "?")),
        cpus=int(info.get("NCPU", 1)),
        memory_bytes=int(info.get("MemTotal", 0)),
        os=str(info.get("OperatingSystem", "?")),
        gpus_possible="nvidia" in (info.get("Runtimes") or {}),
        docker_root=str(info.get("DockerRootDir", "")),
    )


def image_list(images: list[dict[str, Any]]) -> list[ImageInfo]:
    """`GET /images/json` as one record per tag, with the session kinds each image serves."""
    found: list[ImageInfo] = []
    for image in images:
        labels = image.get("Labels") or {}
        for ref in image.get("RepoTags") or []:
            if ref == "<none>:<none>":
                continue
            found.append(ImageInfo(
                ref=ref,
                kinds=frozenset(image_kinds(labels)),
                size=int(image.get("Size", 0)),
                created=str(image.get("Created", "")),
                title=labels.get("org.opencontainers.image.title", ""),
                digest=str(image.get("Id", "")),
            ))
    return found


def demux(raw: bytes) -> bytes:
    """A container's log in the engine's multiplexed format (no TTY) as plain bytes, streams merged."""
    out = bytearray()
    i = 0
    while i + 8 <= len(raw) and raw[i] in (0, 1, 2) and raw[i + 1:i + 4] == b"\0\0\0":
        size = int.from_bytes(raw[i + 4:i + 8], "big")
        out += raw[i + 8:i + 8 + size]
        i += 8 + size
    return bytes(out) if i else raw


_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_bytes(text: str) -> int:
    """"1g", "512m" or a plain number of bytes, as the engine's size options read them."""
    value = text.strip().lower()
    if value and value[-1] in _UNITS:
        return int(float(value[:-1]) * _UNITS[value[-1]])
    return int(value)


def container_config(plan: ContainerPlan) -> dict[str, Any]:
    """A session's container as the engine's `POST /containers/create` body: one source for both clients."""
    host_config: dict[str, Any] = {
        "PortBindings": {port: [{"HostIp": ip, "HostPort": str(host_port) if host_port else ""}]
                         for port, (ip, host_port) in plan.ports.items()},
        # NoCopy: the image's folder must not be copied into /arc or /scratch volumes (that also resets
        # their owner to the image's root; see DockerHost.prepare_volumes)
        "Mounts": [{"Target": m.target, "Source": m.source, "Type": m.type, "ReadOnly": m.read_only,
                    **({"VolumeOptions": {"NoCopy": True}} if m.type == "volume" else {})} for m in plan.mounts],
        "NanoCpus": plan.nano_cpus or 0,
        "Memory": plan.mem_limit or 0,
        "MemorySwap": plan.mem_limit or 0,  # no swap beyond the limit: a kill, not a crawl
        "MemoryReservation": plan.mem_reservation or 0,
        "PidsLimit": plan.pids_limit,
        "DeviceRequests": [{"Driver": d["Driver"], "Count": d["Count"], "Capabilities": d["Capabilities"]}
                           for d in plan.device_requests] or None,
        "ShmSize": size_bytes(plan.shm_size),
        "SecurityOpt": list(plan.security_opt),
        "CapDrop": list(plan.cap_drop),
        "Init": plan.init,
        "NetworkMode": plan.network,
    }
    if plan.cap_add:
        host_config["CapAdd"] = list(plan.cap_add)
    if plan.group_add:  # the user's project groups, beside the session's own gid
        host_config["GroupAdd"] = [str(g) for g in plan.group_add]
    joined = plan.network.startswith("container:")  # shares that container's network and name
    return {
        "Image": plan.image,
        "Cmd": plan.command,
        **({"Entrypoint": list(plan.entrypoint)} if plan.entrypoint is not None else {}),
        "Env": [f"{k}={v}" for k, v in plan.environment.items()],
        "Labels": dict(plan.labels),
        "User": plan.user,
        "WorkingDir": plan.working_dir,
        **({} if joined else {"Hostname": plan.hostname}),
        "ExposedPorts": {port: {} for port in plan.ports},
        "HostConfig": host_config,
    }


def made_for(data: dict[str, Any], plan: ContainerPlan) -> bool:
    """Whether an existing container is this plan's: a retried create whose first attempt got through."""
    labels = (data.get("Config") or {}).get("Labels") or {}
    return plan.session_id in (labels.get(L_ID), labels.get(L_GATE_OF))


NO_ICC = {"com.docker.network.bridge.enable_icc": "false"}


def network_config(name: str) -> dict[str, Any]:
    """The sessions' network: a bridge on which no container reaches another (inter-container traffic off);
    containers on other networks cannot reach it either (the engine isolates bridges from each other)."""
    return {"Name": name, "Driver": "bridge", "Options": dict(NO_ICC), "CheckDuplicate": True,
            "Labels": {"net.canfar.desktop.network": "sessions"}}


def network_is_isolated(data: dict[str, Any]) -> bool:
    options = data.get("Options") or {}
    return data.get("Driver") == "bridge" and options.get("com.docker.network.bridge.enable_icc") == "false"


def network_refused(name: str, host: str) -> CanfarError:
    return CanfarError(f"The network {name} on {host} lets containers reach each other",
                       f"remove it (docker network rm {name}) so the app makes it again with inter-container "
                       "traffic off")


def create_refused(host: str, image: str, status: int, message: str) -> CanfarError:
    """The engine's refusal to create a session container, as a person reads it."""
    if status == 404 and "image" in message.lower():
        return ImageError(f"The image {image} is not on {host}", "pull or build it first")
    return LaunchError(f"The engine refused to create the session: {message}",
                       "check the image, resources and folders, or run canfar-desktop doctor")


def start_refused(message: str) -> LaunchError:
    """The engine's refusal to start a created session container."""
    if "port is already allocated" in message or "address already in use" in message:
        return PortTaken(f"The session's port is already in use on this host ({message})",
                           "pick another port or leave it empty so a free one is chosen")
    return LaunchError(f"The session could not start: {message}", "run canfar-desktop doctor")


def file_from_tar(archive: bytes) -> bytes | None:
    """The one regular file in an archive the engine sends for `GET /containers/{id}/archive`."""
    import io
    import tarfile  # only for the archive calls: a launch on this computer's engine makes no archive

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.next()
        if member is None or not member.isfile():
            return None
        handle = tar.extractfile(member)
        return handle.read() if handle else None


def tar_of(files: dict[str, bytes], mode: int) -> bytes:
    """Files as the archive `PUT /containers/{id}/archive` takes."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def disk_usage_in_turn(lock: threading.Lock, count: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The engine counts disk usage once at a time and refuses a second count meanwhile ("a disk usage
    operation is already running"): callers in this process take turns (the troubleshooting panel's
    overview and its checks ask at once), and one refused because another process is counting asks
    again shortly."""
    with lock:
        for attempt in range(DF_ATTEMPTS):
            try:
                return count()
            except CanfarError as exc:
                if DF_BUSY not in exc.message or attempt == DF_ATTEMPTS - 1:
                    raise
            time.sleep(DF_RETRY_S)
    raise AssertionError("unreachable")
