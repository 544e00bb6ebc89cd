"""The running app's end of the single-instance socket (core.instance is the sending end).

Protocol: one JSON line per connection, answered with `ok\\n`. Messages: {"raise": true} brings the
window forward; {"open": "<session id>", "host": "<host>"} opens that session's tab;
{"launch": {"kind": "<kind>", "image": "<ref>", "name": "<name>", "host": "<host>"}} starts a launch
through the window's normal launch path (image and host optional; see app.start_launch).

At start the socket is bound before Qt's networking loads (core.instance.listen_early) and adopted
here once the window exists (`adopt`); a second start that came first waits in the socket's queue.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ..core.instance import send_to_running_app, socket_path
from ..core.platform import local_channel_name
from ..core.settings import AppPaths

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class InstanceServer(QObject):
    def __init__(self, paths: AppPaths, handler: Handler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.handler = handler
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)

    def adopt(self, sock: socket.socket) -> bool:
        """Serve on a socket already bound and listening (core.instance.listen_early); False: not taken."""
        descriptor = sock.detach()  # Qt owns it from here
        ok = self.server.listen(descriptor)
        if not ok:
            os.close(descriptor)
            log.warning("single-instance socket not taken over: %s", self.server.errorString())
        return ok

    def listen(self) -> bool:
        """Listen on the state folder's socket, replacing a stale one nobody answers on."""
        path = socket_path(self.paths)
        path.parent.mkdir(parents=True, exist_ok=True)
        name = local_channel_name(path)  # the path; a pipe name on Windows
        if path.exists() and not send_to_running_app(self.paths, {"ping": True}, timeout=0.5):
            QLocalServer.removeServer(name)
            path.unlink(missing_ok=True)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        ok = self.server.listen(name)
        if not ok:
            log.warning("single-instance socket unavailable: %s", self.server.errorString())
        return ok

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            buffer = bytearray()

            def read(sock: QLocalSocket = sock, buffer: bytearray = buffer) -> None:
                buffer.extend(bytes(sock.readAll().data()))
                if b"\n" not in buffer:
                    if len(buffer) > 65536:
                        sock.abort()
                    return
                line = bytes(buffer).split(b"\n", 1)[0]
                sock.write(b"ok\n")
                sock.flush()
                sock.disconnectFromServer()
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("ignored a malformed single-instance message")
                    return
                if isinstance(message, dict):
                    self.handler(message)

            sock.readyRead.connect(read)
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                read()
