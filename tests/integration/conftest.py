"""Integration fixtures: the remote hosts (an SSH server and a second engine with TLS) live in remote_fixtures."""

from .remote_fixtures import remote_home, ssh_server, tls_engine

__all__ = ["remote_home", "ssh_server", "tls_engine"]
