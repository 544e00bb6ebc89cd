"""SSH to a remote Docker host: ~/.ssh/config resolution, clear errors, and the SSH dialer.

`SshDialer` (ssh:// hosts, and tcp:// hosts with `ssh_tunnel`) keeps an in-process paramiko
transport and opens a `direct-tcpip` channel to 127.0.0.1:PORT on the remote host for each
connection, i.e. an SSH local forward. The user's ~/.ssh/config (HostName, User, Port, IdentityFile,
UserKnownHostsFile, ProxyCommand) and keys (files and the agent) are used; host keys must already be
in known_hosts — an unknown or changed key is refused, never accepted.

Why paramiko in-process rather than the `ssh` binary: the listening socket is ours, so the local port
is stable across reconnects without racing to pick a free port for `ssh -L`; a dropped transport is
noticed on the next connection and re-established there (an open tab's reconnect simply works); and
there is no child process to supervise or leak at exit. The price is that ssh_config features paramiko
does not implement (ProxyJump, Match exec, certificates) are not honoured; ProxyCommand is.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import paramiko

from ..errors import CanfarError, EngineUnavailable
from ..host import Pipe, Target
from ..record import record

LOCAL_ADDRESS = "127.0.0.1"
CONNECT_TIMEOUT = 10.0


@record
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

    via = "ssh"

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
