"""A launch on this computer's engine: the account files uploaded at an image's first launch and
bind-mounted read-only after it, what a session that answered is left with (ledger mark, restart
policy), and `create --wait` saving the launch as a recent one while it waits, on the real engine."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, load_settings, save_settings

from .test_sessions import launch, run_in

REPO = Path(__file__).resolve().parents[2]


def test_account_files_uploaded_first_then_mounted_read_only(make_service: Callable[..., SessionService],
                                                              session_images: dict[str, str],
                                                              docker_engine: Any) -> None:
    service = make_service()
    user, uid = service.settings.user, service.settings.uid
    sessions = [service.wait_ready(launch(service, "notebook", session_images["notebook"], f"acct-{i}"), 120)
                for i in (1, 2)]
    for s in sessions:
        assert s.state == State.RUNNING, s.reason
        assert run_in(docker_engine, s, "id -un; getent passwd $(id -u) | cut -d: -f6; ls -ld $HOME | awk '{print $3}'") \
            == f"{user}\n/arc/home/{user}\n{user}"
        mark = service.ledger.entry(s.host, s.id).get("ready")
        assert isinstance(mark, dict) and mark.get("container") == s.container_id, "readiness kept in the ledger"
        policy = docker_engine.api.inspect_container(s.container_id)["HostConfig"]["RestartPolicy"]
        assert policy["Name"] == "unless-stopped", "an answered session comes back after an engine restart"
    first, second = (docker_engine.api.inspect_container(s.container_id)["Mounts"] for s in sessions)
    assert not [m for m in first if m["Destination"].startswith("/etc/")], "an image's first launch uploads them"
    mounted = {m["Destination"]: m for m in second if m["Destination"].startswith("/etc/")}
    assert sorted(mounted) == ["/etc/group", "/etc/passwd"]
    assert not any(m["RW"] for m in mounted.values()), "read-only"
    refused = docker_engine.containers.get(sessions[1].container_id).exec_run(
        ["sh", "-c", "echo 'root2:x:0:0::/:/bin/sh' >> /etc/passwd || exit 7"], user=str(uid))
    assert refused.exit_code == 7, "the session cannot change its account files"


def test_create_wait_answers_ready_and_keeps_the_launch_as_a_recent_one(
        make_service: Callable[..., SessionService], paths: AppPaths, session_images: dict[str, str],
        docker_engine: Any) -> None:
    service = make_service()
    save_settings(paths, service.settings)  # the CLI reads the same user and /arc
    image = session_images["notebook"]
    for name in ("recent-1", "recent-2"):  # the image's first launch uploads the accounts, the second mounts them
        done = subprocess.run([sys.executable, "-m", "canfar_desktop", "create", "notebook", image, "-n", name,
                               "--wait", "-o", "json"], cwd=REPO, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert data["status"] == "Running" and data["url"], data
        s = service.get(data["id"])
        assert s.state == State.RUNNING, s.reason
        mark = service.ledger.entry(s.host, s.id).get("ready")
        assert isinstance(mark, dict) and mark.get("container") == s.container_id
        assert docker_engine.api.inspect_container(s.container_id)["HostConfig"]["RestartPolicy"]["Name"] \
            == "unless-stopped"
        recent = load_settings(paths)[0].recent_launches
        assert recent and (recent[0].kind, recent[0].image, recent[0].name_pattern) == ("notebook", image, "recent-{n}")
