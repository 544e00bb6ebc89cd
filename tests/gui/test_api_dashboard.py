"""The official canfar client, as a separate program, drives the running app through its background API:
what it creates appears on the dashboard (a notebook card, and job cards for headless jobs), what the
app launched is in `canfar ps`, and a finished job runs again from its card."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from canfar_desktop.api.token import TokenStore
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import AppPaths
from canfar_desktop.ui.launch_dialog import LaunchDialog

from .conftest import card_named, screenshot, state_of

CANFAR = Path(__file__).resolve().parents[2] / ".venv-canfar" / "bin" / "canfar"
NOTEBOOK = "canfar-desktop/notebook:latest"
CREATED = re.compile(r"\(ID: ([a-z0-9]{8})\)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def canfar(url: str, token: str, home: Path, *args: str) -> str:
    """The client run as a person runs it after pasting the two export lines; it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANFAR_")}
    env.update(CANFAR_URL=url, CANFAR_TOKEN=token, CANFAR_CONSOLE__BANNER="false", HOME=str(home),
               COLUMNS="250", NO_COLOR="1")
    done = subprocess.run([str(CANFAR), *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"canfar {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def created(output: str) -> str:
    match = CREATED.search(output)
    assert match, f"no session id in: {output}"
    return match.group(1)


def test_the_client_drives_the_dashboard_and_jobs_get_cards(make_app: Callable[..., Any], qtbot: Any,
                                                            paths: AppPaths, tmp_path: Path) -> None:
    if not CANFAR.exists():
        pytest.fail(f"The official canfar client is missing from {CANFAR.parent}; run ./scripts/setup.sh", pytrace=False)
    parts = make_app(api_background=True, api_port=free_port())
    window = parts.window
    parts.api.apply(parts.service.settings)  # what the app does at start-up when the setting is on
    url, token = parts.api.url, TokenStore.for_paths(paths).get()
    assert url is not None and url.startswith("http://127.0.0.1:")
    home = tmp_path / "client-home"
    home.mkdir()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=30000)

    # A notebook made by the client appears on the dashboard by itself, as any session does.
    nb = created(canfar(url, token, home, "create", "notebook", NOTEBOOK, "-n", "from-client", "-c", "1", "-m", "2"))
    qtbot.waitUntil(lambda: state_of(window, "from-client") == State.RUNNING, timeout=120000)
    card = card_named(window, "from-client")
    assert card.session.id == nb and card.open_button.isVisible() and card.open_button.isEnabled()
    assert card.meta.text().startswith("1 core · 2 GB") and card.session.resources.mode == "fixed"

    # One the app launched is listed by the client.
    parts.service.launch(parts.service.prepare_launch("notebook", NOTEBOOK, "from-app"))
    listed = {s["name"]: s for s in json.loads(canfar(url, token, home, "ps", "-o", "json"))}
    assert set(listed) >= {"from-client", "from-app"} and listed["from-client"]["id"] == nb

    # Headless jobs get job cards: the command, Completed or Failed with the exit code, output in Logs.
    # (the client splits the arguments on spaces, as CANFAR does: code without spaces)
    ok = created(canfar(url, token, home, "create", "headless", NOTEBOOK, "-n", "job-ok", "--",
                        "python3", "-c", "print('answer',6*7)"))
    bad = created(canfar(url, token, home, "create", "headless", NOTEBOOK, "-n", "job-bad", "--",
                         "python3", "-c", "raise(SystemExit(3))"))
    qtbot.waitUntil(lambda: state_of(window, "job-ok") == State.TERMINATED, timeout=120000)
    qtbot.waitUntil(lambda: state_of(window, "job-bad") == State.FAILED, timeout=60000)
    done, failed = card_named(window, "job-ok"), card_named(window, "job-bad")
    assert done.session.id == ok and failed.session.id == bad
    assert done.badge.text() == "Completed" and done.reason.full_text() == "completed, exit code 0"
    assert done.meta.text().startswith("python3 -c ") and "ran " in done.meta.text()
    assert done.session.command == ("python3", "-c", "print('answer',6*7)") and "6*7" in done.meta.toolTip()
    assert failed.badge.text() == "Failed" and "exited with code 3" in failed.reason.full_text()
    for job in (done, failed):
        assert not job.open_button.isVisible(), "a job has no page to open"
        assert job.retry_button.isVisible() and job.retry_button.text() == "Run again"
    assert card.retry_button.isHidden(), "a running notebook offers no Run again"
    screenshot(window, "dashboard-jobs.png")

    qtbot.mouseClick(done.logs_button, Qt.MouseButton.LeftButton)
    logs = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Logs of job-ok")
    qtbot.waitUntil(lambda: "answer 42" in logs.text.toPlainText(), timeout=15000)
    logs.close()

    # Run again: the same command as a new job, no dialog, and no tab to open.
    before = {c.session.id for c in window.dashboard.cards.values() if c.session and c.session.name == "job-ok"}
    qtbot.mouseClick(done.retry_button, Qt.MouseButton.LeftButton)

    def rerun() -> Any:
        return next((c for c in window.dashboard.cards.values() if c.session and c.session.name == "job-ok"
                     and c.session.id not in before and c.session.state == State.TERMINATED), None)

    qtbot.waitUntil(lambda: rerun() is not None, timeout=120000)
    again = rerun().session
    assert again.command == done.session.command and again.image == done.session.image
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, LaunchDialog) and w.isVisible()], \
        "a job runs again without the launch dialog"
    assert not [key for key in window.session_tabs if key[1] in (ok, bad, again.id)], "jobs open no tab"
    assert "answer 42" in "\n".join(parts.service.tail_logs(again, 20))

    # Deleted through the client: the card goes.
    canfar(url, token, home, "delete", "-f", nb)
    qtbot.waitUntil(lambda: card_named(window, "from-client") is None, timeout=30000)
