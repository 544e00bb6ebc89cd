"""The real app process killed with SIGKILL in the middle of a launch, then started again.

The app runs as a person runs it (`python -m canfar_desktop`, offscreen, its own CANFAR_DESKTOP_HOME)
and is asked to launch through its single-instance socket ({"launch": …}, the window's normal launch
path). It is killed at two points: right when the engine creates the container (before it starts),
and right when the container starts (while the app waits for it to answer). The next start must show
the started session (it goes on to Running) and its start-up clean-up must leave no container that
never started and no scratch folder without a session (local sessions keep /scratch in a folder
under the state folder; volumes are for remote hosts).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.instance import send_to_running_app
from canfar_desktop.core.plan import L_GATE_OF
from canfar_desktop.core.settings import AppPaths, save_settings

from ..app_process import OWNER, SESSION, App, kill_on_event
from ..helpers import wait_for


@pytest.fixture
def apps() -> Iterator[list[App]]:
    started: list[App] = []
    yield started
    for app in started:
        app.stop(signal.SIGKILL)


def test_app_killed_mid_launch_next_start_is_clean(make_service: Callable[..., Any], paths: AppPaths,
                                                   app_home: Path, docker_engine: Any,
                                                   session_images: dict[str, str], apps: list[App]) -> None:
    service = make_service(session_limit=6)
    save_settings(paths, service.settings)  # the app process reads these (own user, own /arc)
    user = service.settings.user
    outcomes: dict[str, dict[str, str]] = {}
    for name, action in (("killed-at-create", "create"), ("killed-at-start", "start")):
        app = App(app_home)
        apps.append(app)
        wait_for(lambda app=app: app.shown() is not None, 60, f"the app to list sessions: {app.output()}")
        seen, events = kill_on_event(docker_engine, user, action, app.proc)
        assert send_to_running_app(paths, {"launch": {"kind": "contributed", "image": session_images["contributed"],
                                                      "name": name}}), "the app did not take the launch message"
        try:
            wait_for(lambda seen=seen: "status" in seen, 60, f"the app to reach '{action}' of {name}: {app.output()}")
        finally:
            events.close()
        app.proc.wait(10)
        assert app.proc.returncode == -signal.SIGKILL
        outcomes[name] = seen
        if action == "create":  # what the kill left behind, before a next start cleans it up
            assert seen["status"] == "created", seen
            assert (paths.scratch_dir / seen["session"]).is_dir(), "the interrupted launch left its scratch folder"
    assert outcomes["killed-at-start"]["status"] in ("running", "exited"), outcomes

    # The next start: the started session shows and becomes Running; the interrupted one is cleaned up.
    app = App(app_home)
    apps.append(app)
    wait_for(lambda: (app.shown() or {}).get("killed-at-start") == "Running", 90,
             f"the next start to show killed-at-start Running: {app.output()}")
    wait_for(lambda: "killed-at-create" not in (app.shown() or {"killed-at-create": ""}), 30,
             f"the interrupted launch to be cleaned up: {app.output()}")
    labelled = docker_engine.containers.list(all=True, filters={"label": [f"{OWNER}={user}", SESSION]})
    assert [c.labels[SESSION] for c in labelled] == [outcomes["killed-at-start"]["session"]], \
        f"containers left: {[(c.name, c.status) for c in labelled]}"
    assert labelled[0].status == "running"
    # the interrupted launch's gate went with it; the started session keeps its own, running
    gates = docker_engine.containers.list(all=True, filters={"label": [f"{OWNER}={user}", L_GATE_OF]})
    assert [(c.labels[L_GATE_OF], c.status) for c in gates] == [(outcomes["killed-at-start"]["session"], "running")]
    # Local sessions keep /scratch in a folder under the state folder: the interrupted launch's went
    # with it, the started session keeps its own, and no other folder is there.
    folders = {p.name for p in paths.scratch_dir.iterdir()}
    assert folders == {outcomes["killed-at-start"]["session"]}, f"scratch folders left: {folders}"
    assert app.proc.poll() is None, f"the app stopped: {app.output()}"
    app.stop()
