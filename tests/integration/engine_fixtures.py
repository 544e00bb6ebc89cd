"""A private Docker engine that a test may stop and start again (the machine's main engine never is).

`private_engine` is function-scoped: its own dockerd with a data root on tmpfs, an exec root, a pid
file, a unix socket and its own bridge (`--iptables=false`, so the main engine's firewall rules stay
untouched). Only the contributed image is moved in (save | load; no registry is reachable), which
keeps the start-up to a few seconds. `restart()` stops dockerd with SIGTERM, waits for it to exit and
starts it again with the same flags and data root: what a person meets when Docker Desktop or
`systemctl restart docker` restarts the engine under running sessions.

The helpers come from remote_fixtures (imported, not copied; that file has its own owner).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .remote_fixtures import _free_subnet, _run, _stop_engine, _wait, move_images

PRIVATE_IMAGES = ("canfar-desktop/contributed:latest", "canfar-desktop/gate:latest")  # a contributed session has a gate
STOP_TIMEOUT_S = 60


@dataclass
class PrivateEngine:
    root: Path
    bridge: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    cmd: list[str] = field(default_factory=list)

    @property
    def socket_path(self) -> Path:
        return self.root / "docker.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.url, timeout=120)

    def start(self) -> None:
        """Start dockerd (again) with the same flags and data root; return once it answers."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=log, start_new_session=True)
        self.starts += 1

        def answers() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"the private dockerd exited with {self.proc.returncode}: "
                            f"{self.log.read_text(errors='replace')[-2000:]}", pytrace=False)
            if not self.socket_path.exists():
                return False
            with contextlib.suppress(Exception):
                client = self.client()
                try:
                    return bool(client.ping())
                finally:
                    client.close()
            return False

        _wait(answers, 60, "the private dockerd to answer", self.log)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it: dockerd stops the containers, then exits."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the private dockerd did not stop within {STOP_TIMEOUT_S} s", pytrace=False)
        # its managed containerd goes with it; wait until no process of this engine is left
        _wait(lambda: not any(str(self.root) in _cmdline(pid) for pid in _pids()), 30,
              "the private engine's containerd to exit", self.log)

    def restart(self) -> None:
        self.stop()
        self.start()


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture
def private_engine(docker_engine: Any, session_images: dict[str, str]) -> Iterator[PrivateEngine]:
    """A dockerd of this test's own, holding the contributed session image and the gate in front of it."""
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is missing: the engine-restart test starts a private engine; run ./scripts/setup.sh",
                    pytrace=False)
    # short paths: containerd's sockets live under the exec root and unix socket paths are limited to 108 bytes
    root = Path(tempfile.mkdtemp(prefix="cd-prv-", dir="/tmp"))
    bridge = f"cdpv{secrets.token_hex(4)}"  # unique: a stale bridge of a killed run may linger
    engine = PrivateEngine(root, bridge, root / "dockerd.log")
    engine.cmd = ["dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
                  "--pidfile", str(root / "dockerd.pid"), "-H", engine.url, "--bridge", bridge,
                  "--iptables=false", "--ip-masq=false"]
    _run(["ip", "link", "add", bridge, "type", "bridge"], "creating the private engine's bridge")
    try:
        (root / "data").mkdir()
        _run(["mount", "-t", "tmpfs", "-o", "size=3g,mode=0711", "tmpfs", str(root / "data")], "mounting tmpfs")
        _run(["ip", "addr", "add", _free_subnet(), "dev", bridge], "addressing the bridge")
        _run(["ip", "link", "set", bridge, "up"], "bringing the bridge up")
        engine.start()
        client = engine.client()
        move_images(docker_engine, client, PRIVATE_IMAGES)
        client.close()
        yield engine
    finally:
        _teardown(engine)


def _teardown(engine: PrivateEngine) -> None:
    _stop_engine(engine)  # type: ignore[arg-type] - same fields as the TLS engine: proc, client(), bridge, root
