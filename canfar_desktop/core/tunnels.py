"""Local forwards to sessions on remote hosts, so every tab loads from 127.0.0.1 on this machine.

A session's port is published on the *remote* host's 127.0.0.1 only. For each such session this
module keeps a listening socket on this machine's 127.0.0.1 (its port is chosen once and kept until
the forward is closed) and relays every connection accepted there through a *dialer*:

- `SshDialer` (ssh:// hosts, and tcp:// hosts with `ssh_tunnel`): an in-process paramiko transport
  opening a `direct-tcpip` channel to 127.0.0.1:PORT on the remote host, i.e. an SSH local forward.
  The user's ~/.ssh/config (HostName, User, Port, IdentityFile, UserKnownHostsFile) and keys (files
  and the agent) are used; host keys must already be in known_hosts — an unknown or changed key is
  refused, never accepted.
- `ExecDialer` (tcp:// TLS hosts without SSH): each connection becomes an exec in the session
  container, over the TLS-verified and client-authenticated Docker API, running a tiny relay to the
  app's port on the container's loopback. Nothing new listens on the remote network, and kinds
  without in-app auth (contributed, Firefly) are reachable only by whoever holds the engine's keys.

Why paramiko in-process rather than the `ssh` binary: the listening socket is ours, so the local port
is stable across reconnects without racing to pick a free port for `ssh -L`; a dropped transport is
noticed on the next connection and re-established there (an open tab's reconnect simply works); and
there is no child process to supervise or leak at exit. The price is that ssh_config features paramiko
does not implement (ProxyJump, Match exec, certificates) are not honoured; ProxyCommand is.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import paramiko

from .errors import CanfarError, EngineUnavailable

log = logging.getLogger(__name__)

LOCAL_ADDRESS = "127.0.0.1"
BUFFER = 65536
CONNECT_TIMEOUT = 10.0

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


class Pipe(Protocol):
    """One relayed connection to the remote port."""

    def sendall(self, data: bytes) -> None: ...
    def recv(self, size: int) -> bytes: ...
    def close(self) -> None: ...


class Dialer(Protocol):
    def open(self, target: Target, origin: tuple[str, int]) -> Pipe: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Target:
    """What a forward reaches: a port on the remote host's loopback, or a port inside a container."""

    container_id: str
    host_port: int | None  # the published port on the remote host's 127.0.0.1 (SSH forwards)
    container_port: int  # the app's port inside the container (exec relays)


# --- SSH -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SshTarget:
    """An ssh:// URL resolved through ~/.ssh/config."""

    alias: str
    hostname: str
    port: int
    user: str | None
    identity_files: tuple[str, ...]
    known_hosts: tuple[str, ...]
    proxy_command: str

    @property
    def where(self) -> str:
        return f"ssh://{self.user + '@' if self.user else ''}{self.alias}"


def resolve_ssh(url: str) -> SshTarget:
    """Apply ~/.ssh/config to ssh://[user@]host[:port] the way `ssh` would for these keys."""
    parsed = urllib.parse.urlparse(url)
    alias = parsed.hostname or ""
    config_file = Path(os.path.expanduser("~/.ssh/config"))
    found: dict[str, Any] = {}
    if config_file.exists():
        found = dict(paramiko.SSHConfig.from_path(str(config_file)).lookup(alias))
    known = [os.path.expanduser(p) for p in str(found.get("userknownhostsfile", "")).split() if p]
    known = known or [os.path.expanduser("~/.ssh/known_hosts")]
    return SshTarget(
        alias=alias,
        hostname=str(found.get("hostname", alias)),
        port=int(parsed.port or found.get("port", 22)),
        user=parsed.username or found.get("user"),
        identity_files=tuple(os.path.expanduser(p) for p in found.get("identityfile", [])),
        known_hosts=tuple(known),
        proxy_command=str(found.get("proxycommand", "")),
    )


