"""Waiting on conditions with a deadline, never on fixed sleeps."""

from __future__ import annotations

import http.client
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


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """GET a path on 127.0.0.1:port; returns the status and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
