"""Running the API: in the foreground for `canfar-desktop api`, or on a thread of the desktop app.

uvicorn serves it: a small, maintained ASGI server with a programmatic API that accepts an
already-bound socket, so the address is known (and printed) before the first request, and port 0
means "any free port". It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
from typing import TYPE_CHECKING

from ..core.errors import ValidationError
from ..core.record import record
from . import API_PATH
from .token import TokenStore

if TYPE_CHECKING:
    import uvicorn

    from ..core.service import SessionService

HOST = "127.0.0.1"
log = logging.getLogger("canfar_desktop.api")


@record
class Address:
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{API_PATH}"


def export_lines(address: Address, token: str) -> str:
    """What a person pastes into a shell so the canfar client talks to this computer."""
    return f"export CANFAR_URL={address.url}\nexport CANFAR_TOKEN={token}\n"


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: a free one); a taken port is a one-line error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ValidationError(f"Port {port} on {HOST} is already in use",
                                  "choose another with --port N (0 for any free port), or stop what uses it "
                                  "(the app's background API uses the same port: see Settings)") from None
        raise ValidationError(f"Cannot listen on {HOST}:{port} ({exc.strerror})", "choose another port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(service: SessionService, tokens: TokenStore) -> uvicorn.Server:
    import uvicorn

    from .app import build_app
    from .handlers import SkahaApi

    # log_config=None: uvicorn leaves the process's logging alone (the app has its own)
    config = uvicorn.Config(build_app(SkahaApi(service), tokens), log_level="warning", access_log=False,
                            lifespan="off", server_header=False, log_config=None)
    return uvicorn.Server(config)


def serve_foreground(service: SessionService, tokens: TokenStore, port: int) -> None:
    """Serve until Ctrl+C; prints the two export lines once the socket listens."""
    sock = bind(port)
    address = Address(sock.getsockname()[1])
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    server = make_server(service, tokens)
    sys.stdout.write(export_lines(address, tokens.get()))
    sys.stdout.flush()
    print(f"Serving the CANFAR session API at {address.url} for user {service.settings.user}; "
          "press Ctrl+C to stop.", file=sys.stderr, flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class BackgroundServer:
    """The API on a thread of its own (its own event loop), started and stopped by the desktop app."""

    def __init__(self, service: SessionService, tokens: TokenStore, port: int) -> None:
        self.service = service
        self.tokens = tokens
        self.requested_port = port
        self.address: Address | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Address:
        """Listen now (a taken port raises here, in the caller), then serve on the thread."""
        sock = bind(self.requested_port)
        self.address = Address(sock.getsockname()[1])
        self._server = make_server(self.service, self.tokens)
        server = self._server

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except Exception:
                log.exception("the API server stopped")
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name="canfar-api", daemon=True)
        self._thread.start()
        return self.address

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = None
        self._thread = None
        self.address = None
