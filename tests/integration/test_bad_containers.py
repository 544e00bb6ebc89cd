"""One bad container never breaks a listing: labels that cannot be read, logs the engine cannot show."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService

CLI = [sys.executable, "-m", "canfar_desktop"]


def test_bad_labels_and_unreadable_logs_leave_the_listing_whole(
        make_service: Callable[..., SessionService], session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    good = service.launch(service.prepare_launch("contributed", session_images["contributed"], "good-one"))
    labels = {"net.canfar.desktop.session": "badlabel", "net.canfar.desktop.owner": service.settings.user,
              "net.canfar.desktop.name": "bad-labels", "net.canfar.desktop.kind": "contributed",
              "net.canfar.desktop.mode": "fixed", "net.canfar.desktop.cores": "0"}
    bad = docker_engine.containers.create(session_images["contributed"], ["true"], labels=labels)
    mute_labels = {**labels, "net.canfar.desktop.session": "mutelogs", "net.canfar.desktop.name": "no-logs",
                   "net.canfar.desktop.cores": "1"}
    mute = docker_engine.containers.run(session_images["contributed"], ["sh", "-c", "exit 1"], labels=mute_labels,
                                        log_config={"type": "none"}, detach=True)
    try:
        mute.wait(timeout=30)
        sessions = {s.name: s for s in service.sessions(probe=False)}
        assert sessions["good-one"].state != State.FAILED
        assert sessions["bad-labels"].state == State.FAILED
        assert "its labels cannot be read" in sessions["bad-labels"].reason
        assert sessions["no-logs"].state == State.FAILED and "exited with code 1" in sessions["no-logs"].reason
        for key, value in (("user", service.settings.user), ("arc_root", service.settings.arc_root)):
            subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)
        done = subprocess.run([*CLI, "ps", "-a", "-o", "json"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert {"good-one", "bad-labels", "no-logs"} <= {row["name"] for row in json.loads(done.stdout)}
    finally:
        for container in (bad, mute):
            container.remove(force=True)
        service.delete(good)
