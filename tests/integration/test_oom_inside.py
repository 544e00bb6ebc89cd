"""A process killed at the memory limit inside a session that keeps running (a notebook kernel's death).

The container stays up, so its OOMKilled flag stays false: only the engine's `oom` event tells. The
session loop records it, and doctor, info and the support report count it with the limit and time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable

from canfar_desktop.core.events import EngineEvent
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.record import replace
from canfar_desktop.core.report import support_report
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources
from canfar_desktop.core.watch import Listener, Snapshot, Watcher

from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]
# A child that outgrows the 256 MB limit and is killed; the app itself then serves on.
GREEDY_CHILD = ("sh", "-c", "python3 -c 'b = [bytearray(32 * 2**20) for _ in range(64)]'; "
                "exec python3 /opt/contributed/app.py")


class Heard(Listener):
    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.events: list[EngineEvent] = []
        self.lock = threading.Lock()

    def snapshot(self, snap: Snapshot) -> None:
        pass

    def session(self, s: Session) -> None:
        with self.lock:
            self.sessions.append(s)

    def event(self, host: str, event: EngineEvent) -> None:
        with self.lock:
            self.events.append(event)


def cli(service: SessionService, *args: str) -> subprocess.CompletedProcess[str]:
    for key, value in (("user", service.settings.user), ("arc_root", service.settings.arc_root)):
        subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_a_killed_process_in_a_running_session_is_counted_everywhere(
        make_service: Callable[..., SessionService], session_images: dict[str, str]) -> None:
    service = make_service()
    heard = Heard()
    watcher = Watcher(service, heard)
    watcher.start()
    try:
        req = service.prepare_launch("contributed", session_images["contributed"], "greedy",
                                     Resources(mode="fixed", cores=1, ram_gb=0.25))
        s = service.launch(replace(req, command=GREEDY_CHILD))
        wait_for(lambda: any(e.action == "oom" and e.container_id == s.container_id for e in heard.events), 60,
                 "the engine's oom event")
        wait_for(lambda: any(x.id == s.id and x.oom_kills for x in heard.sessions), 10,
                 "the session loop reports the kill")
    finally:
        watcher.stop()
    wait_for(lambda: service.get(s.id).state == State.RUNNING, 60, "the session serves on after the kill")
    listed = service.get(s.id)
    assert listed.status == "running" and not listed.oom_killed, "the container itself was not killed"
    assert len(listed.oom_kills) >= 1, "the kill is kept in the ledger for every process"

    # doctor ID, from a fresh process: the limit and the time
    done = cli(service, "doctor", s.id)
    line = next(x for x in done.stdout.splitlines() if "Memory" in x)
    when = listed.oom_kills[-1].astimezone().strftime("%H:%M")
    assert line.startswith("✘ Memory: out of memory: the kernel killed a process"), line
    assert f"(last at {when})" in line and "[limit 256 MB]" in line, line

    # info and ps JSON carry the kills
    info = json.loads(cli(service, "info", s.id, "-o", "json").stdout)[0]
    assert len(info["oom_kills"]) >= 1
    ps = json.loads(cli(service, "ps", "-o", "json").stdout)
    assert next(x for x in ps if x["id"] == s.id)["oom_kills"], "ps reads the recorded kills"

    # the support report
    report = support_report(service, listed, checks=False)
    assert "oom kills:  " in report and "oom kills:  0" not in report


def test_the_engine_alone_tells_doctor_when_no_app_was_watching(
        make_service: Callable[..., SessionService], session_images: dict[str, str]) -> None:
    service = make_service()
    req = service.prepare_launch("contributed", session_images["contributed"], "greedy-alone",
                                 Resources(mode="fixed", cores=1, ram_gb=0.25))
    s = service.launch(replace(req, command=GREEDY_CHILD))
    wait_for(lambda: service.oom_kills(service.get(s.id)), 60, "an oom kill in the engine's events")
    assert service.get(s.id).oom_kills == (), "nothing recorded: no session loop ran"
    line = next(x for x in cli(service, "doctor", s.id).stdout.splitlines() if "Memory" in x)
    assert "killed a process" in line and "limit 256 MB" in line
