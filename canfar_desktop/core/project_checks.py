"""The doctor's checks of project groups, as it checks /arc against the session's uid.

The guide's "Cannot access files" advice is to check `groups` and ask the project's administrator:
here that is whether the person belongs to the project, whether its folder lets the group read and
write, and whether a running session started before the person joined (it keeps the groups it
started with).
"""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

from .diagnostics import Check
from .errors import CanfarError
from .projects import Project, ProjectStore

if TYPE_CHECKING:
    from .service import SessionService
    from .session import Session

GROUP_RWX = stat.S_IRGRP | stat.S_IWGRP | stat.S_IXGRP


def group_checks(service: SessionService, host: str | None) -> list[Check]:
    """Each project of the person on this host: its folder must let its group in, and only its group."""
    user = service.settings.user
    try:
        store = service.projects(host)
        mine = store.of_user(user)
    except CanfarError as exc:
        return [Check("projects", "Project groups", "warn", f"could not read the projects: {exc.message}",
                      hint=exc.hint)]
    if not mine:
        return [Check("projects", "Project groups", "info", f"{user} belongs to no project on this host",
                      hint="canfar-desktop project create NAME, or ask a project's member to add you "
                           f"(canfar-desktop project add-member NAME {user})")]
    return [_folder_check(store, p) for p in mine]


def _folder_check(store: ProjectStore, p: Project) -> Check:
    title = f"Access to {p.folder}"
    if store.local_folder is not None:
        path = store.local_folder / p.name
        try:
            st = path.stat()
        except OSError as exc:
            return Check(f"project-{p.name}", title, "fail", f"the folder is missing ({exc.strerror})",
                         hint=f"ask a member of {p.name} to create it again")
        mode, group = st.st_mode, st.st_gid
        figure = f"{path} owner {st.st_uid}:{st.st_gid} mode {stat.filemode(mode)}"
    else:  # a remote host: the engine tells the mode (its owner ids only a session can see)
        try:
            found = store.folder_stat(p.name)
        except CanfarError as exc:
            return Check(f"project-{p.name}", title, "warn", f"could not look at it: {exc.message}", hint=exc.hint)
        if found is None:
            return Check(f"project-{p.name}", title, "fail", "the folder is missing on this host",
                         hint=f"ask a member of {p.name} to create it again")
        mode, group = int(str(found.get("mode", 0))) & 0o777, p.gid
        figure = f"{p.folder} mode {stat.filemode(stat.S_IFDIR | mode)}, members {', '.join(p.members)}"
    if group != p.gid:
        return Check(f"project-{p.name}", title, "fail", f"the folder belongs to group {group}, not {p.name} ({p.gid})",
                     figure, f"sudo chgrp -R {p.gid} {path} && sudo chmod 2770 {path}")
    if mode & GROUP_RWX != GROUP_RWX:
        return Check(f"project-{p.name}", title, "fail", f"the group {p.name} cannot read and write it", figure,
                     f"sudo chmod g+rwxs {path}")
    if mode & stat.S_IRWXO:
        return Check(f"project-{p.name}", title, "warn", "people outside the project can enter it", figure,
                     f"chmod o-rwx {path}")
    return Check(f"project-{p.name}", title, "ok", f"group {p.name} ({p.gid}) reads and writes it; others cannot",
                 figure)


def session_group_checks(service: SessionService, s: Session) -> list[Check]:
    """Whether a session carries the groups of every project its user now belongs to."""
    try:
        inspected = service.host(s.host).inspect(s.container_id)
        mine = service.projects(s.host).of_user(s.owner, s.image)
    except CanfarError:
        return []
    carried = {int(g) for g in (inspected.get("HostConfig") or {}).get("GroupAdd") or [] if str(g).isdigit()}
    missing = [p for p in mine if p.gid not in carried]
    if missing:
        names = ", ".join(p.name for p in missing)
        return [Check("session-groups", "Session groups", "warn",
                      f"the session started before {s.owner} joined {names}, so it cannot enter "
                      + ("that project's folder" if len(missing) == 1 else "those folders"),
                      f"groups of the session: {sorted(carried) or 'none'}",
                      "start a new session (a running one keeps the groups it started with)")]
    if mine:
        return [Check("session-groups", "Session groups", "ok",
                      "the session carries the groups of " + ", ".join(p.name for p in mine))]
    return []
