"""One app instance per user: a Unix socket in the state folder (a named pipe on Windows) that a second
start talks to.

The CLI uses it too (`canfar-desktop open ID` opens the tab in the running app), so it is plain
Python here; the app listens on the same path with QLocalServer. At start the app binds the socket
here (`listen_early`), before Qt's networking is loaded, and hands it to QLocalServer once its window
exists: a second start connects from the first moment and waits for its answer.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from .paths import AppPaths
from .platform import local_exchange, unix_listener


def socket_path(paths: AppPaths) -> Path:
    return paths.state_dir / "app.sock"


REPLY_TIMEOUT = 15.0


def send_to_running_app(paths: AppPaths, message: dict[str, Any], timeout: float = 2.0,
                        reply_timeout: float = REPLY_TIMEOUT) -> bool:
    """Deliver a message to a running app; False when none answers (a stale socket included).

    A stale socket refuses the connection at once; once connected, the app is there, so its answer
    is awaited longer (`reply_timeout`): a busy app must not make a second start open a second app.
    """
    reply = local_exchange(socket_path(paths), json.dumps(message).encode() + b"\n", timeout, reply_timeout)
    return reply is not None and reply.startswith(b"ok")


def listen_early(paths: AppPaths) -> socket.socket | None:
    """The app's socket, bound and listening (a stale one nobody answers on is replaced); None when
    another app answers there, or where QLocalServer makes its own channel (Windows)."""
    path = socket_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        if send_to_running_app(paths, {"ping": True}, timeout=0.5):
            return None
        path.unlink(missing_ok=True)
    return unix_listener(path)
