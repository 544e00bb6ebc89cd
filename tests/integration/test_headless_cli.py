"""Headless jobs from canfar-desktop's own command line: run to the end, exit code, output kept."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from canfar_desktop.core.service import SessionService

CLI = [sys.executable, "-m", "canfar_desktop"]


def cli(service: SessionService, *args: str) -> subprocess.CompletedProcess[str]:
    for key, value in (("user", service.settings.user), ("arc_root", service.settings.arc_root)):
        subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_a_job_runs_to_the_end_and_keeps_its_output(make_service: Callable[..., SessionService],
                                                    session_images: dict[str, str]) -> None:
    service = make_service()
    ok = cli(service, "create", "headless", session_images["contributed"], "-n", "job-ok", "--wait",
             "--", "python3", "-c", "import os; print('answer', 6 * 7, os.environ['REPLICA_ID'])")
    assert ok.returncode == 0, ok.stderr
    job = ok.stdout.strip()
    assert "Terminated (completed, exit code 0)" in ok.stderr
    assert cli(service, "logs", job).stdout.strip() == "answer 42 1"
    failed = cli(service, "create", "headless", session_images["contributed"], "-n", "job-bad", "--wait",
                 "--", "sh", "-c", "echo broken >&2; exit 3")
    assert failed.returncode == 1 and "Failed (process exited with code 3: broken)" in failed.stderr
    listed = cli(service, "ps", "-a", "-k", "headless").stdout
    assert "job-ok" in listed and "job-bad" in listed
