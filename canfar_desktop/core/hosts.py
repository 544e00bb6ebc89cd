"""How a configured host becomes a Docker client: local socket, ssh://, or tcp:// with verified TLS."""

from __future__ import annotations

import json
import os
from pathlib import Path

import docker
import docker.tls

from .backend import DockerHost
from .errors import ValidationError
from .settings import HostConfig


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


def make_host(cfg: HostConfig, timeout: int = 30) -> DockerHost:
    url = resolve_url(cfg)

    def factory() -> docker.DockerClient:
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
            client = docker.DockerClient(base_url=url.replace("tcp://", "https://"), tls=tls, timeout=timeout)
        elif url.startswith("ssh://"):
            client = docker.DockerClient(base_url=url, timeout=timeout, use_ssh_client=False)
        else:
            client = docker.DockerClient(base_url=url, timeout=timeout)
        client.ping()
        return client

    return DockerHost(cfg.name, factory, url)
