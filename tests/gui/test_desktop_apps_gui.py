"""The desktop in a tab as a person uses it: it fills the tab and follows its size, its Applications
menu has Astro Software, and DS9 (on a FITS file in /arc/home) and TOPCAT open from it, each in a
container of its own drawing on the desktop."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.lifecycle import State

from ..integration.science_fixtures import exec_in, need_images, write_fits
from .conftest import screenshot, state_of, wait_js_true
from .test_desktop_tab import NOVNC_CONNECTED


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)

CANVAS_SIZE = "(() => { const c = document.querySelector('#noVNC_container canvas'); return [c.width, c.height]; })()"


def x_size(docker_engine: Any, container_id: str) -> tuple[int, int]:
    code, out = exec_in(docker_engine, container_id, ["xdpyinfo"], env={"DISPLAY": ":1"})
    found = re.search(r"dimensions:\s+(\d+)x(\d+) pixels", out)
    assert code == 0 and found, out
    return int(found.group(1)), int(found.group(2))


def xwin(docker_engine: Any, container_id: str) -> str:
    return exec_in(docker_engine, container_id, ["xwininfo", "-root", "-tree"], env={"DISPLAY": ":1"})[1]


def xdotool(docker_engine: Any, container_id: str, *args: str) -> None:
    code, out = exec_in(docker_engine, container_id, ["xdotool", *args], env={"DISPLAY": ":1"})
    assert code == 0, out


def menu_open(docker_engine: Any, cid: str) -> bool:
    """One of the panel's menus is mapped: a window of the panel's just below it (the panel is 30 px high)."""
    for match in re.finditer(r'"xfce4-panel": \("xfce4-panel" "Xfce4-panel"\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)',
                             xwin(docker_engine, cid)):
        width, height, _x, y = (int(v) for v in match.groups())
        if y >= 30 and height > 20 and width > 20:
            return True
    return False


def home_of(service: Any) -> Path:
    """The session user's /arc/home folder, made as a launch makes it (theirs, private) before the test writes."""
    home = service.settings.arc_folder() / "home" / service.settings.user
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chown(home, service.settings.uid, service.settings.gid)
    return home


def js(qtbot: Any, tab: Any, script: str) -> Any:
    box: dict[str, Any] = {}
    tab.run_js(script, lambda value: box.setdefault("v", value))
    qtbot.waitUntil(lambda: "v" in box, timeout=5000)
    return box["v"]


def test_desktop_menu_opens_ds9_on_a_fits_file_and_topcat(make_app: Any, qtbot: Any, docker_engine: Any,
                                                          science_images: dict[str, str]) -> None:
    parts = make_app()
    window, service = parts.window, parts.service
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    home = home_of(service)
    fits = write_fits(home / "field.fits")
    os.chown(fits, service.settings.uid, service.settings.gid)

    window.launch(service.prepare_launch("desktop", science_images["desktop"], "gui-astro"))
    qtbot.waitUntil(lambda: state_of(window, "gui-astro") == State.RUNNING, timeout=120000)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    wait_js_true(qtbot, tab, NOVNC_CONNECTED, timeout=60000)
    desktop = next(s for s in window.store.all() if s.name == "gui-astro")
    cid = desktop.container_id

    # the desktop fills its tab (its X screen is the tab's size), and follows it when the window changes size
    seen = set()
    for size in ((1200, 760), (1400, 880)):
        window.resize(*size)
        qtbot.waitUntil(lambda: x_size(docker_engine, cid) == (tab.view.width(), tab.view.height()), timeout=20000)
        assert json.loads(js(qtbot, tab, f"JSON.stringify({CANVAS_SIZE})")) == list(x_size(docker_engine, cid))
        seen.add(x_size(docker_engine, cid))
    assert len(seen) == 2, f"the desktop did not change size with its tab: {seen}"

    # the Applications menu, opened as a person does, shows Astro Software with the host's applications
    qtbot.waitUntil(lambda: desktop.id in parts.desktop_apps.broker.following, timeout=20000)
    qtbot.waitUntil(lambda: "canfar-app-canfar-desktop-ds9-latest.desktop" in exec_in(
        docker_engine, cid, ["ls", "/var/lib/canfar-desktop/share/applications"])[1], timeout=30000)
    xdotool(docker_engine, cid, "mousemove", "40", "14", "click", "1")
    qtbot.waitUntil(lambda: menu_open(docker_engine, cid), timeout=15000)
    xdotool(docker_engine, cid, "key", "Down")  # Astro Software: the menu's first entry
    xdotool(docker_engine, cid, "key", "Right")  # its submenu: Aladin Desktop, SAOImage DS9, TOPCAT
    qtbot.wait(1500)  # not synchronisation: the submenu is drawn for the picture
    screenshot(window, "desktop-astro-menu.png", qtbot, settle_ms=1500)
    xdotool(docker_engine, cid, "key", "Down")
    xdotool(docker_engine, cid, "key", "Return")

    # DS9 runs as a session of its own (a desktop-app card), and its window is on this desktop
    qtbot.waitUntil(lambda: any(s.kind == "desktop-app" and s.image == science_images["ds9"]
                                for s in window.store.all()), timeout=60000)
    ds9 = next(s for s in window.store.all() if s.kind == "desktop-app")
    qtbot.waitUntil(lambda: "SAOImage ds9" in xwin(docker_engine, cid), timeout=60000)
    for command in (["fits", f"/arc/home/{service.settings.user}/field.fits"], ["scale", "sqrt"], ["cmap", "heat"],
                    ["zoom", "to", "fit"]):
        qtbot.waitUntil(lambda c=command: exec_in(docker_engine, ds9.container_id, ["xpaset", "-p", "ds9", *c])[0] == 0,
                        timeout=30000)
    assert exec_in(docker_engine, ds9.container_id, ["xpaget", "ds9", "file"])[1].strip().endswith("field.fits")
    screenshot(window, "desktop-ds9.png", qtbot, settle_ms=2500)

    # TOPCAT from the same menu
    xdotool(docker_engine, cid, "mousemove", "40", "14", "click", "1")
    qtbot.waitUntil(lambda: menu_open(docker_engine, cid), timeout=15000)
    for key in ("Down", "Right", "Down", "Down", "Return"):
        xdotool(docker_engine, cid, "key", key)
    qtbot.waitUntil(lambda: re.search(r'"TOPCAT"', xwin(docker_engine, cid)) is not None, timeout=90000)
    apps = sorted(s.image for s in window.store.all() if s.kind == "desktop-app")
    assert apps == sorted([science_images["ds9"], science_images["topcat"]]), apps
    screenshot(window, "desktop-topcat.png", qtbot, settle_ms=3000)


