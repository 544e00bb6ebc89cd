"""The real app as a separate process, and killing a process at an engine event, for the fault tests.

`App` runs `python -m canfar_desktop` (or, with `observed=True`, the same entry point through
tests/app_driver.py, which also prints what the app launched and what its window shows) with its own
CANFAR_DESKTOP_HOME. Its output is read in a thread; `shown()` is the dashboard at the last refresh
(the app's CANFAR_DESKTOP_TIMING markers) and `reports()` the driver's lines.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OWNER = "net.canfar.desktop.owner"
SESSION = "net.canfar.desktop.session"


class App:
    """One run of the real app."""

    def __init__(self, home: Path, *args: str, observed: bool = False, platform: str = "offscreen") -> None:
        env = dict(os.environ, CANFAR_DESKTOP_HOME=str(home), CANFAR_DESKTOP_TIMING="1")
        if platform:
            env["QT_QPA_PLATFORM"] = platform
        entry = [str(REPO / "tests" / "app_driver.py")] if observed else ["-m", "canfar_desktop"]
        self.proc = subprocess.Popen([sys.executable, *entry, *args], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
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
                try:
                    return dict(json.loads(line.split(" ", 3)[3]))
                except ValueError:  # another thread's output cut into this line
                    continue
        return None

    def reports(self, event: str) -> list[dict[str, Any]]:
        """The driver's `canfar-test` lines of one kind (observed runs only), oldest first."""
        found = []
        for line in list(self.lines):
            if line.startswith("canfar-test "):
                data = json.loads(line.split(" ", 1)[1])
                if data.get("event") == event:
                    found.append(data)
        return found

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


def send(path: Path, message: dict[str, Any], timeout: float = 15.0) -> bool:
    """One single-instance message to the app listening at `path`; True when it answered ok."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(message).encode() + b"\n")
        return sock.recv(64).startswith(b"ok")


def kill_on_event(engine: Any, user: str, action: str, proc: subprocess.Popen[Any]) -> tuple[dict[str, str], Any]:
    """Watch the engine's events; SIGKILL `proc` the moment a session container of `user` reaches `action`
    (a session's gate, which carries no session label, starts before it).

    Returns what was seen (container id, session id, its status right after the kill) as it arrives,
    and the event stream, which the caller closes.
    """
    seen: dict[str, str] = {}
    events = engine.events(decode=True, since=time.time() - 1,
                           filters={"type": "container", "label": [f"{OWNER}={user}", SESSION], "event": action})

    def watch() -> None:
        for event in events:
            proc.send_signal(signal.SIGKILL)
            seen["id"] = event["id"]
            seen["session"] = event.get("Actor", {}).get("Attributes", {}).get(SESSION, "")
            seen["status"] = engine.api.inspect_container(event["id"])["State"]["Status"]
            return

    threading.Thread(target=watch, daemon=True).start()
    return seen, events
