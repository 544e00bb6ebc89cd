"""Builds the Linux packages (or reuses dist/ when it is newer than every input) and runs the smoke test.

Timing on the 2-core machine: a build is 80 s idle and up to 4 minutes when other tests share the cores
(PyInstaller ~30 s, the .tar.gz ~30 s, the .deb ~15 s, plus installing PyInstaller once); an up-to-date dist/ is
reused at no cost; the smoke test (unpack, --version, --self-test offscreen, desktop files, a real `apt-get install`
and removal when run as root) takes 20-50 s. Deselect with `-m "not packaging"`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ("canfar_desktop", "packaging", "resources/linux", "pyproject.toml")

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the .deb is built on Linux"),
]


def _version() -> str:
    text = (ROOT / "canfar_desktop" / "__init__.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match, "canfar_desktop/__init__.py has no __version__"
    return match.group(1)


def _newest_input() -> float:
    newest = 0.0
    for name in INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" not in file.parts:
                newest = max(newest, file.stat().st_mtime)
    return newest


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> str:
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    took = time.monotonic() - started
    output = proc.stdout + proc.stderr
    print(f"{what}: exit {proc.returncode} in {took:.0f} s\n{output[-4000:]}")
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}):\n{output[-6000:]}"
    return output


@pytest.fixture(scope="module")
def deb() -> Path:
    """dist/canfar-desktop_VERSION_ARCH.deb, built now unless it is newer than every input."""
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    version = _version()
    deb = ROOT / "dist" / f"canfar-desktop_{version}_{arch}.deb"
    tgz = ROOT / "dist" / f"canfar-desktop-{version}-linux-{os.uname().machine}.tar.gz"
    fresh = deb.is_file() and tgz.is_file() and min(deb.stat().st_mtime, tgz.stat().st_mtime) > _newest_input()
    if not fresh:
        _run(["./packaging/build.sh"], "packaging/build.sh")
    assert deb.is_file(), f"packaging/build.sh did not make {deb}"
    return deb


def test_deb_installs_and_runs(deb: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QTWEBENGINE_DISABLE_SANDBOX"}
    out = _run(["./packaging/smoke_test.sh", str(deb)], "packaging/smoke_test.sh", env=env)
    assert "self-test ok" in out
    assert "Smoke test passed" in out
