"""The sending end of the single-instance socket, against a plain socket server playing the app."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from canfar_desktop.core.instance import send_to_running_app, socket_path
from canfar_desktop.core.settings import AppPaths


@pytest.fixture
def short_paths(tmp_path_factory: pytest.TempPathFactory) -> AppPaths:
    root = Path(tmp_path_factory.mktemp("i", numbered=True))  # Unix socket paths must stay short
    return AppPaths(root / "c", root / "d", root / "s")


def serve(paths: AppPaths, answer: threading.Event) -> Iterator[list[bytes]]:
    path = socket_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    got: list[bytes] = []

    def run() -> None:
        conn, _ = server.accept()
        with conn:
            got.append(conn.recv(1024))
            answer.wait(10)  # the app is busy until the test lets it answer
            conn.sendall(b"ok\n")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield got
    thread.join(5)
    server.close()


def test_no_app_and_stale_socket(short_paths: AppPaths) -> None:
    assert send_to_running_app(short_paths, {"raise": True}) is False
    stale = socket_path(short_paths)
    stale.parent.mkdir(parents=True)
    stale.write_text("")
    assert send_to_running_app(short_paths, {"raise": True}) is False


def test_a_busy_app_is_waited_for_not_replaced(short_paths: AppPaths) -> None:
    answer = threading.Event()
    server = serve(short_paths, answer)
    got = next(server)
    # The app answers only after the connect timeout has long passed: still delivered.
    timer = threading.Timer(0.6, answer.set)
    timer.start()
    assert send_to_running_app(short_paths, {"open": "abc", "host": "local"}, timeout=0.2) is True
    assert got == [b'{"open": "abc", "host": "local"}\n']
    next(server, None)
