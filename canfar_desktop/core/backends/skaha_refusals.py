"""What a science platform host does not do that a Docker engine does: files in and out of a session,
commands inside it, volumes, networks, forwards. Each call says so plainly, with where to go instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import StateError
from ..host import Dialer, Stream


class EngineOnly:
    """Mixed into a platform host; `name` is the host's name."""

    name: str

    def read_file(self, container_id: str, path: str) -> bytes | None:
        return None

    def write_files(self, container_id: str, directory: str, files: dict[str, bytes], mode: int = 0o644) -> None:
        raise StateError(f"{self.name} does not take files into a session", "put them under /arc instead")

    def _no_files(self) -> StateError:
        return StateError(f"Files of a session on {self.name} cannot be copied from here",
                          "use the platform's storage (arc): the CANFAR portal, or `canfar` / vostools")

    def archive_stat(self, container_id: str, path: str) -> dict[str, Any] | None:
        raise self._no_files()

    def archive_read(self, container_id: str, path: str) -> tuple[Stream, dict[str, Any]]:
        raise self._no_files()

    def archive_write(self, container_id: str, directory: str, chunks: Iterable[bytes]) -> None:
        raise self._no_files()

    def exec_run(self, container_id: str, cmd: list[str], user: str) -> tuple[int, str]:
        raise StateError(f"Commands cannot be run inside a session on {self.name} from here",
                         "open the session and use its terminal")

    def disk_usage(self) -> dict[str, Any]:
        raise StateError(f"{self.name} does not report its disks", "see the platform's storage (arc) instead")

    def volumes(self, prefix: str) -> list[str]:
        return []

    def remove_volume(self, name: str) -> None:
        """The platform has no volumes of ours."""

    def prepare_volumes(self, image: str, mounts: list[tuple[str, int]], uid: int, gid: int) -> None:
        """The platform prepares its own storage."""

    def helpers(self) -> list[dict[str, Any]]:
        return []

    def rename(self, container_id: str, name: str) -> None:
        raise StateError(f"{self.name} names its sessions itself", "nothing to do here")

    def ensure_network(self, name: str) -> None:
        """The platform isolates its sessions itself."""

    def dialer(self) -> Dialer:
        raise StateError(f"Sessions on {self.name} are opened at the address the platform gives",
                         "open the session; no forward is needed")
