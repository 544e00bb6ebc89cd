"""A small HTTP/1.1 client: one request at a time on a kept-alive socket, bodies by length, chunked
or to the end of the connection.

The local engine's API (a Unix socket) and the sessions' readiness probes (127.0.0.1) need nothing
more. `http.client` would do, but it brings `email` and `ssl` with it, about a sixth of what a fresh
`canfar-desktop ps` spends before its first request.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable

MAX_LINE = 65536
MAX_HEADERS = 100


class ProtocolError(OSError):
    """The other side broke HTTP/1.1 or closed the connection before the answer was complete."""


class Response:
    """A status, headers (lower-case names) and a body read on demand: all of it, a line or a block."""

    def __init__(self, fp: io.BufferedReader, status: int, headers: dict[str, str], bodiless: bool) -> None:
        self._fp = fp
        self.status = status
        self.headers = headers
        self.chunked = not bodiless and "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        self._left: int | None = 0 if bodiless else (int(length) if length and not self.chunked else None)
        self.to_close = not bodiless and not self.chunked and length is None  # the body ends at EOF
        self._chunk_left = 0
        self.done = bodiless or self._left == 0

    # -- the framing -------------------------------------------------------------------------

    def _next_chunk(self) -> bool:
        """Move to the next chunk; False once the last (empty) chunk and its trailers are read."""
        line = self._readline_raw(MAX_LINE)
        if not line.endswith(b"\n"):
            raise ProtocolError("the answer ended inside a chunk header")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"a bad chunk size: {line[:40]!r}") from None
        if size == 0:
            while self._readline_raw(MAX_LINE).strip():  # trailers, up to the blank line
                pass
            self.done = True
            return False
        self._chunk_left = size
        return True

    def _available(self) -> int:
        """How many body bytes may be read now without crossing a frame (0: the body is over)."""
        if self.done:
            return 0
        if self.chunked:
            if self._chunk_left == 0 and not self._next_chunk():
                return 0
            return self._chunk_left
        return MAX_LINE * 16 if self._left is None else self._left

    def _took(self, data: bytes, wanted: int) -> bytes:
        if not data and wanted:
            if self._left is None and not self.chunked:
                self.done = True  # the end of a body that runs to the end of the connection
                return data
            raise ProtocolError("the connection closed before the answer was complete")
        if self.chunked:
            self._chunk_left -= len(data)
            if self._chunk_left == 0 and self._readline_raw(2) not in (b"\r\n", b"\n"):
                raise ProtocolError("a chunk did not end with CRLF")
        elif self._left is not None:
            self._left -= len(data)
            self.done = self._left == 0
        return data

    def _readline_raw(self, limit: int) -> bytes:
        return self._fp.readline(limit)

    # -- reading -----------------------------------------------------------------------------

    def read1(self, n: int = 65536) -> bytes:
        """What is there now, up to n bytes (at least one unless the body is over)."""
        wanted = min(n, self._available())
        if wanted <= 0:
            return b""
        return self._took(self._fp.read1(wanted), wanted)

    def read(self, n: int = -1) -> bytes:
        """n bytes (fewer only at the end of the body), or the whole rest with n < 0."""
        parts: list[bytes] = []
        got = 0
        while n < 0 or got < n:
            wanted = self._available() if n < 0 else min(n - got, self._available())
            if wanted <= 0:
                break
            data = self._took(self._fp.read(wanted), wanted)
            if not data:
                break
            parts.append(data)
            got += len(data)
        return b"".join(parts)

    def readline(self) -> bytes:
        """One line of the body, with its newline (the last may have none); b"" at the end."""
        parts: list[bytes] = []
        while True:
            wanted = min(MAX_LINE, self._available())
            if wanted <= 0:
                break
            data = self._took(self._fp.readline(wanted), wanted)
            if not data:
                break
            parts.append(data)
            if data.endswith(b"\n"):
                break
        return b"".join(parts)


class Connection:
    """One socket, opened on first use by `connect`; reused while the server keeps it alive."""

    def __init__(self, connect: Callable[[], socket.socket], host: str = "localhost") -> None:
        self._connect = connect
        self._host = host
        self.sock: socket.socket | None = None
        self._fp: io.BufferedReader | None = None
        self._reusable = False
        self._last: Response | None = None

    def request(self, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send a request and read the answer's status and headers; the body is read from the result.
        A connection whose previous answer was not read to its end is replaced by a new one."""
        if self.sock is None or self._fp is None or not self._reusable or not (self._last and self._last.done):
            self.close()
            self.sock = self._connect()
            self._fp = self.sock.makefile("rb")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body or b'')}")
        self._reusable = False
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        response = self._last = self._read_head(self._fp, method)
        self._reusable = not response.to_close and response.headers.get("connection", "").lower() != "close"
        return response

    @staticmethod
    def _read_head(fp: io.BufferedReader, method: str) -> Response:
        status_line = fp.readline(MAX_LINE)
        if not status_line:
            raise ProtocolError("the connection closed without an answer")
        parts = status_line.decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP answer: {status_line[:60]!r}")
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = fp.readline(MAX_LINE)
            if not line:
                raise ProtocolError("the connection closed inside the answer's headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            raise ProtocolError("too many headers")
        status = int(parts[1])
        bodiless = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        return Response(fp, status, headers, bodiless)

    def close(self) -> None:
        sock, self.sock = self.sock, None
        fp, self._fp = self._fp, None
        self._reusable = False
        self._last = None
        if fp is not None:
            fp.close()
        if sock is not None:
            sock.close()
