"""Waiting on conditions with a deadline, never on fixed sleeps."""

from __future__ import annotations

import http.client
import queue
import subprocess
import threading
import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> bool:
    """Poll until condition() is truthy; fail the test with `what` when the deadline passes."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error on timeout
            last_error = exc
        time.sleep(interval)
    import pytest

    pytest.fail(f"timed out after {timeout:.0f} s waiting for: {what}" + (f" (last error: {last_error})" if last_error else ""))


def http_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """GET a path on 127.0.0.1:port; returns the status and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def read_exports(proc: subprocess.Popen[str], timeout: float) -> dict[str, str]:
    """The two `export` lines an API server prints once it listens (read on a thread, with a deadline)."""
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(found) < 2:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not line:
            break
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").strip().partition("=")
            found[key] = value
    return found
