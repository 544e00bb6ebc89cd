"""Faults people meet: a launcher killed mid-launch, several processes at once, a read-only disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.errors import CanfarError, SettingsError
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, Settings, save_settings

from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]


def configure_cli(service: SessionService, **extra: str) -> None:
    values = {"user": service.settings.user, "arc_root": service.settings.arc_root, **extra}
    for key, value in values.items():
        subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)


def test_killed_mid_launch_leaves_nothing_orphaned(make_service: Callable[..., SessionService],
                                                   session_images: dict[str, str], docker_engine: Any,
                                                   paths: AppPaths) -> None:
    """SIGKILL the CLI at several points of a launch; every session then shows a true state and
    cleaning up leaves no container, scratch folder or volume without a session."""
    service = make_service(session_limit=20)
    configure_cli(service, session_limit="20")
    started = time.monotonic()
    probe = subprocess.run([*CLI, "create", "contributed", session_images["contributed"], "-n", "timing"],
                           capture_output=True, text=True, check=True)
    full = time.monotonic() - started
    service.delete(probe.stdout.strip())
    import_time = 0.35 * full  # most of a CLI run is Python starting and importing
    delays = [import_time + (full - import_time) * f for f in (0.1, 0.3, 0.5, 0.7, 0.9, 1.1)]
    for i, delay in enumerate(delays):
        proc = subprocess.Popen([*CLI, "create", "contributed", session_images["contributed"], "-n", f"killed-{i}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    # Next start: every session shows a state that is true of it.
    for s in service.sessions():
        if s.status == "created":  # killed between creating and starting: says so at once
            assert (s.state, s.reason) == (State.FAILED, "the launch was interrupted before the session started")
            continue
        assert s.state in (State.LAUNCHING, State.RUNNING), (s.name, s.state, s.reason)
        if s.status == "running":
            assert wait_for(lambda s=s: service.get(s.id).state == State.RUNNING, 30, f"{s.name} Running")
    # An interrupted launch (created, never started) is cleaned up, as are scratch leftovers.
    removed = service.cleanup_orphans(grace_s=0)
    service.sessions()
    known = {s.id for s in service.sessions(all_users=True)}
    leftovers = [p.name for p in paths.scratch_dir.iterdir()] if paths.scratch_dir.exists() else []
    assert set(leftovers) <= known, f"orphaned scratch folders: {set(leftovers) - known} (removed: {removed})"
    created_only = [s for s in service.sessions() if s.status == "created"]
    assert created_only == [], f"containers left never started: {created_only}"
    labelled = docker_engine.containers.list(all=True, filters={"label": f"net.canfar.desktop.owner={service.settings.user}"})
    assert {c.labels["net.canfar.desktop.session"] for c in labelled} == {s.id for s in service.sessions()}


def test_processes_acting_at_once_corrupt_nothing(make_service: Callable[..., SessionService],
                                                  session_images: dict[str, str], paths: AppPaths) -> None:
    """Two service instances (what two app windows hold) and CLI processes renew, list and launch
    the same sessions at the same time; the shared state stays valid and consistent."""
    service_a = make_service(session_limit=4)
    service_b = SessionService(Settings(**service_a.settings.model_dump()), paths)
    configure_cli(service_a, session_limit="4")
    base = [service_a.wait_ready(service_a.launch(service_a.prepare_launch(
        "contributed", session_images["contributed"], f"shared-{i}")), 60) for i in range(2)]
    errors: list[str] = []

    def worker(service: SessionService, rounds: int) -> None:
        for _ in range(rounds):
            try:
                for s in base:
                    service.renew(s.id)
                service.sessions()
            except CanfarError as exc:  # a clear error is allowed; anything else fails the test
                errors.append(str(exc))

    def cli(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(6) as pool:
        jobs = [pool.submit(worker, service_a, 8), pool.submit(worker, service_b, 8)]
        cli_jobs = [pool.submit(cli, ["renew", base[0].id, base[1].id]) for _ in range(3)]
        cli_jobs += [pool.submit(cli, ["create", "contributed", session_images["contributed"], "-n", f"race-{i}"])
                     for i in range(3)]
        for job in jobs:
            job.result()
        results = [j.result() for j in cli_jobs]
    assert errors == []
    for r in results:
        assert "Traceback" not in r.stderr
        assert r.returncode == 0 or "maximum of 4 active sessions" in r.stderr, r.stderr
    assert sum(1 for s in service_a.sessions() if s.active) == 4, "the limit held under the race"
    ledger = json.loads(paths.ledger_file.read_text())
    assert set(ledger["local"]) >= {s.id for s in base}
    assert service_a.get(base[0].id).expiry == service_b.get(base[0].id).expiry


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