def ssh_error(exc: BaseException, where: str) -> EngineUnavailable:
    """An SSH failure as something a person can act on; host-key problems are never worked around."""
    text = str(exc)
    if isinstance(exc, paramiko.BadHostKeyException):
        return EngineUnavailable(
            f"The SSH host key of {where} has CHANGED and was refused",
            "if the server was reinstalled, remove its old line from ~/.ssh/known_hosts "
            "(ssh-keygen -R HOST) and connect once with ssh to check the new key",
        )
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in text:
        return EngineUnavailable(
            f"The SSH host key of {where} is unknown and was refused",
            "connect once with `ssh` and check the key's fingerprint, so it is added to ~/.ssh/known_hosts",
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return EngineUnavailable(
            f"SSH authentication to {where} failed",
            "check your SSH key (IdentityFile in ~/.ssh/config, or ssh-agent) is accepted by that host",
        )
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return EngineUnavailable(f"{where} did not answer in time", "check the host is up and reachable")
    if isinstance(exc, OSError):
        return EngineUnavailable(
            f"Cannot reach {where} over SSH ({text or type(exc).__name__})",
            "check the host is up and its SSH server runs, then retry",
        )
    return EngineUnavailable(f"SSH to {where} failed: {text or type(exc).__name__}", "check the host and retry")


def ssh_client(target: SshTarget, timeout: float = CONNECT_TIMEOUT) -> paramiko.SSHClient:
    """A connected client that only trusts host keys already known to the user."""
    client = paramiko.SSHClient()
    for path in target.known_hosts:
        if os.path.exists(path):
            client.load_host_keys(path)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            target.hostname, port=target.port, username=target.user,
            key_filename=list(target.identity_files) or None,
            sock=paramiko.ProxyCommand(target.proxy_command) if target.proxy_command else None,
            timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        raise ssh_error(exc, target.where) from None
    return client


class SshDialer:
    """direct-tcpip channels over one SSH transport per host, reconnected when it has dropped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()

    def _transport(self, fresh: bool) -> paramiko.Transport:
        with self._lock:
            current = self._client.get_transport() if self._client else None
            if fresh or current is None or not current.is_active():
                if self._client is not None:
                    self._client.close()
                self._client = None
                self._client = ssh_client(resolve_ssh(self.url))
                current = self._client.get_transport()
                assert current is not None
                current.set_keepalive(15)
            return current

    def open(self, target: Target, origin: tuple[str, int]) -> Pipe:
        if target.host_port is None:
            raise CanfarError("The session has no published port", "it is not running")
        for attempt in (0, 1):
            transport = self._transport(fresh=attempt == 1)
            try:
                channel = transport.open_channel(
                    "direct-tcpip", (LOCAL_ADDRESS, target.host_port), origin, timeout=CONNECT_TIMEOUT
                )
                return channel  # type: ignore[no-any-return]
            except paramiko.ChannelException:
                raise  # the remote side refused the port: reconnecting will not help
            except (paramiko.SSHException, OSError, EOFError):
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def drop(self) -> None:
        """Forget the transport (the next connection makes a new one)."""
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None


# --- Docker exec (TLS hosts) -----------------------------------------------------------------------

class _ExecPipe:
    """An exec's hijacked connection: raw bytes in, multiplexed stdout frames out."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        raw = getattr(sock, "_sock", None)  # unix: SocketIO wraps the socket
        self._send = raw if raw is not None and not hasattr(sock, "sendall") else sock
        self._pending = 0  # bytes left in the current stdout frame
        self._skip = False

    def sendall(self, data: bytes) -> None:
        self._send.sendall(data)

    def _read(self, size: int) -> bytes:
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

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client  # the DockerHost's current docker.DockerClient (reconnects itself)

    def open(self, target: Target, origin: tuple[str, int]) -> Pipe:
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


# --- forwards ------------------------------------------------------------------------------------

def _pump(source: Callable[[int], bytes], sink: Callable[[bytes], None], done: Callable[[], None]) -> None:
    try:
        while True:
            data = source(BUFFER)
            if not data:
                break
            sink(data)
    except (OSError, EOFError, paramiko.SSHException):
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


@dataclass(frozen=True)
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

    def endpoint(self, host: str, dialer: Callable[[], Dialer], target: Target) -> tuple[str, int]:
        """The local (address, port) for a target, opening the forward on first use."""
        key = (host, target.container_id, target.host_port, target.container_port)
        with self._lock:
            forward = self._forwards.get(key)
            if forward is None:
                if host not in self._dialers:
                    self._dialers[host] = dialer()
                forward = Forward(host, target, self._dialers[host])
                self._forwards[key] = forward
            return forward.endpoint

    def dialer(self, host: str) -> Dialer | None:
        return self._dialers.get(host)

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
                remote=(f"127.0.0.1:{f.target.host_port} on the host" if isinstance(f.dialer, SshDialer)
                        else f"port {f.target.container_port} in the container"),
                via="ssh" if isinstance(f.dialer, SshDialer) else "docker exec",
                last_error=f.last_error,
            )
            for f in items
        ]
