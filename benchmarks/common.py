"""Shared helpers for the benchmarks: isolated app folders, timing, medians and a table printer.

Benchmarks measure and print; they never fail a build.
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the command as a person runs it: the installed `canfar-desktop` script beside this Python, if there is one
_SCRIPT = Path(sys.executable).parent / "canfar-desktop"
CLI = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "canfar_desktop"]
NOTEBOOK = "canfar-desktop/notebook:latest"
CONTRIBUTED = "canfar-desktop/contributed:latest"


def isolated_home(user: str) -> dict[str, str]:
    """Environment for CLI runs with their own settings folder and user, so nothing real is touched."""
    home = tempfile.mkdtemp(prefix="canfar-bench-")
    env = {**os.environ, "CANFAR_DESKTOP_HOME": home}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode; don't time compiling
    for key, value in (("user", user), ("arc_root", f"{home}/arc"), ("session_limit", "100")):
        subprocess.run([*CLI, "config", "set", key, value], env=env, check=True, capture_output=True)
    return env


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def http_ok(port: int, path: str) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", path)
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def verdict(value: float, target: float) -> str:
    """`met` or by how much a figure misses its target (lower is better for every figure here)."""
    if value != value:
        return "not measured"
    if value <= target:
        return "met"
    if value >= 2 * target:
        return f"missed by {value / target:.1f}x"
    over = 100 * (value / target - 1)
    return f"missed by {over:.1f}%" if over < 2 else f"missed by {over:.0f}%"  # never "missed by 0%"


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {sys.version.split()[0]}"
