"""The configured hosts, the host object of each (made on first use), and local forwards to them.

It also owns the current settings: the app's settings dialog hands new ones here, and hosts whose
configuration changed reconnect while their forwards close.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import CanfarError, StateError
from .gate import GATE_PORT
from .host import HostInfo, SessionHost, Target, platform_of
from .hosts import is_remote, open_host
from .kinds import KINDS
from .record import record
from .session import Session
from .settings import AppPaths, HostConfig, Settings

if TYPE_CHECKING:
    from .forwards import TunnelManager

Opener = Callable[[HostConfig], SessionHost]
LOCAL_ADDRESS = "127.0.0.1"  # where this machine reaches a local session's published port


@record
class HostStatus:
    name: str
    ok: bool
    error: str = ""
    rtt_ms: float | None = None
    warning: str = ""  # a platform login that has expired or expires within three days, in words


@record
class HostProbe:
    rtt_ms: float
    info: HostInfo


def probe_config(cfg: HostConfig, opener: Opener = open_host) -> HostProbe:
    """Try a host configuration that may not be saved yet (the hosts editor's Test button): connect as
    the app would (same TLS and SSH rules), time a second ping, read the capacity."""
    host = opener(cfg)
    try:
        host.ping()  # the first call connects (SSH handshake, TLS); time a second, as the dashboard does
        started = time.monotonic()
        host.ping()
        rtt = (time.monotonic() - started) * 1000
        platform = platform_of(host)  # a platform answers the second from memory: its own round trip
        return HostProbe(platform.round_trip_ms() or rtt if platform is not None else rtt, host.info())
    finally:
        host.reset()


class HostRegistry:
    def __init__(self, settings: Settings, hosts: dict[str, SessionHost] | None = None,
                 opener: Opener | None = None, paths: AppPaths | None = None) -> None:
        self.settings = settings
        # a platform host needs whose sessions they are and where a saved login is kept
        self._opener = opener or (lambda cfg: open_host(cfg, self.settings.user, paths))
        self._hosts: dict[str, SessionHost] = dict(hosts or {})
        self._lock = threading.Lock()
        self._forwards: TunnelManager | None = None

    @property
    def forwards(self) -> TunnelManager:
        """Local forwards to sessions on remote hosts, made on first use (a local host has none)."""
        with self._lock:  # the session loop's threads and the window's may ask at once
            if self._forwards is None:
                from .forwards import TunnelManager

                self._forwards = TunnelManager()
            return self._forwards

    @property
    def open_forwards(self) -> TunnelManager | None:
        """The forwards if any was ever made: what closing them needs, without making them."""
        return self._forwards

    def config(self, name: str | None = None) -> HostConfig:
        return self.settings.host(name)

    def names(self) -> list[str]:
        return [h.name for h in self.settings.hosts]

    def get(self, name: str | None = None) -> SessionHost:
        cfg = self.config(name)
        with self._lock:
            if cfg.name not in self._hosts:
                self._hosts[cfg.name] = self._opener(cfg)
            return self._hosts[cfg.name]

    def is_remote(self, name: str) -> bool:
        return is_remote(self.config(name))

    def apply(self, settings: Settings) -> None:
        """Use new settings; hosts whose configuration changed reconnect, their forwards close."""
        with self._lock:
            old = {h.name: h for h in self.settings.hosts}
            new = {h.name: h for h in settings.hosts}
            for name in list(self._hosts):
                if old.get(name) != new.get(name):
                    self._hosts.pop(name).reset()
            self.settings = settings
        forwards = self._forwards
        for name in old:
            if old[name] != new.get(name) and forwards is not None:
                forwards.close_host(name)

    def reset(self, name: str) -> None:
        """Forget a host's connection so the next call reconnects (after the engine comes back)."""
        self.get(name).reset()

    def status(self, name: str) -> HostStatus:
        return self.measure(self.get(name))

    @staticmethod
    def measure(host: SessionHost) -> HostStatus:
        started = time.monotonic()
        try:
            host.ping()
        except CanfarError as exc:
            return HostStatus(host.name, False, str(exc))
        platform = platform_of(host)  # it answers from a recent listing: its last real round trip counts
        rtt = platform.round_trip_ms() if platform is not None else None
        return HostStatus(host.name, True, rtt_ms=rtt if rtt is not None else (time.monotonic() - started) * 1000,
                          warning=platform.login_warning() if platform is not None else "")

    def test(self, cfg: HostConfig) -> HostProbe:
        return probe_config(cfg, self._opener)

    def endpoint(self, session: Session) -> tuple[str, int]:
        """Where this machine reaches the session's port: directly, or a local forward for remote hosts."""
        if session.host_port is None:
            raise StateError(f"Session {session.id} has no published port",
                             "it is not running; see canfar-desktop info")
        if not self.is_remote(session.host):
            return LOCAL_ADDRESS, session.host_port
        host = self.get(session.host)
        kind = KINDS.get(session.kind)
        inside = GATE_PORT if session.gated else kind.port if kind else session.host_port  # a gate asks for the secret
        target = Target(session.container_id, session.host_port, inside)
        return self.forwards.endpoint(host.name, host.dialer, target)

    def close(self) -> None:
        """Close every forward, then every engine connection (the app calls this on exit): an SSH
        connection left to the interpreter's exit meets its ProxyCommand already gone."""
        if self._forwards is not None:
            self._forwards.close_all()
        for host in list(self._hosts.values()):
            try:
                host.reset()
            except Exception:  # noqa: BLE001 - a connection that is already dead may fail to close
                pass
