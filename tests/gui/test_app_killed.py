"""The real app process killed with SIGKILL in the middle of a launch, then started again.

The app runs as a person runs it (`python -m canfar_desktop`, offscreen, its own CANFAR_DESKTOP_HOME)
and is asked to launch through its single-instance socket ({"launch": …}, the window's normal launch
path). It is killed at two points: right when the engine creates the container (before it starts),
and right when the container starts (while the app waits for it to answer). The next start must show
the started session (it goes on to Running) and its start-up clean-up must leave no container that
never started, no scratch folder and no volume without a session.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.instance import send_to_running_app
from canfar_desktop.core.settings import AppPaths, save_settings

from ..helpers import wait_for

REPO = Path(__file__).resolve().parents[2]
OWNER = "net.canfar.desktop.owner"
SESSION = "net.canfar.desktop.session"


class App:
    """One run of the real app; its `canfar-timing sessions` lines say what the dashboard shows."""

    def __init__(self, home: Path) -> None:
        env = dict(os.environ, CANFAR_DESKTOP_HOME=str(home), CANFAR_DESKTOP_TIMING="1",
                   QT_QPA_PLATFORM="offscreen")
        self.proc = subprocess.Popen([sys.executable, "-m", "canfar_desktop"], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def shown(self) -> dict[str, str] | None:
        """The dashboard's cards (name → state) at the app's last refresh; None before the first."""
        for line in reversed(self.lines):
            if line.startswith("canfar-timing sessions "):
                return dict(json.loads(line.split(" ", 3)[3]))
        return None

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


@pytest.fixture
def apps() -> Iterator[list[App]]:
    started: list[App] = []
    yield started
    for app in started:
        app.stop(signal.SIGKILL)


def _kill_on(engine: Any, user: str, action: str, app: App) -> tuple[dict[str, str], Any]:
    """Watch the engine's events; SIGKILL the app the moment our container reaches `action`."""
    seen: dict[str, str] = {}
    events = engine.events(decode=True, since=time.time() - 1,
                           filters={"type": "container", "label": f"{OWNER}={user}", "event": action})

    def watch() -> None:
        for event in events:
            app.proc.send_signal(signal.SIGKILL)
            seen["id"] = event["id"]
            attrs = event.get("Actor", {}).get("Attributes", {})
            seen["session"] = attrs.get(SESSION, "")
            seen["status"] = engine.api.inspect_container(event["id"])["State"]["Status"]
            return

    threading.Thread(target=watch, daemon=True).start()
    return seen, events


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
        seen, events = _kill_on(docker_engine, user, action, app)
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
    labelled = docker_engine.containers.list(all=True, filters={"label": f"{OWNER}={user}"})
    assert [c.labels[SESSION] for c in labelled] == [outcomes["killed-at-start"]["session"]], \
        f"containers left: {[(c.name, c.status) for c in labelled]}"
    assert labelled[0].status == "running"
    known = {c.labels[SESSION] for c in labelled}
    left = {p.name for p in paths.scratch_dir.iterdir()} if paths.scratch_dir.exists() else set()
    assert left <= known, f"orphaned scratch folders: {left - known}"
    volumes = [v.name for v in docker_engine.volumes.list(filters={"name": "canfar-scratch-"})
               if v.name.removeprefix("canfar-scratch-") in {o["session"] for o in outcomes.values()}]
    assert volumes == [], f"orphaned scratch volumes: {volumes}"
    assert app.proc.poll() is None, f"the app stopped: {app.output()}"
    app.stop()
