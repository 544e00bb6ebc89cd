"""A desktop session's applications: each one a container of its own on the desktop's display.

As on CANFAR, a desktop's "Astro Software" menu lists the images labelled `desktop-app` and starts
each as a session of its own. Here the application's container joins the desktop container's
network namespace: it reaches the desktop's X server through its abstract socket (display :1), which
nothing outside that namespace can reach (the X server listens on no TCP port), and it sees the
same /arc and /scratch as the desktop. It has no port and no page, does not count against the
session limit, and ends when the application closes or the desktop goes.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .accounts import add_user
from .catalogue import distinct
from .errors import CanfarError, LaunchError, StateError, ValidationError
from .host import ImageInfo
from .kinds import DESKTOP_APP
from .lifecycle import State
from .plan import (
    L_ID,
    L_KIND,
    L_OWNER,
    L_SCRATCH,
    PREFIX,
    LaunchRequest,
    Mount,
    Storage,
    build_plan,
    new_secret,
    new_session_id,
)
from .record import replace
from .session import Session

if TYPE_CHECKING:
    from .service import SessionService

L_PARENT = PREFIX + "parent"  # on an application's container: the desktop session it draws on
MENU_DIR = "/var/lib/canfar-desktop/share/applications"  # in the desktop image, on its XDG_DATA_DIRS
MENU_CATEGORY = "X-CANFAR-AstroSoftware"  # the category the desktop's "Astro Software" menu shows
MANIFEST = "canfar-apps.list"  # the entries written last time, so entries of removed images hide
STATE_DIR = "/tmp/canfar-desktop"  # in the desktop image: where answers to its requests go
REQUEST_MARK = "canfar-desktop-app-request "  # a request line in the desktop's output


def app_images(images: list[ImageInfo]) -> list[ImageInfo]:
    """The images on a host that serve as desktop applications, by name."""
    return sorted((i for i in distinct(images) if DESKTOP_APP.name in i.kinds), key=lambda i: i.ref)


def app_name(image: ImageInfo) -> str:
    """What the menu calls an application: its image's title (without any note in brackets), else
    its repository and tag, as CANFAR's menu names them."""
    title = image.title.split(" (", 1)[0].strip()
    if title:
        return title
    last = image.ref.rsplit("/", 1)[-1].split("@", 1)[0]
    repo, _, tag = last.partition(":")
    return repo + (f":{tag}" if tag and tag != "latest" else "")


def entry_id(ref: str) -> str:
    """A menu entry's file name for an image reference (stable, one per reference)."""
    return "canfar-app-" + re.sub(r"[^a-z0-9]+", "-", ref.lower()).strip("-") + ".desktop"


def menu_entries(images: list[ImageInfo], previous: list[str]) -> dict[str, bytes]:
    """The desktop's Astro Software entries: one per desktop-app image, plus hidden entries replacing
    those written before for images that are gone, and the list of what was written."""
    files: dict[str, bytes] = {}
    for image in images:
        name = app_name(image).replace("\n", " ")
        files[entry_id(image.ref)] = (
            "[Desktop Entry]\nType=Application\nVersion=1.0\n"
            f"Name={name}\nComment={image.ref}: runs in a container of its own on this desktop\n"
            f"Exec=canfar-app-launch {image.ref}\nIcon=applications-science\nTerminal=false\n"
            f"Categories={MENU_CATEGORY};\n"
        ).encode()
    for gone in previous:
        if gone not in files and gone.startswith("canfar-app-") and gone.endswith(".desktop"):
            files[gone] = b"[Desktop Entry]\nType=Application\nName=removed\nExec=true\nHidden=true\n"
    files[MANIFEST] = "".join(f"{name}\n" for name in files if name != MANIFEST).encode()
    return files


def parse_request(line: str) -> dict[str, str] | None:
    """A request line from a desktop's output ({"id", "image"}), or None for any other line."""
    if not line.startswith(REQUEST_MARK):
        return None
    try:
        data = json.loads(line[len(REQUEST_MARK):])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    rid, image = str(data.get("id", "")), str(data.get("image", ""))
    if not re.fullmatch(r"[0-9a-f]{8,32}", rid) or not re.fullmatch(r"[A-Za-z0-9._:/@-]{1,255}", image):
        return None
    return {"id": rid, "image": image}


def desktop_storage(inspected: dict[str, Any], user: str) -> Storage:
    """The desktop container's /arc/home, /arc/projects and /scratch, for its applications to share."""
    found: dict[str, Mount] = {}
    for m in inspected.get("Mounts") or []:
        kind = str(m.get("Type", "bind"))
        source = str(m.get("Name") if kind == "volume" else m.get("Source", ""))
        found[str(m.get("Destination", ""))] = Mount(source, str(m.get("Destination", "")), type=kind)
    try:
        return Storage(found[f"/arc/home/{user}"], found["/arc/projects"], found["/scratch"])
    except KeyError as exc:
        raise LaunchError(f"The desktop has no {exc.args[0]} to share with its applications",
                          "start a new desktop session") from None


