"""Each trouble of the guide, caused for real, and the diagnosis the doctor gives for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core import diagnostics
from canfar_desktop.core.errors import LaunchError
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import Resources

from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]


def by_id(checks: list[diagnostics.Check]) -> dict[str, diagnostics.Check]:
    return {c.id: c for c in checks}


def launch(service: SessionService, image: str, name: str, **kw: Any) -> Any:
    req = service.prepare_launch("contributed", image, name, kw.pop("resources", None))
    return service.launch(replace(req, **kw))


def doctor_cli(service: SessionService, *args: str) -> tuple[int, list[dict[str, Any]]]:
    for key, value in (("user", service.settings.user), ("arc_root", service.settings.arc_root)):
        subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)
    done = subprocess.run([*CLI, "doctor", *args, "-o", "json"], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


def test_process_exit_1_is_diagnosed_with_code_and_output(make_service: Callable[..., SessionService],
                                                           session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "exits",
               command=("sh", "-c", "echo 'ModuleNotFoundError: astropy'; exit 1"))
    assert wait_for(lambda: service.get(s.id).state == State.FAILED, 30, "Failed")
    check = by_id(diagnostics.run_checks(service, s.id))["start"]
    assert check.level == "fail" and "exited with code 1" in check.verdict
    assert "ModuleNotFoundError: astropy" in check.figure


def test_oom_is_diagnosed_with_limit_and_fix_in_the_cli(make_service: Callable[..., SessionService],
                                                        session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "oom", resources=Resources(mode="fixed", cores=1, ram_gb=0.25),
               command=("python3", "-c", "b = [bytearray(32 * 2**20) for _ in range(64)]"))
    assert wait_for(lambda: service.get(s.id).oom_killed, 60, "OOM kill")
    code, checks = doctor_cli(service, s.id)
    oom = next(c for c in checks if c["id"] == "oom")
    assert code == 1
    assert oom["level"] == "fail" and oom["verdict"].startswith("out of memory")
    assert oom["figure"] == "limit 256 MB"
    assert "fixed session with more memory" in oom["hint"] and "-m 1" in oom["hint"]
    text = subprocess.run([*CLI, "doctor", s.id], capture_output=True, text=True).stdout
    assert "✘ Memory: out of memory: the kernel killed the session [limit 256 MB]" in text


def test_taken_port_is_diagnosed(make_service: Callable[..., SessionService], session_images: dict[str, str]) -> None:
    service = make_service()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(LaunchError):
            launch(service, session_images["contributed"], "taken", host_port=port)
    failed = next(s for s in service.sessions() if s.name == "taken")
    check = by_id(diagnostics.run_checks(service, failed.id))["start"]
    assert check.level == "fail" and check.figure == f"port {port} on 127.0.0.1 is taken"
    assert "without a fixed port" in check.hint


@pytest.fixture
def small_arc(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB file system behind /arc, so 'nearly full' is real."""
    target = tmp_path / "small-arc"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(target)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs ({done.stderr.strip()}); this test needs root", pytrace=False)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_nearly_full_arc_is_diagnosed(make_service: Callable[..., SessionService], small_arc: Path) -> None:
    service = make_service(arc_root=str(small_arc))
    big = small_arc / "home" / service.settings.user / "cube.fits"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as handle:
        handle.write(os.urandom(15 * 2**20 + 2**19))
    check = by_id(diagnostics.run_checks(service))["disk-arc"]
    assert check.level == "fail" and check.verdict == "the disk behind /arc is full"
    assert f"at {small_arc}" in check.figure and "cube.fits" in check.figure
    assert "compress" in check.hint and "/scratch" in check.hint


def test_unreadable_arc_folder_is_diagnosed(make_service: Callable[..., SessionService], tmp_path: Path) -> None:
    service = make_service()
    projects = tmp_path / "arc" / "projects"
    projects.mkdir(parents=True)
    os.chown(projects, 0, 0)
    projects.chmod(0o700)
    check = by_id(diagnostics.run_checks(service))["access-projects"]
    assert check.level == "fail" and f"uid {service.settings.uid} and cannot read" in check.verdict
    assert "owner 0:0 mode drwx------" in check.figure
    assert check.hint.startswith(f"sudo chown -R {service.settings.uid}:{service.settings.gid} {projects}")


def test_cpu_throttling_is_diagnosed(make_service: Callable[..., SessionService],
                                     session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "busy", resources=Resources(mode="fixed", cores=0.2, ram_gb=1),
               command=("python3", "-c", "while True: pass"))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "running")
    checks = by_id(diagnostics.session_checks(service, service.get(s.id)))
    assert checks["cpu"].level == "warn" and "CPU limit" in checks["cpu"].verdict, checks["cpu"]


def test_unreachable_engine_is_the_only_finding(make_service: Callable[..., SessionService]) -> None:
    from canfar_desktop.core.settings import HostConfig

    service = make_service(hosts=[HostConfig(name="local", url="unix:///nonexistent/docker.sock")])
    checks = diagnostics.run_checks(service)
    assert [(c.id, c.level) for c in checks] == [("engine", "fail")]
    assert "not reachable" in checks[0].verdict and "start" in checks[0].hint
