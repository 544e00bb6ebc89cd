"""Local forwards to sessions on remote hosts, so every tab loads from 127.0.0.1 on this machine.

A session's port is published on the *remote* host's 127.0.0.1 only. For each such session this
module keeps a listening socket on this machine's 127.0.0.1 (its port is chosen once and kept until
the forward is closed) and relays every connection accepted there through the host's *dialer*
(`SessionHost.dialer()`: an SSH local forward or a docker-exec relay, see core/backends/).
Nothing here knows how a host is reached.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from .errors import EngineUnavailable
from .host import Dialer, Target
from .log import get_logger
from .record import record

log = get_logger(__name__)

LOCAL_ADDRESS = "127.0.0.1"
BUFFER = 65536


def _pump(source: Callable[[int], bytes], sink: Callable[[bytes], None], done: Callable[[], None]) -> None:
    try:
        while True:
            data = source(BUFFER)
            if not data:
                break
            sink(data)
    except Exception:  # noqa: BLE001 - any transport error (OSError, EOFError, SSH errors) ends the pump
        pass
    finally:
        done()


class Forward:
    """127.0.0.1:local_port on this machine → the target, through a dialer; one thread per direction."""

    def __init__(self, host: str, target: Target, dialer: Dialer) -> None:
        self.host = host
        self.target = target
        self.dialer = dialer
        self.last_error = ""
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOCAL_ADDRESS, 0))
        self._listener.listen(64)
        self.local_port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name=f"forward-{self.local_port}", daemon=True).start()

    @property
    def endpoint(self) -> tuple[str, int]:
        return LOCAL_ADDRESS, self.local_port

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, origin = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, origin), daemon=True).start()

    def _serve(self, conn: socket.socket, origin: tuple[str, int]) -> None:
        try:
            pipe = self.dialer.open(self.target, origin)
        except Exception as exc:  # noqa: BLE001 - any dial failure closes this one connection
            self.last_error = str(exc)
            log.info("forward %s → %s failed: %s", self.local_port, self.host, exc)
            conn.close()
            return
        self.last_error = ""
        with self._lock:
            if self._closed.is_set():
                conn.close()
                pipe.close()
                return
            self._conns.add(conn)
        finished = threading.Event()

        def done() -> None:
            if finished.is_set():
                return
            finished.set()
            with self._lock:
                self._conns.discard(conn)
            for end in (conn, pipe):
                try:
                    if end is conn:
                        conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    end.close()
                except (OSError, EOFError):
                    pass

        threading.Thread(target=_pump, args=(conn.recv, pipe.sendall, done), daemon=True).start()
        _pump(pipe.recv, conn.sendall, done)

    def close(self) -> None:
        self._closed.set()
        try:  # shutdown wakes the accept() blocked in the other thread; close alone would not on Linux
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@record
class ForwardInfo:
    """What the UI and diagnostics can show about a forward."""

    host: str
    container_id: str
    local_port: int
    remote: str  # "127.0.0.1:PORT on the host" or "port N in the container"
    via: str  # "ssh" or "docker exec"
    last_error: str


class TunnelManager:
    """Every forward of this process, by (host, container, remote port); one dialer per host."""

    def __init__(self) -> None:
        self._forwards: dict[tuple[str, str, int | None, int], Forward] = {}
        self._dialers: dict[str, Dialer] = {}
        self._lock = threading.Lock()
        self._closed = False

    def endpoint(self, host: str, dialer: Callable[[], Dialer], target: Target) -> tuple[str, int]:
        """The local (address, port) for a target, opening the forward on first use."""
        key = (host, target.container_id, target.host_port, target.container_port)
        with self._lock:
            forward = self._forwards.get(key)
            if forward is None:
                if self._closed:  # a refresh still running while the app exits opens nothing new
                    raise EngineUnavailable(f"{host}: the app is closing its connections",
                                            "start the app or command again")
                if host not in self._dialers:
                    self._dialers[host] = dialer()
                forward = Forward(host, target, self._dialers[host])
                self._forwards[key] = forward
            return forward.endpoint

    def close_session(self, host: str, container_id: str) -> None:
        self._close(lambda k: k[0] == host and k[1] == container_id)

    def keep_only(self, host: str, live: set[tuple[str, int | None]]) -> None:
        """Close the host's forwards whose (container, published port) is no longer running."""
        self._close(lambda k: k[0] == host and (k[1], k[2]) not in live)

    def close_host(self, host: str) -> None:
        self._close(lambda k: k[0] == host)
        with self._lock:
            dialer = self._dialers.pop(host, None)
        if dialer is not None:
            dialer.close()

    def close_all(self) -> None:
        with self._lock:
            self._closed = True
        for host in {k[0] for k in list(self._forwards)} | set(self._dialers):
            self.close_host(host)

    def _close(self, chosen: Callable[[tuple[str, str, int | None, int]], bool]) -> None:
        with self._lock:
            keys = [k for k in self._forwards if chosen(k)]
            gone = [self._forwards.pop(k) for k in keys]
        for forward in gone:
            forward.close()

    def forwards(self) -> list[ForwardInfo]:
        with self._lock:
            items = list(self._forwards.values())
        return [
            ForwardInfo(
                host=f.host, container_id=f.target.container_id, local_port=f.local_port,
                remote=(f"127.0.0.1:{f.target.host_port} on the host" if f.dialer.via == "ssh"
                        else f"port {f.target.container_port} in the container"),
                via=f.dialer.via,
                last_error=f.last_error,
            )
            for f in items
        ]
