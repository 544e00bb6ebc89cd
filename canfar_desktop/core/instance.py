"""One app instance per user: a Unix socket in the state folder that a second start talks to.

The CLI uses it too (`canfar-desktop open ID` opens the tab in the running app), so it is plain
Python here; the app listens on the same path with QLocalServer.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from .paths import AppPaths
from .platform import HAS_UNIX_SOCKETS


def socket_path(paths: AppPaths) -> Path:
    return paths.state_dir / "app.sock"


REPLY_TIMEOUT = 15.0


def send_to_running_app(paths: AppPaths, message: dict[str, Any], timeout: float = 2.0,
                        reply_timeout: float = REPLY_TIMEOUT) -> bool:
    """Deliver a message to a running app; False when none answers (a stale socket included).

    A stale socket refuses the connection at once; once connected, the app is there, so its answer
    is awaited longer (`reply_timeout`): a busy app must not make a second start open a second app.
    """
    path = socket_path(paths)
    if not HAS_UNIX_SOCKETS or not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(message).encode() + b"\n")
            sock.settimeout(max(timeout, reply_timeout))
            reply = sock.recv(64)
            return reply.startswith(b"ok")
    except OSError:
        return False
