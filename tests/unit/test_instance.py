"""The single-instance socket: the sending end against a plain socket server playing the app, and the
app's end bound early (before its window) with a second start waiting for its answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from canfar_desktop.core.instance import listen_early, send_to_running_app, socket_path
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


def test_the_app_binds_early_and_a_second_start_waits_for_its_answer(short_paths: AppPaths) -> None:
    stale = socket_path(short_paths)
    stale.parent.mkdir(parents=True)
    stale.write_text("")  # left by an app that died: nobody answers there
    listener = listen_early(short_paths)
    assert listener is not None, "a stale socket is replaced"
    with listener:
        assert stale.stat().st_mode & 0o777 == 0o600, "only this user may talk to the app"
        got: list[bool] = []
        sender = threading.Thread(target=lambda: got.append(send_to_running_app(short_paths, {"raise": True})))
        sender.start()  # before the app accepts anything (its window is not there yet)
        conn, _ = listener.accept()  # the app, once its window exists
        with conn:
            assert conn.recv(1024) == b'{"raise": true}\n'
            conn.sendall(b"ok\n")
        sender.join(10)
        assert got == [True]


def test_no_early_socket_where_another_app_answers(short_paths: AppPaths) -> None:
    answer = threading.Event()
    answer.set()
    server = serve(short_paths, answer)
    next(server)
    assert listen_early(short_paths) is None, "the running app keeps its socket"
    next(server, None)
