"""Projects: /arc/projects/<project> folders shared by a group, and the groups sessions run with.

As on CANFAR, a project is a folder its group reads and writes and others cannot enter (mode 2770,
the setgid bit so new files belong to the project's group). The groups of a host are kept beside
the data, in /arc/projects/.canfar-groups (the /etc/group format: `name:x:gid:alice,bob`), so every
person using that host (this computer, or a remote one with its own /arc) sees the same projects.
A session starts with the groups of the projects its user belongs to, named inside the container
(core/accounts.py writes them into /etc/group), so `groups` and `ls -l` show project names.

Folders and the list are written by the engine (through a short-lived helper container that mounts
/arc/projects and is never started): it makes them owned by the right ids without this app being
root, locally and remotely alike. The groups organise access among the people sharing a host; they
are no wall against anyone who may use the host's Docker engine, who could read any file anyway.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import Busy, CanfarError, NotFound, ValidationError
from .host import FileHost, SessionHost, files_of
from .plan import Mount
from .record import record, replace
from .session import parse_time
from .settings import AppPaths, Settings
from .storage import make_dir, session_storage

REGISTRY = ".canfar-groups"
GID_FIRST, GID_LAST = 70001, 79999  # above the ids useradd and sessions (60001-61183) hand out
FOLDER_MODE = 0o2770
NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]")
RESERVED = frozenset({"root", "daemon", "bin", "sys", "adm", "users", "nogroup", "docker", "sudo", "wheel", "staff"})
MOUNT = "/p"  # where a helper container sees /arc/projects
LOCK_WAIT_S = 20.0  # how long a change waits for another one to the project list
LOCK_STALE_S = 120.0  # a lock older than this was left by an app that died while changing


@record
class Project:
    name: str
    gid: int
    members: tuple[str, ...]

    @property
    def folder(self) -> str:
        return f"/arc/projects/{self.name}"

    def line(self) -> str:
        return f"{self.name}:x:{self.gid}:{','.join(self.members)}"


def parse(text: str) -> list[Project]:
    """The registry's lines; anything malformed is left out (a hand edit never stops a launch)."""
    found: dict[str, Project] = {}
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) != 4 or not NAME_RE.fullmatch(fields[0]) or not fields[2].isdigit():
            continue
        members = tuple(m for m in fields[3].split(",") if m)
        found.setdefault(fields[0], Project(fields[0], int(fields[2]), members))
    return sorted(found.values(), key=lambda p: p.name)


def render(projects: list[Project]) -> bytes:
    return "".join(p.line() + "\n" for p in sorted(projects, key=lambda p: p.name)).encode()


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name) or "--" in name:
        raise ValidationError(f"{name!r} is not a project name",
                              "use 2 to 32 lowercase letters, digits and '-', starting with a letter")
    if name in RESERVED:
        raise ValidationError(f"{name!r} is a system group's name", "choose another project name")
    return name


def free_gid(projects: list[Project], local_groups: Path | None) -> int:
    """The lowest project gid no project (and, for this computer, no group of /etc/group) has."""
    taken = {p.gid for p in projects}
    if local_groups is not None:
        try:
            for line in local_groups.read_text(errors="replace").splitlines():
                fields = line.split(":")
                if len(fields) > 2 and fields[2].isdigit():
                    taken.add(int(fields[2]))
        except OSError:
            pass
    for gid in range(GID_FIRST, GID_LAST + 1):
        if gid not in taken:
            return gid
    raise CanfarError("Every project group id is in use", "remove projects no one needs")


def _tar(entries: list[tuple[str, bytes | None, int, int, int]]) -> Iterator[bytes]:
    """A small tar stream: (name, content or None for a folder, uid, gid, mode)."""
    import tarfile  # only when writing: listing sessions imports this module

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, uid, gid, mode in entries:
            info = tarfile.TarInfo(name)
            info.uid, info.gid, info.mode, info.mtime = uid, gid, mode, int(time.time())
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    yield buffer.getvalue()


