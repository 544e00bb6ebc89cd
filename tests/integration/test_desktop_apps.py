"""A desktop's Astro Software menu: each entry starts its application in a container of its own that
draws on that desktop's display, and on no other; applications go when they close or the desktop goes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from canfar_desktop.core.app_broker import AppBroker
from canfar_desktop.core.desktop_apps import L_PARENT, MENU_DIR
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session

from ..helpers import wait_for
from .science_fixtures import exec_in, need_images


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)

X_PORTS = range(6000, 6064)


def windows(docker_engine: Any, desktop: Session) -> str:
    code, out = exec_in(docker_engine, desktop.container_id, ["xwininfo", "-root", "-tree"], env={"DISPLAY": ":1"})
    assert code == 0, out
    return out


def menu_exec(docker_engine: Any, desktop: Session, image: str) -> list[str]:
    """The Exec line of the desktop's menu entry for `image` (what a click on it runs)."""
    code, out = exec_in(docker_engine, desktop.container_id, ["sh", "-c", f"cat {MENU_DIR}/canfar-app-*.desktop"])
    assert code == 0, out
    found = re.findall(r"^Exec=(.*)$", out, re.MULTILINE)
    line = next((e for e in found if e.endswith(" " + image)), None)
    assert line, f"no menu entry for {image} among {found}"
    return line.split()


def apps_of(service: SessionService, desktop: Session) -> list[Session]:
    return [s for s in service.sessions(probe=False) if s.kind == "desktop-app" and s.name.endswith(desktop.id)]


def test_menu_starts_ds9_in_its_own_container_on_the_desktops_display_only(
        make_service: Callable[..., SessionService], science_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    desktop = service.wait_ready(service.launch(service.prepare_launch("desktop", science_images["desktop"],
                                                                       "apps-desk")), timeout=120)
    broker = AppBroker(service)
    try:
        broker.sync(service.sessions())
        wait_for(lambda: desktop.id in broker.following, 20, "the broker to follow the desktop")
        wait_for(lambda: menu_exec(docker_engine, desktop, science_images["ds9"]), 30,
                 "the desktop's menu to list DS9")
        for app in ("topcat", "aladin"):
            menu_exec(docker_engine, desktop, science_images[app])

        # a click on the entry runs its Exec line in the desktop, as the session's user
        code, out = exec_in(docker_engine, desktop.container_id, menu_exec(docker_engine, desktop,
                                                                           science_images["ds9"]))
        assert code == 0, out
        apps = apps_of(service, desktop)
        assert [a.image for a in apps] == [science_images["ds9"]] and apps[0].state == State.RUNNING, apps
        ds9 = docker_engine.containers.get(apps[0].container_id).attrs
        desk = docker_engine.containers.get(desktop.container_id).attrs
        assert ds9["HostConfig"]["NetworkMode"] == f"container:{desktop.container_id}"
        assert ds9["Config"]["User"] == desk["Config"]["User"] and ds9["Config"]["Labels"][L_PARENT] == desktop.id
        assert {m["Destination"]: m.get("Name") or m["Source"] for m in ds9["Mounts"]} == \
               {m["Destination"]: m.get("Name") or m["Source"] for m in desk["Mounts"]}, "the desktop's /arc and /scratch"
        wait_for(lambda: "SAOImage ds9" in windows(docker_engine, desktop), 60, "DS9's window on the desktop")

        # the display is reachable from the desktop's own network namespace only: no X port is open,
        # and a container outside it (even from the same image) cannot open display :1
        code, tcp = exec_in(docker_engine, desktop.container_id, ["cat", "/proc/net/tcp", "/proc/net/tcp6"])
        listening = {int(line.split()[1].rsplit(":", 1)[1], 16) for line in tcp.splitlines()[1:]
                     if len(line.split()) > 3 and line.split()[3] == "0A"}
        assert not listening & set(X_PORTS), f"an X server port is open: {sorted(listening)}"
        outsider = docker_engine.containers.run(science_images["desktop"], ["xdpyinfo", "-display", ":1"],
                                                user=desk["Config"]["User"], detach=True)
        try:
            assert outsider.wait(timeout=60)["StatusCode"] != 0, "a container outside the desktop reached its display"
        finally:
            outsider.remove(force=True)

        # an image that is not a desktop application is refused, and the launcher says why
        code, out = exec_in(docker_engine, desktop.container_id, ["canfar-app-launch", science_images["notebook"]])
        assert code == 1 and "not a desktop application" in out, out

        # closing DS9 (it exits 0) removes its container; so does deleting the desktop for the rest
        code, out = exec_in(docker_engine, apps[0].container_id, ["xpaset", "-p", "ds9", "exit"])
        assert code in (0, 137), out  # 137: DS9 was quicker, and its container took the xpaset with it
        wait_for(lambda: docker_engine.containers.get(apps[0].container_id).status == "exited", 30, "DS9 to exit")
        assert docker_engine.containers.get(apps[0].container_id).attrs["State"]["ExitCode"] == 0, "DS9 exits cleanly"
        broker.apps.tidy(desktop.host, {desktop.id})
        left = [(a.name, a.state.value, a.reason) for a in apps_of(service, desktop)]
        assert not left, f"a closed application is tidied away: {left}"
        code, out = exec_in(docker_engine, desktop.container_id,
                            menu_exec(docker_engine, desktop, science_images["topcat"]))
        assert code == 0, out
        assert len(apps_of(service, desktop)) == 1, [(a.name, a.state.value) for a in apps_of(service, desktop)]
        code, out = exec_in(docker_engine, desktop.container_id,
                            menu_exec(docker_engine, desktop, science_images["aladin"]))
        assert code == 0, out
        wait_for(lambda: "Aladin" in windows(docker_engine, desktop), 120, "Aladin's window on the desktop")
        assert sorted(a.image for a in apps_of(service, desktop)) == sorted(
            [science_images["topcat"], science_images["aladin"]]), "each application in a container of its own"
        service.delete(desktop)
        broker.apps.tidy(desktop.host, set())
        left = [(a.name, a.state.value, a.reason) for a in apps_of(service, desktop)]
        assert not left, f"the applications go with their desktop: {left}"
    finally:
        broker.close()
