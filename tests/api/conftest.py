"""The API server as a person runs it (`canfar-desktop api`), and the official canfar client as a separate program.

One server per module, on a free port, for a user of its own (so the active-session limit counts
only this module's sessions); every session of that user is deleted after each test.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.settings import AppPaths, Settings, save_settings

from ..helpers import read_exports

ROOT = Path(__file__).resolve().parents[2]
CANFAR_VENV = ROOT / ".venv-canfar"
SESSION_LIMIT = 2
START_TIMEOUT_S = 60


@dataclass
class ApiServer:
    url: str
    token: str
    home: Path
    user: str
    client_home: Path
    proc: subprocess.Popen[str]
    log: Path  # the server's stderr: one line per request

    @property
    def paths(self) -> AppPaths:
        return AppPaths(self.home / "config", self.home / "data", self.home / "state")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a person who pasted the two export lines (and a wide terminal for tables)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CANFAR_")}
        env.update(CANFAR_URL=self.url, CANFAR_TOKEN=self.token, CANFAR_CONSOLE__BANNER="false",
                   CANFAR_DESKTOP_HOME=str(self.home), HOME=str(self.client_home), COLUMNS="250", NO_COLOR="1")
        env.update(extra)
        return env

    def canfar(self, *args: str, check: bool = True, timeout: float = 120,
               token: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the official client, as a separate program (with another token when given)."""
        env = self.env(CANFAR_TOKEN=token) if token is not None else self.env()
        done = subprocess.run([str(CANFAR_VENV / "bin" / "canfar"), *args], env=env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            pytest.fail(f"canfar {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done

    def desktop(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run canfar-desktop's own CLI on the same settings."""
        return subprocess.run([sys.executable, "-m", "canfar_desktop", *args], env=self.env(), capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    @property
    def port(self) -> int:
        return int(self.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])

    def python(self, code: str) -> Any:
        """Run a script with the client's Python API in its own environment; it prints one JSON value."""
        done = subprocess.run([str(CANFAR_VENV / "bin" / "python"), "-c", code], env=self.env(), capture_output=True,
                              text=True, timeout=180, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            pytest.fail(f"the client script failed ({done.returncode}):\n{done.stderr}", pytrace=False)
        return json.loads(done.stdout.strip().splitlines()[-1])

    def http(self, method: str, path: str, token: str | None = "", body: bytes | None = None) -> tuple[int, str]:
        """One raw request; token "" means the server's token, None means none at all."""
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token or self.token}")
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def sessions(self, everything: bool = True) -> list[dict[str, Any]]:
        args = ["ps", "-o", "json"] + (["-a"] if everything else [])
        data = json.loads(self.canfar(*args).stdout)
        assert isinstance(data, list)
        return data

    def wait_status(self, session_id: str, wanted: str, timeout: float = 120) -> dict[str, Any]:
        """Poll `canfar ps -a` until the session shows the status (a deadline, never a fixed sleep)."""
        deadline = time.monotonic() + timeout
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = next((s for s in self.sessions() if s["id"] == session_id), {})
            if seen.get("status") == wanted:
                return seen
            if seen.get("status") == "Failed" and wanted != "Failed":
                break
            time.sleep(0.5)
        pytest.fail(f"session {session_id} did not become {wanted} within {timeout:.0f} s; last seen: {seen}",
                    pytrace=False)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory, docker_engine: object,
               session_images: dict[str, str]) -> Iterator[ApiServer]:
    if not (CANFAR_VENV / "bin" / "canfar").exists():
        pytest.fail(f"The official canfar client is missing from {CANFAR_VENV}; run ./scripts/setup.sh "
                    "(it installs canfar==1.5.2 there)", pytrace=False)
    root = tmp_path_factory.mktemp("api")
    home, client_home = root / "app-home", root / "client-home"
    client_home.mkdir()
    user = "t" + secrets.token_hex(4)
    paths = AppPaths(home / "config", home / "data", home / "state")
    save_settings(paths, Settings(user=user, arc_root=str(root / "arc"), session_limit=SESSION_LIMIT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANFAR_")}
    env["CANFAR_DESKTOP_HOME"] = str(home)
    proc = subprocess.Popen([sys.executable, "-m", "canfar_desktop", "api", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=(root / "server.log").open("w"), text=True,
                            stdin=subprocess.DEVNULL)
    exports = read_exports(proc, START_TIMEOUT_S)
    if "CANFAR_URL" not in exports or "CANFAR_TOKEN" not in exports:
        proc.kill()
        pytest.fail(f"canfar-desktop api printed no export lines within {START_TIMEOUT_S} s: "
                    f"{(root / 'server.log').read_text()[-2000:]}", pytrace=False)
    server = ApiServer(exports["CANFAR_URL"], exports["CANFAR_TOKEN"], home, user, client_home, proc,
                       root / "server.log")
    try:
        yield server
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _delete_all(server)


def _delete_all(server: ApiServer) -> None:
    from canfar_desktop.core.service import SessionService
    from canfar_desktop.core.settings import load_settings

    settings, _ = load_settings(server.paths)
    service = SessionService(settings, server.paths)
    try:
        for s in service.sessions(probe=False):
            service.delete(s)
    finally:
        service.close()


@pytest.fixture
def api(api_server: ApiServer) -> Iterator[ApiServer]:
    """The module's server; whatever a test launched is deleted after it, pass or fail."""
    yield api_server
    _delete_all(api_server)


@pytest.fixture
def core_service(api_server: ApiServer) -> Iterator[Any]:
    """A SessionService on the server's own settings: what the app and `canfar-desktop` use."""
    from canfar_desktop.core.service import SessionService
    from canfar_desktop.core.settings import load_settings

    settings, _ = load_settings(api_server.paths)
    service = SessionService(settings, api_server.paths)
    yield service
    service.close()

