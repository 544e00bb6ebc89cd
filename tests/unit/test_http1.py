"""The small HTTP/1.1 client against a real socket server that answers with canned bytes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from canfar_desktop.core.http1 import Connection, ProtocolError


class Canned:
    """A TCP server on 127.0.0.1 answering each request on a connection with the next canned answer."""

    def __init__(self, answers: list[bytes], close_after: bool = False) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.close_after = close_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                buffer = b""
                while self.answers:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buffer += data
                    if b"\r\n\r\n" not in buffer:
                        break
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)
                    while len(buffer) < length:
                        buffer += conn.recv(65536)
                    self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                    buffer = buffer[length:]
                    conn.sendall(self.answers.pop(0))
                    if self.close_after:
                        break

    def connection(self) -> Connection:
        return Connection(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=5), "docker")


@pytest.fixture
def canned() -> Iterator[type[Canned]]:
    servers: list[Canned] = []

    def make(*args: object, **kw: object) -> Canned:
        server = Canned(*args, **kw)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in servers:
        server.listener.close()


def test_length_bodies_reuse_one_connection(canned: type[Canned]) -> None:
    server = canned([b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                     b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"])
    conn = server.connection()
    first = conn.request("GET", "/a?x=1")
    assert (first.status, first.read()) == (200, b"hello")
    second = conn.request("POST", "/b", b'{"k": 1}', {"Content-Type": "application/json"})
    assert (second.status, second.headers["content-type"], second.read()) == (404, "application/json", b"{}")
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /a?x=1 HTTP/1.1\r\nHost: docker\r\n")
    assert server.requests[1].endswith(b'Content-Length: 8\r\n\r\n{"k": 1}')
    conn.close()


def test_chunked_bodies_by_line_block_and_whole(canned: type[Canned]) -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"6;ext=1\r\n{\"a\":1\r\n4\r\n}\n{\"\r\n5\r\nb\":2}\r\n1\r\n\n\r\n0\r\nTrailer: x\r\n\r\n")
    server = canned([chunked, chunked, b"HTTP/1.1 204 No Content\r\n\r\n"])
    conn = server.connection()
    lines = conn.request("GET", "/events")
    assert [lines.readline(), lines.readline(), lines.readline()] == [b'{"a":1}\n', b'{"b":2}\n', b""]
    assert lines.done
    whole = conn.request("GET", "/events")
    assert whole.read(3) == b'{"a'
    assert whole.read1(100) == b'":1'  # within one chunk only
    assert whole.read() == b'}\n{"b":2}\n'
    empty = conn.request("DELETE", "/c")
    assert (empty.status, empty.read()) == (204, b"")
    assert server.connections == 1


def test_a_body_to_the_end_of_the_connection(canned: type[Canned]) -> None:
    server = canned([b"HTTP/1.1 200 OK\r\n\r\nall of it", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
                    close_after=True)
    conn = server.connection()
    answer = conn.request("GET", "/")
    assert answer.to_close and answer.read() == b"all of it"
    again = conn.request("GET", "/")  # a new connection: the first ended with its body
    assert again.read() == b"ok"
    assert server.connections == 2


def test_an_unread_answer_is_not_mixed_into_the_next(canned: type[Canned]) -> None:
    server = canned([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
                     b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"], close_after=True)
    conn = server.connection()
    conn.request("GET", "/")  # left unread
    assert conn.request("GET", "/").read() == b"ok"
    assert server.connections == 2


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"",
])
def test_broken_answers_are_protocol_errors(canned: type[Canned], answer: bytes) -> None:
    server = canned([answer], close_after=True)
    conn = server.connection()
    with pytest.raises(ProtocolError):
        conn.request("GET", "/").read()
    assert isinstance(ProtocolError("x"), OSError)  # callers treat it as a failed connection
