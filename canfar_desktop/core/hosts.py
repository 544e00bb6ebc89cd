"""How a configured host becomes a Docker client: local socket, ssh://, or tcp:// with verified TLS."""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.tls
import docker.types
import paramiko

from .backend import DockerHost, engine_error
from .errors import CanfarError, EngineUnavailable, ValidationError
from .settings import HostConfig
from .tunnels import Dialer, ExecDialer, SshDialer, resolve_ssh, ssh_error


def docker_config_dir() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))


def current_context_host() -> str:
    """The endpoint of the current Docker context, when one other than `default` is selected."""
    config = docker_config_dir()
    try:
        current = json.loads((config / "config.json").read_text()).get("currentContext", "")
    except (OSError, ValueError):
        return ""
    if not current or current == "default":
        return ""
    for meta in (config / "contexts" / "meta").glob("*/meta.json"):
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        if data.get("Name") == current:
            return str(data.get("Endpoints", {}).get("docker", {}).get("Host", ""))
    return ""


def list_contexts() -> list[HostConfig]:
    """Docker contexts on this machine as host entries the user can import."""
    hosts: list[HostConfig] = []
    for meta in sorted((docker_config_dir() / "contexts" / "meta").glob("*/meta.json")):
        try:
            data = json.loads(meta.read_text())
            name = str(data["Name"])
            url = str(data["Endpoints"]["docker"]["Host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        tls_dir = docker_config_dir() / "contexts" / "tls" / meta.parent.name / "docker"
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        hosts.append(HostConfig(
            name=safe,
            url=url,
            tls_ca=str(tls_dir / "ca.pem") if (tls_dir / "ca.pem").exists() else "",
            tls_cert=str(tls_dir / "cert.pem") if (tls_dir / "cert.pem").exists() else "",
            tls_key=str(tls_dir / "key.pem") if (tls_dir / "key.pem").exists() else "",
        ))
    return hosts


def resolve_url(cfg: HostConfig) -> str:
    return cfg.url or os.environ.get("DOCKER_HOST", "") or current_context_host() or "unix:///var/run/docker.sock"


def is_remote(cfg: HostConfig) -> bool:
    url = resolve_url(cfg)
    if url.startswith("ssh://"):
        return True
    if url.startswith("tcp://"):
        host = url[len("tcp://"):].split(":")[0]
        return host not in ("127.0.0.1", "localhost", "::1")
    return False


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

    def __init__(self, name: str, client_factory: Callable[[], docker.DockerClient], where: str) -> None:
        super().__init__(name, client_factory, where)
        self._call_lock = threading.Lock()

    def call(self, fn: Callable[[docker.DockerClient], Any]) -> Any:
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
                    return super().call(fn)
            except (paramiko.SSHException, EOFError) as exc:
                self.reset()
                error = ssh_error(exc, self.where)
            except EngineUnavailable as exc:
                error = exc
            if attempt or not had_client:
                raise error from None
        raise AssertionError("unreachable")


def tunnel_via(cfg: HostConfig) -> str:
    """How session ports of a remote host are reached: "ssh" or "exec" (see tunnels.py)."""
    url = resolve_url(cfg)
    return "ssh" if url.startswith("ssh://") or cfg.ssh_tunnel else "exec"


def make_dialer(cfg: HostConfig, dh: DockerHost) -> Dialer:
    """The dialer for a remote host's forwards: SSH to the host (or its ssh_tunnel), else docker exec."""
    url = resolve_url(cfg)
    if url.startswith("ssh://"):
        return SshDialer(url)
    if cfg.ssh_tunnel:
        return SshDialer(cfg.ssh_tunnel)
    return ExecDialer(lambda: dh.client)


def storage_description(cfg: HostConfig, local_arc: Path, user: str) -> str:
    """Where /arc lives for sessions on this host, in words for the UI and the CLI."""
    if not is_remote(cfg):
        return f"/arc is {local_arc} on this computer"
    if cfg.arc_path:
        return f"/arc is {cfg.arc_path.rstrip('/')} on {cfg.name}"
    return (f"/arc is kept in Docker volumes on {cfg.name} "
            f"(canfar-arc-home-{user} and canfar-arc-projects)")


def _explicit_port(url: str) -> str:
    """ssh://alias with the port ~/.ssh/config gives it: the Docker SDK adds :22 to a URL without a port
    (and then ignores the config's Port), while it still reads HostName, User and IdentityFile for the alias."""
    parsed = urllib.parse.urlparse(url)
    if parsed.port is not None:
        return url
    user = f"{parsed.username}@" if parsed.username else ""
    return f"ssh://{user}{parsed.hostname}:{resolve_ssh(url).port}"


def make_host(cfg: HostConfig, timeout: int = 30) -> DockerHost:
    url = resolve_url(cfg)

    def factory() -> docker.DockerClient:
        try:
            return connect()
        except CanfarError:
            raise
        except docker.errors.DockerException:
            raise
        except (paramiko.SSHException, EOFError) as exc:
            raise ssh_error(exc, url) from None
        except OSError as exc:
            raise (ssh_error(exc, url) if url.startswith("ssh://") else engine_error(exc, url)) from None

    def connect() -> docker.DockerClient:
        if url.startswith("tcp://") and is_remote(cfg) and not cfg.tls_ca:
            raise ValidationError(
                f"Host {cfg.name} ({url}) has no TLS CA configured",
                "a remote tcp:// host needs TLS: set tls_ca, tls_cert and tls_key (or use ssh://)",
            )
        if url.startswith("tcp://") and (cfg.tls_ca or cfg.tls_cert):
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
            client.api = _PinnedCAClient(base_url=url.replace("tcp://", "https://"), tls=tls, timeout=timeout)
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

    if url.startswith(("ssh://", "tcp://")):
        return RemoteDockerHost(cfg.name, factory, url)
    return DockerHost(cfg.name, factory, url)


HELPER_LABEL = "net.canfar.desktop.helper"  # short-lived containers the app runs for itself


def prepare_volumes(dh: DockerHost, image: str, mounts: list[tuple[str, int]], uid: int, gid: int) -> None:
    """Hand new named volumes (/arc on a remote host, /scratch) to the session's uid.

    The engine creates a volume owned by root, and sessions never run as root, so a throwaway root
    container (the session's own image, no network) changes the owner once, while the folder is still
    root's; a volume that already belongs to someone is left alone.
    """
    script = "; ".join(
        f'[ "$(stat -c %u /v/{i})" = 0 ] && chown {uid}:{gid} /v/{i} && chmod {mode:o} /v/{i}'
        for i, (_, mode) in enumerate(mounts)
    ) + "; true"
    binds = [docker.types.Mount(target=f"/v/{i}", source=name, type="volume") for i, (name, _) in enumerate(mounts)]

    def run(c: docker.DockerClient) -> None:
        helper = c.containers.create(image, [script], entrypoint=["/bin/sh", "-c"], user="0:0", mounts=binds,
                                     network_disabled=True, labels={HELPER_LABEL: "volumes"})
        try:
            helper.start()
            helper.wait(timeout=120)
        finally:
            helper.remove(force=True)  # always: a helper left behind would be an orphan on the host

    try:
        dh.call(run)
    except docker.errors.DockerException as exc:
        raise CanfarError(f"Could not prepare the session's volumes on {dh.name}: {exc}",
                          "check the host's disk space and that the image has /bin/sh") from None
