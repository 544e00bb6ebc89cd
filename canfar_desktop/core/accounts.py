"""A name for the session's uid inside its container: /etc/passwd and /etc/group entries.

Sessions run as the person's uid, which the image does not know; CANFAR writes passwd entries too,
so `whoami`, `ls -l` and shells work. The groups of the person's projects (core/projects.py) are
named in /etc/group too, with their members, so `groups` shows them. The image's own files are read once per image and cached.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import CanfarError
from .host import SessionHost
from .settings import AppPaths, Settings, write_atomic

if TYPE_CHECKING:
    from .projects import Project


def image_accounts(host: SessionHost, paths: AppPaths, container_id: str, image_id: str) -> tuple[str, str]:
    """The image's own /etc/passwd and /etc/group, read once per image and kept on disk."""
    cache = paths.state_dir / "accounts" / f"{image_id.replace(':', '-').replace('/', '-')}.json"
    try:
        data = json.loads(cache.read_text())
        return str(data["passwd"]), str(data["group"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
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
