"""Readiness probes and the viewer signal, measured from this machine.

A session is *Running* when its app answers the kind's probe, and *Suspended* when it answers but no
viewer is connected: the viewer signal is the number of established TCP connections to the local
port the session is reached on (read through platform.connection_counts; the app's tabs and any browser keep a
websocket open while they show a session). Where /proc is not available the signal is unknown and
such sessions show Running.
"""

from __future__ import annotations

import socket
from pathlib import Path

from .http1 import Connection
from .kinds import Probe
from .platform import connection_counts


def http_ready(host: str, port: int, probe: Probe, timeout: float = 1.0) -> bool:
    # an ASCII name as bytes (getaddrinfo takes both): as str, Python loads the IDNA codec (2 ms) to encode it
    address = (host.encode("ascii") if host.isascii() else host, port)
    conn = Connection(lambda: socket.create_connection(address, timeout=timeout),  # type: ignore[arg-type]
                      f"{host}:{port}")
    try:
        return conn.request("GET", probe.path, headers={"Connection": "close"}).status in probe.ok
    except (OSError, ValueError):
        return False
    finally:
        conn.close()


def rfb_banner(host: str, port: int, path: str, timeout: float = 3.0) -> bytes:
    """Open the noVNC websocket at `path` and return the first bytes the VNC server sends."""
    import base64
    import os

    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the websocket closed during the handshake")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head.split(b"\r\n")[0].decode(errors="replace"))
        while len(rest) < 2 + 12:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        length = rest[1] & 0x7F
        return rest[2:2 + length]


def established_connections(port: int, proc: Path = Path("/proc/net")) -> int | None:
    """Established TCP connections whose local port is `port`; None when /proc cannot tell."""
    counts = connection_counts(proc)
    return None if counts is None else counts.get(port, 0)
