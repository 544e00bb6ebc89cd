"""Connecting to a Docker engine: local socket, ssh:// (paramiko), or tcp:// with verified TLS.

`connect(cfg)` makes the SessionHost for a configured Docker host. Remote engines retry a call once
on a connection that had worked and dropped, and reach session ports through a dialer: SSH to the
host (ssh:// or `ssh_tunnel`), else a docker-exec relay over the verified API.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

import docker
import docker.errors
import docker.tls
import paramiko

from ..errors import CanfarError, EngineUnavailable, ValidationError
from ..host import Dialer
from ..hosts import NETWORK_SCHEMES, is_remote, needs_tls, resolve_url
from ..settings import HostConfig
from .docker_engine import DockerHost
from .exec_relay import ExecDialer
from .sdk_errors import engine_error
from .ssh import SshDialer, resolve_ssh, ssh_error

DROPPED_HANDSHAKE = "EOF occurred in violation of protocol"  # a TLS connection closed during its handshake


class _PinnedCAClient(docker.APIClient):  # type: ignore[misc]
    """An API client that trusts only the host's configured CA.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment replace a session's CA file, so
    the system bundle (any public CA) would vouch for the host; here the configured CA always wins.
    """

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["verify"] = self.verify
        return settings


class RemoteDockerHost(DockerHost):
    """A host reached over SSH or TCP: SSH failures (paramiko's own errors) become EngineUnavailable too,
    and any failure drops the connection so the next call reconnects (a host that comes back recovers)."""

    def __init__(self, name: str, client_factory: Callable[[], docker.DockerClient], where: str,
                 ssh_url: str = "") -> None:
        super().__init__(name, client_factory, where)
        self._call_lock = threading.Lock()
        self._ssh_url = ssh_url

    @property
    def remote(self) -> bool:
        return True

    def dialer(self) -> Dialer:
        """SSH to the host (or its ssh_tunnel) where there is one, else a docker-exec relay."""
        if self._ssh_url:
            return SshDialer(self._ssh_url)
        return ExecDialer(lambda: self.client)

    def _sdk(self, fn: Callable[[docker.DockerClient], Any]) -> Any:
        """One SDK call; a connection that had worked and dropped (SSH cut, engine restarted) is remade
        and the call tried once more, so one stale connection does not surface as an error.

        Calls are made one at a time: requests multiplexed over one SSH transport from several
        threads lost replies here. Streams (events, stats, logs) are read outside the lock. A retried
        call may have reached the engine the first time; `DockerHost.create` is safe to repeat.
        """
        for attempt in (0, 1):
            had_client = self._client is not None
            try:
                with self._call_lock:
                    return super()._sdk(fn)
            except (paramiko.SSHException, EOFError) as exc:
                self.reset()
                error = ssh_error(exc, self.where)
            except EngineUnavailable as exc:
                error = exc
            # a TLS handshake the engine dropped half-way (an EOF, not a refusal) is worth one new try too
            if attempt or not (had_client or DROPPED_HANDSHAKE in error.message):
                raise error from None
        raise AssertionError("unreachable")


def _explicit_port(url: str) -> str:
    """ssh://alias with the port ~/.ssh/config gives it: the Docker SDK adds :22 to a URL without a port
    (and then ignores the config's Port), while it still reads HostName, User and IdentityFile for the alias."""
    parsed = urllib.parse.urlparse(url)
    if parsed.port is not None:
        return url
    user = f"{parsed.username}@" if parsed.username else ""
    return f"ssh://{user}{parsed.hostname}:{resolve_ssh(url).port}"


def connect(cfg: HostConfig, timeout: int = 30) -> DockerHost:
    """The host object for a configured Docker engine; nothing is contacted until its first call."""
    url = resolve_url(cfg)

    def factory() -> docker.DockerClient:
        try:
            return open_client()
        except CanfarError:
            raise
        except docker.errors.DockerException:
            raise
        except (paramiko.SSHException, EOFError) as exc:
            raise ssh_error(exc, url) from None
        except OSError as exc:
            raise (ssh_error(exc, url) if url.startswith("ssh://") else engine_error(exc, url)) from None

    def open_client() -> docker.DockerClient:
        if needs_tls(cfg) and not cfg.tls_ca:
            raise ValidationError(
                f"Host {cfg.name} ({url}) has no TLS CA configured",
                "a remote tcp:// host needs TLS: set tls_ca, tls_cert and tls_key (or use ssh://)",
            )
        if url.startswith(NETWORK_SCHEMES) and (cfg.tls_ca or cfg.tls_cert):
            if not cfg.tls_ca:
                raise ValidationError(
                    f"Host {cfg.name} uses TLS without a CA", "set the CA certificate; verification is always on"
                )
            tls = docker.tls.TLSConfig(
                client_cert=(cfg.tls_cert, cfg.tls_key) if cfg.tls_cert else None,
                ca_cert=cfg.tls_ca,
                verify=True,
            )
            client = docker.DockerClient.__new__(docker.DockerClient)
            client.api = _PinnedCAClient(base_url="https://" + url.split("://", 1)[1], tls=tls, timeout=timeout)
        elif url.startswith("ssh://"):
            client = docker.DockerClient(base_url=_explicit_port(url), timeout=timeout, use_ssh_client=False)
        else:
            client = docker.DockerClient(base_url=url, timeout=timeout)
        try:
            client.ping()
        except BaseException:
            client.close()
            raise
        return client

    if is_remote(cfg):
        ssh_url = url if url.startswith("ssh://") else cfg.ssh_tunnel
        return RemoteDockerHost(cfg.name, factory, url, ssh_url)
    return DockerHost(cfg.name, factory, url)
