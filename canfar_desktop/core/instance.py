"""One app instance per user: a Unix socket in the state folder that a second start talks to.

The CLI uses it too (`canfar-desktop open ID` opens the tab in the running app), so it is plain
Python here; the app listens on the same path with QLocalServer.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from .settings import AppPaths


def socket_path(paths: AppPaths) -> Path:
    return paths.state_dir / "app.sock"


def send_to_running_app(paths: AppPaths, message: dict[str, Any], timeout: float = 2.0) -> bool:
    """Deliver a message to a running app; False when none answers (a stale socket included)."""
    path = socket_path(paths)
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(message).encode() + b"\n")
            reply = sock.recv(64)
            return reply.startswith(b"ok")
    except OSError:
        return False
