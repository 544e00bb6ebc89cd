"""Waiting on conditions with a deadline, never on fixed sleeps."""

from __future__ import annotations

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
