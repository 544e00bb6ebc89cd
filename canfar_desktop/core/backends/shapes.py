"""The Docker engine's JSON answers read into the seam's records, shared by both engine clients."""

from __future__ import annotations

from typing import Any

from ..host import HostInfo, ImageInfo
from ..kinds import image_kinds


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
