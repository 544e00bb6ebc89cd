"""Faults people meet: the CLI killed mid-launch, two apps and the CLI at once, a read-only disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.errors import SettingsError
from canfar_desktop.core.instance import socket_path
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.plan import L_GATE_OF
from canfar_desktop.core.record import replace
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, Settings, save_settings

from ..app_process import OWNER, SESSION, App, kill_on_event, send
from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]


@pytest.fixture
def apps() -> Iterator[list[App]]:
    started: list[App] = []
    yield started
    for app in started:
        app.stop(signal.SIGKILL)


def cli_create(image: str, name: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "create", "contributed", image, "-n", name, *extra], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_killed_mid_launch_leaves_a_true_state_and_nothing_orphaned(
        make_service: Callable[..., SessionService], session_images: dict[str, str], docker_engine: Any,
        paths: AppPaths) -> None:
    """SIGKILL `create --wait` the moment the engine creates its container (before it starts), and in a
    second run the moment the engine starts it. The next process shows each as it is, and its clean-up
    removes the launch that never started, with its scratch folder, and nothing else."""
    service = make_service(session_limit=6)
    save_settings(paths, service.settings)  # the CLI reads these (own user, own /arc)
    user = service.settings.user
    left: dict[str, dict[str, str]] = {}
    for action in ("create", "start"):
        proc = cli_create(session_images["contributed"], f"killed-at-{action}", "--wait")
        seen, events = kill_on_event(docker_engine, user, action, proc)
        try:
            wait_for(lambda seen=seen: "status" in seen, 60, f"the engine's '{action}' of killed-at-{action}")
        finally:
            events.close()
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, f"the CLI ended by itself before its '{action}' ({proc.returncode})"
        left[action] = seen

    # What the kills left behind, before anything cleans up.
    interrupted, started = left["create"], left["start"]
    assert interrupted["status"] == "created" and docker_engine.containers.get(interrupted["id"]).status == "created"
    assert (paths.scratch_dir / interrupted["session"]).is_dir(), "the interrupted launch left its scratch folder"
    assert started["status"] in ("running", "exited")

    # The next process (a new service, as the next CLI run or app start makes) sees the truth at once.
    after = SessionService(replace(service.settings), paths)
    shown = {s.id: s for s in after.sessions()}
    assert set(shown) == {interrupted["session"], started["session"]}
    assert (shown[interrupted["session"]].state, shown[interrupted["session"]].reason) == (
        State.FAILED, "the launch was interrupted before the session started")
    wait_for(lambda: after.get(started["session"]).state == State.RUNNING, 60, "the started session Running")

    # Its clean-up removes the interrupted launch and its scratch folder; the started session keeps both.
    name = shown[interrupted["session"]].container_name
    removed = after.cleanup_orphans()
    # on a shared engine, other tests' orphaned helpers may go too; of this user's, only the interrupted launch
    assert [r for r in removed if not r.startswith("helper container")] == [f"container {name}"], removed
    labelled = docker_engine.containers.list(all=True, filters={"label": [f"{OWNER}={user}", SESSION]})
    assert [c.labels[SESSION] for c in labelled] == [started["session"]]
    gates = docker_engine.containers.list(all=True, filters={"label": [f"{OWNER}={user}", L_GATE_OF]})
    assert [c.labels[L_GATE_OF] for c in gates] == [started["session"]], "the started session keeps its gate"
    folders = {p.name for p in paths.scratch_dir.iterdir()}
    assert folders == {started["session"]}, f"scratch folders left: {folders}"
    assert [r for r in after.cleanup_orphans() if not r.startswith("helper container")] == [], \
        "a second clean-up finds nothing"


def test_two_apps_and_the_cli_acting_at_once_corrupt_nothing(
        make_service: Callable[..., SessionService], session_images: dict[str, str], docker_engine: Any,
        paths: AppPaths, app_home: Path, apps: list[App]) -> None:
    """Two real app processes and CLI processes launch, open, list and renew one user's sessions at once.

    One app per user is the rule: a second start hands over to the first through its socket. Two run
    at once when that socket is gone (a cleaner of the state folder, a system without Unix sockets),
    which is the case made here: the first app's socket is moved aside before the second starts, and
    each app gets its messages on its own socket. Launches race for the two free slots under a limit of
    4 while the second app starts (its start-up clean-up runs during the CLI's launches).
    """
    service = make_service(session_limit=4)
    save_settings(paths, service.settings)  # the apps and the CLI read these (own user, own /arc)
    image = session_images["contributed"]
    base = [service.wait_ready(service.launch(service.prepare_launch("contributed", image, f"shared-{i}")), 60)
            for i in range(2)]
    expiry_before = {s.id: s.expiry for s in base}

    first = App(app_home, observed=True)
    apps.append(first)
    wait_for(lambda: {"shared-0", "shared-1"} <= set(first.shown() or {}), 60, f"the first app: {first.output()}")
    first_socket = socket_path(paths).with_name("app-first.sock")
    socket_path(paths).rename(first_socket)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    with ThreadPoolExecutor(8) as pool:
        renewals = [pool.submit(cli, "renew", base[0].id, base[1].id) for _ in range(3)]
        creates = [pool.submit(cli, "create", "contributed", image, "-n", f"cli-{i}") for i in range(3)]
        assert send(first_socket, {"open": base[0].id, "host": "local"})
        for i in range(2):
            assert send(first_socket, {"launch": {"kind": "contributed", "image": image, "name": f"first-{i}"}})
        second = App(app_home, observed=True)  # starts while the CLI launches
        apps.append(second)
        wait_for(lambda: second.shown() is not None, 60, f"the second app: {second.output()}")
        assert send(socket_path(paths), {"open": base[1].id, "host": "local"})
        for i in range(2):
            assert send(socket_path(paths), {"launch": {"kind": "contributed", "image": image, "name": f"second-{i}"}})
        renewed = [job.result() for job in renewals]
        created = [job.result() for job in creates]
    for app in (first, second):
        wait_for(lambda app=app: len(app.reports("launched")) == 2, 120, f"the app's two launches: {app.output()}")

    refusal = (f"User {service.settings.user} has reached the maximum of 4 active sessions: "
               "delete a session (canfar-desktop delete ID) or raise the limit in settings")
    for r in renewed:
        assert (r.returncode, r.stderr) == (0, ""), r.stderr
    made = []
    for r in created:
        if r.returncode == 0:
            made.append(r.stdout.strip())
        else:
            assert (r.returncode, r.stderr) == (1, f"error: {refusal}\n")
    for app in (first, second):
        for outcome in app.reports("launched"):
            if "id" in outcome:
                made.append(outcome["id"])
            else:
                assert outcome["error"] == refusal, outcome
    assert len(made) == 2, f"exactly the two free slots were taken: {made}"

    # The engine holds exactly those sessions: nothing half-made, nothing over the limit.
    labelled = docker_engine.containers.list(all=True, filters={"label": [f"{OWNER}={service.settings.user}", SESSION]})
    assert sorted(c.labels[SESSION] for c in labelled) == sorted([s.id for s in base] + made)
    assert sum(1 for s in service.sessions() if s.active) == 4
    # Both apps show those four, and neither crashed.
    wanted = {s.name for s in service.sessions()}
    for app in (first, second):
        wait_for(lambda app=app: set(app.shown() or {}) == wanted, 30, f"the app to show {wanted}: {app.output()}")
        assert app.proc.poll() is None, app.output()

    # The ledger is whole: the renewals, and each app's "opened" mark.
    wait_for(lambda: all(json.loads(paths.ledger_file.read_text())["local"].get(s.id, {}).get("opened")
                         for s in base), 60, "both apps' opened marks")
    ledger = json.loads(paths.ledger_file.read_text())["local"]
    for s in base:
        now = service.get(s.id)
        assert now.expiry is not None and now.expiry > expiry_before[s.id], "renewed"
        assert ledger[s.id]["expiry"] == now.expiry.isoformat(timespec="seconds")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A real read-only file system (a tmpfs mounted ro), not just a permission bit root ignores."""
    target = tmp_path / "ro"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a read-only tmpfs ({done.stderr.strip()}); this test needs root", pytrace=False)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


def test_read_only_settings_disk_is_a_clear_message(read_only_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANFAR_DESKTOP_HOME", str(read_only_dir))
    paths = AppPaths.default()
    with pytest.raises(SettingsError) as info:
        save_settings(paths, Settings())
    assert "Read-only file system" in info.value.message
    done = subprocess.run([*CLI, "config", "set", "session_limit", "4"], capture_output=True, text=True,
                          env={**os.environ, "CANFAR_DESKTOP_HOME": str(read_only_dir)})
    assert done.returncode == 1
    assert done.stderr.startswith("error: Could not save") and "Read-only file system" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    listed = subprocess.run([*CLI, "config", "show"], capture_output=True, text=True,
                            env={**os.environ, "CANFAR_DESKTOP_HOME": str(read_only_dir)})
    assert listed.returncode == 0, "reading settings still works"