def frame_of(docker_engine: Any, cid: str, title: str) -> tuple[int, int, int, int] | None:
    """The window's frame on the X screen (x, y, width, height), decorations included; None until it is mapped.
    Only a visible window counts: a terminal also has an unmapped leader window of the same name."""
    code, out = exec_in(docker_engine, cid, ["sh", "-c", f"id=$(xdotool search --onlyvisible --name '{title}' "
                                                         "| head -1) && "
                                                         "xwininfo -id $id && xprop -id $id _NET_FRAME_EXTENTS"],
                        env={"DISPLAY": ":1"})
    values = {key: int(v) for key, v in re.findall(r"(Absolute upper-left [XY]|Width|Height):\s+(-?\d+)", out)}
    extents = re.search(r"_NET_FRAME_EXTENTS\(CARDINAL\) = (\d+), (\d+), (\d+), (\d+)", out)
    if code != 0 or len(values) < 4 or extents is None:
        return None
    left, right, top, bottom = (int(v) for v in extents.groups())
    return (values["Absolute upper-left X"] - left, values["Absolute upper-left Y"] - top,
            values["Width"] + left + right, values["Height"] + top + bottom)


def test_windows_stay_on_the_desktop_when_its_tab_shrinks(make_window: Any, qtbot: Any, docker_engine: Any,
                                                          session_images: dict[str, str]) -> None:
    window = make_window()
    window.resize(1400, 880)
    window.launch(window.service.prepare_launch("desktop", session_images["desktop"], "gui-shrink"))
    qtbot.waitUntil(lambda: state_of(window, "gui-shrink") == State.RUNNING, timeout=120000)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    tab = next(iter(window.session_tabs.values()))
    wait_js_true(qtbot, tab, NOVNC_CONNECTED, timeout=60000)
    cid = next(s for s in window.store.all() if s.name == "gui-shrink").container_id
    qtbot.waitUntil(lambda: x_size(docker_engine, cid) == (tab.view.width(), tab.view.height()), timeout=20000)
    big = x_size(docker_engine, cid)

    # a terminal in the bottom right-hand corner of the big screen
    docker_engine.containers.get(cid).exec_run(["xfce4-terminal", "--title", "corner-term", "--geometry", "70x16"],
                                               user=docker_engine.containers.get(cid).attrs["Config"]["User"],
                                               environment={"DISPLAY": ":1"}, detach=True)
    seen: list[tuple[int, int, int, int] | None] = [None]

    def mapped() -> bool:
        seen[0] = frame_of(docker_engine, cid, "corner-term")
        return seen[0] is not None

    qtbot.waitUntil(mapped, timeout=20000)
    first = seen[0]
    assert first is not None
    corner = (big[0] - first[2] - 10, big[1] - first[3] - 10)
    xdotool(docker_engine, cid, "search", "--name", "corner-term", "windowmove", "%@", *map(str, corner))
    qtbot.waitUntil(lambda: (frame_of(docker_engine, cid, "corner-term") or (0, 0))[:2] == corner, timeout=10000)

    # the window (and so the tab, and the desktop's screen) gets smaller: the terminal comes along
    window.resize(900, 620)
    qtbot.waitUntil(lambda: x_size(docker_engine, cid) == (tab.view.width(), tab.view.height()), timeout=20000)
    small = x_size(docker_engine, cid)
    assert small[0] < big[0] - 300 and small[1] < big[1] - 150, (big, small)

    def inside() -> bool:
        frame = frame_of(docker_engine, cid, "corner-term")
        return frame is not None and frame[0] >= 0 and frame[1] >= 0 and frame[0] + frame[2] <= small[0] \
            and frame[1] + frame[3] <= small[1]

    qtbot.waitUntil(inside, timeout=10000)
    screenshot(window, "desktop-after-shrink.png", qtbot, settle_ms=1500)
