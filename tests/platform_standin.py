"""The CANFAR Science Platform's stand-in for tests: the project's own Skaha API server (`canfar-desktop api`),
run as a separate program on a free port with a home and a user of its own, over the real engine.

A platform host pointed at it (`skaha+http://127.0.0.1:PORT/skaha`) sees that user's sessions as the
platform's; the test's own user never owns them, so its "local" host does not list them twice.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from canfar_desktop.api.token import token_file
from canfar_desktop.core.platform_hosts import platform_url, site_url
from canfar_desktop.core.secret_store import save_token
from canfar_desktop.core.settings import AppPaths, HostConfig, Settings, save_settings

from .helpers import read_exports

START_TIMEOUT_S = 60
PLATFORM_SESSION_LIMIT = 2  # the stand-in's own limit, so a test can reach it


@dataclass
class StandIn:
    api_url: str  # http://127.0.0.1:PORT/skaha/v1
    token: str
    home: Path
    user: str  # whose sessions the stand-in runs (the platform's userid)
    proc: subprocess.Popen[str]
    log: Path

    @property
    def paths(self) -> AppPaths:
        return AppPaths(self.home / "config", self.home / "data", self.home / "state")

    def host(self, name: str = "canfar") -> HostConfig:
        """A platform host pointed at the stand-in, as `hosts add NAME URL --canfar` writes it."""
        return HostConfig(name=name, url=platform_url(self.api_url))

    def sign_in(self, paths: AppPaths, name: str = "canfar") -> None:
        """Save the stand-in's token for the host, as `canfar-desktop hosts login` does."""
        save_token(paths, site_url(self.host(name)), self.token)

    def use_token(self, paths: AppPaths, token: str) -> None:
        """The stand-in accepts this token from now on (its server re-reads the file), and the app has it
        saved for the host."""
        path = token_file(self.paths)
        path.write_text(token + "\n")
        path.chmod(0o600)
        self.token = token
        self.sign_in(paths)

    def delete_all(self) -> None:
        """Every session of the stand-in's user goes (pass or fail), through its own core."""
        from canfar_desktop.core.service import SessionService
        from canfar_desktop.core.settings import load_settings

        settings, _ = load_settings(self.paths)
        service = SessionService(settings, self.paths)
        try:
            for s in service.sessions(probe=False):
                service.delete(s)
        finally:
            service.close()


def jwt(expires: datetime) -> str:
    """A token shaped as CANFAR's OIDC ones are (a JSON Web Token), carrying this expiry."""
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'exp': int(expires.timestamp()), 'sub': 'astro'})}." \
           f"{secrets.token_urlsafe(32)}"


def start_standin(root: Path) -> StandIn:
    home = root / "platform-home"
    user = "p" + secrets.token_hex(4)
    paths = AppPaths(home / "config", home / "data", home / "state")
    save_settings(paths, Settings(user=user, arc_root=str(root / "platform-arc"), session_limit=PLATFORM_SESSION_LIMIT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANFAR_")}
    env["CANFAR_DESKTOP_HOME"] = str(home)
    log = root / "platform.log"
    proc = subprocess.Popen([sys.executable, "-m", "canfar_desktop", "api", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=log.open("w"), text=True, stdin=subprocess.DEVNULL)
    exports = read_exports(proc, START_TIMEOUT_S)
    if "CANFAR_URL" not in exports or "CANFAR_TOKEN" not in exports:
        proc.kill()
        pytest.fail(f"the platform stand-in (canfar-desktop api) printed no export lines within {START_TIMEOUT_S} s: "
                    f"{log.read_text()[-2000:]}", pytrace=False)
    return StandIn(exports["CANFAR_URL"], exports["CANFAR_TOKEN"], home, user, proc, log)


def stop_standin(standin: StandIn) -> None:
    standin.proc.send_signal(signal.SIGINT)
    try:
        standin.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        standin.proc.kill()
        standin.proc.wait()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, docker_engine: object,
             session_images: dict[str, str]) -> Iterator[StandIn]:
    """The stand-in for a whole module; its sessions are deleted at the end."""
    standin = start_standin(tmp_path_factory.mktemp("platform"))
    try:
        yield standin
    finally:
        stop_standin(standin)
        standin.delete_all()


@pytest.fixture
def standin(platform: StandIn) -> Iterator[StandIn]:
    """The module's stand-in; whatever a test launched on it is deleted after the test."""
    yield platform
    platform.delete_all()