class DesktopApps:
    """Starts, lists and tidies the applications of desktop sessions, on any host."""

    def __init__(self, service: SessionService) -> None:
        self.service = service

    def images(self, host: str) -> list[ImageInfo]:
        """The host's desktop-app images: what the desktops' menus offer."""
        return app_images(self.service.host(host).images())

    def write_menu(self, desktop: Session) -> int:
        """Write the desktop's Astro Software entries; returns how many applications it lists."""
        dh = self.service.host(desktop.host)
        previous = (dh.read_file(desktop.container_id, f"{MENU_DIR}/{MANIFEST}") or b"").decode(errors="replace")
        images = self.images(desktop.host)
        dh.write_files(desktop.container_id, MENU_DIR, menu_entries(images, previous.split()), mode=0o644)
        return len(images)

    def answer(self, desktop: Session, request_id: str, text: str) -> None:
        """Answer a desktop's request: its launcher script waits for this file."""
        self.service.host(desktop.host).write_files(
            desktop.container_id, STATE_DIR, {f"answer-{request_id}": (text.strip() + "\n").encode()}, mode=0o644)

    def launch(self, desktop: Session, image: str) -> Session:
        """Start `image` (labelled desktop-app on the desktop's host) on the desktop's display."""
        if desktop.kind != "desktop":
            raise ValidationError(f"Session {desktop.id} is a {desktop.kind} session",
                                  "desktop applications start on a desktop session")
        if desktop.state not in (State.RUNNING, State.SUSPENDED, State.LAUNCHING) or desktop.status != "running":
            raise StateError(f"Desktop {desktop.id} is {desktop.state.value}", "start applications on a running desktop")
        dh = self.service.host(desktop.host)
        offered = {i.ref: i for i in dh.images() if DESKTOP_APP.name in i.kinds}
        if image not in offered:
            raise ValidationError(f"{image} is not a desktop application on {desktop.host}",
                                  "pick one from the Astro Software menu (images labelled desktop-app)")
        settings = self.service.settings
        if desktop.owner != settings.user:
            raise StateError(f"Desktop {desktop.id} belongs to {desktop.owner}", "start applications on your own desktop")
        inspected = dh.inspect(desktop.container_id)
        info = dh.info()
        short = re.sub(r"[^a-z0-9]+", "-", app_name(offered[image]).lower()).strip("-")[:16] or "app"
        req = LaunchRequest(kind=DESKTOP_APP.name, image=image, name=f"{short}-{desktop.id}", host=dh.name)
        session_id = new_session_id()
        plan = build_plan(
            req, DESKTOP_APP, session_id=session_id, secret=new_secret(), user=settings.user, uid=settings.uid,
            gid=settings.gid, storage=desktop_storage(inspected, settings.user), host_cpus=info.cpus,
            host_ram_gb=info.memory_gb, now=self.service.clock(),
            lifetime=timedelta(hours=settings.session_lifetime_hours),
        )
        plan = replace(
            plan, network=f"container:{desktop.container_id}", ports={}, hostname="",
            # the desktop's /scratch is shared, never the application's to remove
            labels={**plan.labels, L_SCRATCH: "", L_PARENT: desktop.id},
        )
        image_id = dh.image_id(image) or image
        with self.service.ledger.hold(f"launching-{session_id}"):
            container_id = dh.create(plan)
            try:
                add_user(dh, self.service.paths, settings, container_id, image_id)
                dh.start(container_id)
            except CanfarError:
                dh.remove(container_id)
                raise
        return self.service.refresh(dh.name, container_id, probe=False)

    def applications(self, host: str, desktop_id: str | None = None) -> list[dict[str, Any]]:
        """The user's application containers on a host (of one desktop, when given), as listed."""
        user = self.service.settings.user
        found = []
        for s in self.service.host(host).summaries():
            labels = s.get("Labels") or {}
            if labels.get(L_KIND) != DESKTOP_APP.name or labels.get(L_OWNER) != user:
                continue
            if desktop_id is None or labels.get(L_PARENT) == desktop_id:
                found.append(s)
        return found

    def tidy(self, host: str, live_desktops: set[str]) -> list[str]:
        """Remove applications that ended normally or whose desktop is gone; returns their session ids.
        One that failed stays, so its card shows why, until its desktop goes."""
        removed = []
        for s in self.applications(host):
            labels = s.get("Labels") or {}
            state = str(s.get("State", ""))
            parent_gone = labels.get(L_PARENT) not in live_desktops
            ended_well = state == "exited" and "Exited (0)" in str(s.get("Status", ""))
            if (parent_gone and state != "created") or ended_well:
                try:
                    self.service.delete(str(labels.get(L_ID, "")), host)
                    removed.append(str(labels.get(L_ID, "")))
                except CanfarError:
                    pass  # gone already, or the engine is busy: the next pass tries again
        return removed

