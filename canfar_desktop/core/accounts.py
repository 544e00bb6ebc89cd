"""A name for the session's uid inside its container: /etc/passwd and /etc/group entries.

Sessions run as the person's uid, which the image does not know; CANFAR writes passwd entries too,
so `whoami`, `ls -l` and shells work. The groups of the person's projects (core/projects.py) are
named in /etc/group too, with their members, so `groups` shows them. The image's own files are read once per image and cached.

On this computer's engine, once an image's files are cached, the two files are made here and
bind-mounted read-only over the image's (`account_mounts`): the same contents, which the session
cannot change (a read-only mount, and no capability to remount it), without the engine's archive
upload (about 45 ms of every launch, most of it the engine starting its unpacking helper). They are
named by their content and never changed in place, so sessions sharing them, or starting again after an
engine restart, always find them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CanfarError
from .host import SessionHost
from .plan import Mount
from .settings import AppPaths, Settings, write_atomic

if TYPE_CHECKING:
    from .projects import Project


def _cache(paths: AppPaths, image_id: str) -> Path:
    return paths.state_dir / "accounts" / f"{image_id.replace(':', '-').replace('/', '-')}.json"


def cached_accounts(paths: AppPaths, image_id: str) -> tuple[str, str] | None:
    """The image's /etc/passwd and /etc/group as read at an earlier launch, if they were."""
    try:
        data = json.loads(_cache(paths, image_id).read_text())
        return str(data["passwd"]), str(data["group"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def image_accounts(host: SessionHost, paths: AppPaths, container_id: str, image_id: str) -> tuple[str, str]:
    """The image's own /etc/passwd and /etc/group, read once per image and kept on disk."""
    cache = _cache(paths, image_id)
    known = cached_accounts(paths, image_id)
    if known is not None:
        return known
    passwd = (host.read_file(container_id, "/etc/passwd") or b"").decode(errors="replace")
    group = (host.read_file(container_id, "/etc/group") or b"").decode(errors="replace")
    try:
        write_atomic(cache, json.dumps({"passwd": passwd, "group": group}))
    except CanfarError:
        pass  # a cache only: a read-only state folder costs two reads per launch
    return passwd, group


def account_files(passwd: str, group: str, user: str, uid: int, gid: int,
                  projects: Sequence[Project] = ()) -> dict[str, bytes]:
    """The image's passwd and group with the session's user added (replacing any entry of that name or
    uid), its shell the one root has in the image, and a group for each of the user's projects (replacing
    any of the image's groups with that name or gid), so `groups` and `ls -l` show project names."""
    shell = "/bin/sh"
    kept: list[str] = []
    for line in passwd.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[0] == "root" and fields[6]:
            shell = fields[6]
        if len(fields) >= 3 and (fields[0] == user or fields[2] == str(uid)):
            continue
        kept.append(line)
    kept.append(f"{user}:x:{uid}:{gid}:{user}:/arc/home/{user}:{shell}")
    ours = {gid} | {p.gid for p in projects}
    names = {user} | {p.name for p in projects}
    groups = [line for line in group.splitlines()
              if line.split(":")[2:3] not in ([str(g)] for g in ours) and line.split(":")[0] not in names]
    groups.append(f"{user}:x:{gid}:")
    groups += [f"{p.name}:x:{p.gid}:{','.join(p.members)}" for p in projects]
    return {"passwd": ("\n".join(kept) + "\n").encode(), "group": ("\n".join(groups) + "\n").encode()}


def add_user(host: SessionHost, paths: AppPaths, settings: Settings, container_id: str, image_id: str,
             projects: Sequence[Project] = ()) -> None:
    """Write the session's passwd and group files into the created (not yet started) container."""
    passwd, group = image_accounts(host, paths, container_id, image_id)
    host.write_files(container_id, "/etc",
                     account_files(passwd, group, settings.user, settings.uid, settings.gid, projects))


def account_mounts(paths: AppPaths, settings: Settings, image_id: str,
                   projects: Sequence[Project] = ()) -> list[Mount] | None:
    """Read-only bind mounts of the session's passwd and group for this computer's engine; None when the
    image's files were never read (the first launch of an image writes them with `add_user`)."""
    image = cached_accounts(paths, image_id)
    if image is None:
        return None
    files = account_files(*image, settings.user, settings.uid, settings.gid, projects)
    try:
        return [Mount(str(_shared_file(paths, name, data)), f"/etc/{name}", read_only=True)
                for name, data in files.items()]
    except (OSError, CanfarError):
        return None  # a read-only state folder: the archive upload still works


def _shared_file(paths: AppPaths, name: str, data: bytes) -> Path:
    """A file named by its content, written once (whole, world-readable) and never changed in place: one
    that no longer holds its content (edited, cut short by a full disk) is replaced by a new file, while
    sessions that mount the old one keep it."""
    path = paths.state_dir / "accounts" / "files" / f"{hashlib.sha256(data).hexdigest()[:32]}.{name}"
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        pass
    # a launch beside this one may write the same bytes: either is right
    write_atomic(path, data, mode=0o644)  # read by the session's uid, whoever runs the app
    return path
