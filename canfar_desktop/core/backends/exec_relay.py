"""Reaching a session's port on a TLS-only host: a relay run by `docker exec` in the session container.

Each connection becomes an exec in the session container, over the TLS-verified and
client-authenticated Docker API, running a tiny relay to the app's port on the container's loopback.
Nothing new listens on the remote network.
"""

from __future__ import annotations

import select
import ssl
import threading
from collections.abc import Callable
from typing import Any

from ..host import Pipe, Target

# The relay run inside a session container for TLS hosts: stdin → app port → stdout. The process exits
# when this side closes (stdin EOF), so no relay outlives its connection.
RELAY_PY = (
    "import os,socket,sys,threading\n"
    "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
    "def up():\n"
    "    while True:\n"
    "        d=os.read(0,65536)\n"
    "        if not d: os._exit(0)\n"
    "        s.sendall(d)\n"
    "threading.Thread(target=up,daemon=True).start()\n"
    "out=sys.stdout.buffer\n"
    "while True:\n"
    "    d=s.recv(65536)\n"
    "    if not d: break\n"
    "    out.write(d); out.flush()\n"
)
RELAY_SH = (
    'if command -v python3 >/dev/null 2>&1; then exec python3 -c "$CANFAR_RELAY" "$1"; '
    'elif command -v socat >/dev/null 2>&1; then exec socat - "TCP:127.0.0.1:$1"; '
    'elif command -v nc >/dev/null 2>&1; then exec nc 127.0.0.1 "$1"; '
    'else echo "no python3, socat or nc in the image to relay with" >&2; exit 127; fi'
)


class _ExecPipe:
    """An exec's hijacked connection: raw bytes in, multiplexed stdout frames out.

    The forward pumps each direction from its own thread. An OpenSSL connection must not be read
    and written at the same time (concurrent calls corrupt the stream), so on TLS every call takes
    one lock on a non-blocking socket and waits for readiness outside it.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        raw = getattr(sock, "_sock", None)  # unix: SocketIO wraps the socket
        self._send = raw if raw is not None and not hasattr(sock, "sendall") else sock
        self._pending = 0  # bytes left in the current stdout frame
        self._skip = False
        self._tls = isinstance(self._send, ssl.SSLSocket)
        self._io = threading.Lock()
        if self._tls:
            self._send.setblocking(False)

    def sendall(self, data: bytes) -> None:
        if not self._tls:
            self._send.sendall(data)
            return
        view = memoryview(data)
        wanted: tuple[list[Any], list[Any]]
        while view:
            with self._io:
                try:
                    view = view[self._send.send(view):]
                    continue
                except ssl.SSLWantWriteError:
                    wanted = ([], [self._send])
                except ssl.SSLWantReadError:
                    wanted = ([self._send], [])
            select.select(*wanted, [], 0.5)

    def _read(self, size: int) -> bytes:
        if self._tls:
            wanted: tuple[list[Any], list[Any]]
            while True:
                with self._io:
                    try:
                        tls_data: bytes = self._send.recv(size)
                        return tls_data
                    except ssl.SSLWantReadError:
                        wanted = ([self._send], [])
                    except ssl.SSLWantWriteError:
                        wanted = ([], [self._send])
                select.select(*wanted, [], 0.5)
        reader = self._send if hasattr(self._send, "recv") else self._sock
        data: bytes = reader.recv(size) if hasattr(reader, "recv") else reader.read(size)
        return data

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._read(size - len(data))
            if not chunk:
                return b""
            data += chunk
        return data

    def recv(self, size: int) -> bytes:
        while True:
            if self._pending == 0:
                header = self._exactly(8)
                if not header:
                    return b""
                self._skip = header[0] != 1
                self._pending = int.from_bytes(header[4:8], "big")
                continue
            chunk = self._read(min(size, self._pending))
            if not chunk:
                return b""
            self._pending -= len(chunk)
            if not self._skip:
                return chunk

    def close(self) -> None:
        with self._io:
            self._close()

    def _close(self) -> None:
        for thing in (self._send, self._sock):
            try:
                thing.close()
            except OSError:
                pass
        response = getattr(self._sock, "_response", None)
        if response is not None:
            response.close()


class ExecDialer:
    """Relays through `docker exec` over the host's verified API connection."""

    via = "docker exec"

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client  # the DockerHost's current docker.DockerClient (reconnects itself)

    def open(self, target: Target, origin: tuple[str, int]) -> Pipe:
        try:
            return self._open(target)
        except OSError:  # a TLS connection the engine dropped while it was being made: one more try
            return self._open(target)

    def _open(self, target: Target) -> Pipe:
        api = self._client().api
        exec_id = api.exec_create(
            target.container_id, ["sh", "-c", RELAY_SH, "relay", str(target.container_port)],
            stdin=True, stdout=True, stderr=False, tty=False, environment={"CANFAR_RELAY": RELAY_PY},
        )["Id"]
        sock = api.exec_start(exec_id, socket=True)
        inner = getattr(sock, "_sock", sock)
        if hasattr(inner, "settimeout"):
            inner.settimeout(None)
        return _ExecPipe(sock)

    def close(self) -> None:
        pass