class ProjectStore:
    """The projects of one host, read and written through its engine."""

    def __init__(self, host: SessionHost, settings: Settings, paths: AppPaths, remote: bool, projects: Mount,
                 local_folder: Path | None) -> None:
        self.host = host
        self.settings = settings
        self.paths = paths
        self.remote = remote
        self.mount = projects
        self.local_folder = local_folder  # this computer's /arc/projects (None on a remote host)

    @property
    def files(self) -> FileHost:
        """The host's archive calls (asked only when needed: reading this computer's list needs none)."""
        return files_of(self.host)

    @classmethod
    def of(cls, host: SessionHost, settings: Settings, paths: AppPaths, host_name: str, remote: bool) -> ProjectStore:
        storage = session_storage(settings, paths, settings.host(host_name), remote, "projects", create=False)
        local = None if remote else settings.arc_folder() / "projects"
        return cls(host, settings, paths, remote, storage.projects, local)

    # --- reading -------------------------------------------------------------------------------

    def all(self, image: str = "") -> list[Project]:
        if self.local_folder is not None:
            try:
                return parse((self.local_folder / REGISTRY).read_text(errors="replace"))
            except FileNotFoundError:
                return []
            except OSError as exc:
                raise CanfarError(f"Cannot read the projects of this computer ({exc.strerror})",
                                  f"check {self.local_folder / REGISTRY} is readable") from None
        with self._helper(image) as helper:
            return parse(self._read(helper))

    def get(self, name: str, image: str = "") -> Project:
        for p in self.all(image):
            if p.name == name:
                return p
        raise NotFound(f"There is no project {name!r} on this host", "see canfar-desktop project ls")

    def of_user(self, user: str, image: str = "") -> list[Project]:
        """The projects `user` belongs to: the groups that user's sessions start with."""
        return [p for p in self.all(image) if user in p.members]

    def folder_stat(self, name: str, image: str = "") -> dict[str, object] | None:
        """What the engine says of a project's folder on the host (name, mode in Go's bits, ...)."""
        with self._helper(image) as helper:
            return self.files.archive_stat(helper, f"{MOUNT}/{name}")

    # --- changing ------------------------------------------------------------------------------

    def create(self, name: str, image: str = "") -> Project:
        """A project folder with a group of its own; its creator is its first member."""
        check_name(name)
        user = self.settings.user
        with self._helper(image, lock=True) as helper:
            projects = parse(self._read(helper))
            if any(p.name == name for p in projects):
                raise ValidationError(f"The project {name!r} exists already", f"ask a member to add you: "
                                      f"canfar-desktop project add-member {name} {user}")
            if self.files.archive_stat(helper, f"{MOUNT}/{name}") is not None:
                raise ValidationError(f"A folder /arc/projects/{name} exists that is no project",
                                      "choose another name, or move that folder away")
            local_groups = None if self.remote else Path("/etc/group")
            project = Project(name, free_gid(projects, local_groups), (user,))
            self.files.archive_write(helper, MOUNT, _tar([
                (name, None, self.settings.uid, project.gid, FOLDER_MODE),
                (REGISTRY, render([*projects, project]), 0, 0, 0o644)]))
        return project

    def add_member(self, name: str, member: str, image: str = "") -> Project:
        """Add a person (by user name) to a project; only a member may do so."""
        return self._change_members(name, member, add=True, image=image)

    def remove_member(self, name: str, member: str, image: str = "") -> Project:
        return self._change_members(name, member, add=False, image=image)

    def _change_members(self, name: str, member: str, add: bool, image: str) -> Project:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,31}", member):
            raise ValidationError(f"{member!r} is not a user name", "give the user name as in their settings")
        user = self.settings.user
        with self._helper(image, lock=True) as helper:
            projects = parse(self._read(helper))
            project = next((p for p in projects if p.name == name), None)
            if project is None:
                raise NotFound(f"There is no project {name!r} on this host", "see canfar-desktop project ls")
            if user not in project.members:
                raise ValidationError(f"You ({user}) are not a member of {name}", "ask one of its members: "
                                      + ", ".join(project.members))
            if add:
                members = project.members if member in project.members else (*project.members, member)
            else:
                members = tuple(m for m in project.members if m != member)
                if not members:
                    raise ValidationError(f"{member} is the last member of {name}", "a project keeps one member")
            changed = replace(project, members=members)
            self.files.archive_write(helper, MOUNT, _tar([
                (REGISTRY, render([changed if p.name == name else p for p in projects]), 0, 0, 0o644)]))
        return changed

    # --- the helper container -------------------------------------------------------------------

    def _read(self, helper: str) -> str:
        raw = self.host.read_file(helper, f"{MOUNT}/{REGISTRY}")
        return raw.decode(errors="replace") if raw else ""

    def _helper(self, image: str, lock: bool = False) -> _Helper:
        if self.local_folder is not None:  # the engine would make a missing folder root's
            arc = self.settings.arc_folder()
            make_dir(arc, 0o755, None)
            make_dir(self.local_folder, 0o775, self.settings)
        return _Helper(self.host, image or self._any_image(), self.mount, lock)

    def _any_image(self) -> str:
        """An image the host has: the helper container is created from it, never started."""
        labelled = [i.ref for i in self.host.images() if i.kinds]
        if not labelled:
            raise CanfarError(f"There is no session image on {self.host.name} to work with /arc/projects",
                              "build the session images (make images) or launch a session there once")
        return sorted(labelled)[0]


class _Helper:
    """A created, never started container mounting /arc/projects at /p; removed on leaving.

    For a change it has a fixed name, one per /arc/projects, so that it is also the lock: everyone
    changing the project list goes through the same engine, which refuses a second container of that name.
    """

    def __init__(self, host: SessionHost, image: str, mount: Mount, lock: bool = False) -> None:
        self.host, self.image, self.mount = host, image, mount
        self.name = f"canfar-projects-lock-{hashlib.sha256(mount.source.encode()).hexdigest()[:12]}" if lock else None
        self.container_id = ""

    def __enter__(self) -> str:
        files = files_of(self.host)
        mounts = [(self.mount.source, MOUNT, self.mount.type)]
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                self.container_id = files.helper_container(self.image, mounts, self.name)
                return self.container_id
            except Busy:
                if self._stale():
                    continue
                if time.monotonic() > deadline:
                    raise Busy(f"Someone else is changing the project list on {self.host.name}",
                               "try again in a minute") from None
                time.sleep(0.1)  # the other change takes a fraction of a second

    def _stale(self) -> bool:
        """Remove a lock left by an app that died while holding it; whether there was one."""
        assert self.name is not None
        try:
            held = self.host.inspect(self.name)
        except NotFound:
            return True  # released meanwhile
        created = parse_time(str(held.get("Created") or ""))
        if created is None or time.time() - created.timestamp() < LOCK_STALE_S:
            return False
        self.host.remove(str(held.get("Id")))  # by id: a lock someone took over meanwhile is theirs
        return True

    def __exit__(self, *_exc: object) -> None:
        try:
            self.host.remove(self.container_id)
        except CanfarError:
            pass  # left behind on a dropped connection: cleanup_orphans removes helpers
