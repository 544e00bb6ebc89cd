"""Answering desktops' requests to start applications, for as long as the app (or a caller) runs it.

A desktop has no access to the Docker engine, and must not: its menu's launcher writes a request line
to the desktop container's output (see resources/images/desktop/start-desktop). The broker follows
the output of each running desktop of this user, on every host, through the engine (so it works the
same for remote hosts), starts the requested application with DesktopApps (only images labelled
desktop-app on that host, as this user) and writes the answer back into the desktop. It also keeps
each desktop's Astro Software menu in step with the host's images and removes applications that
ended. Every engine call runs on the broker's own threads: `sync` returns at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .desktop_apps import DesktopApps, parse_request
from .errors import CanfarError
from .lifecycle import State
from .log import get_logger
from .session import Session

if TYPE_CHECKING:
    from .service import SessionService

log = get_logger(__name__)
IMAGE_CHECK_S = 20.0  # how often a host's desktop-app images are compared with what the menus list

Notice = Callable[[str, str], None]  # (what happened, the desktop's session id)


class _Follower(threading.Thread):
    """Reads one desktop's output until it ends or is closed, and acts on each request line."""

    def __init__(self, broker: AppBroker, desktop: Session) -> None:
        super().__init__(name=f"desktop-apps-{desktop.id}", daemon=True)
        self.broker = broker
        self.desktop = desktop
        self.stream: Any = None
        self.closed = threading.Event()
        self.menu_key: tuple[str, ...] | None = None

    def run(self) -> None:
        try:
            host = self.broker.service.host(self.desktop.host)
            if host.info().engine != "Docker":  # a science platform's desktops start apps through the platform
                self.broker.not_docker.add(self.desktop.host)
                return
            self.stream = host.follow_logs(self.desktop.container_id, tail=0)
            self.broker.refresh_menu(self, force=True)
            pending = b""
            for chunk in self.stream:
                if self.closed.is_set():
                    break
                pending += chunk if isinstance(chunk, bytes) else str(chunk).encode()
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    request = parse_request(line.decode(errors="replace").strip())
                    if request is not None:
                        self.broker.handle(self.desktop, request)
        except CanfarError as exc:
            log.info("stopped following desktop %s: %s", self.desktop.id, exc.message)
        finally:
            self.closed.set()

    def close(self) -> None:
        self.closed.set()
        stream = self.stream
        if stream is not None:
            stream.close()


class AppBroker:
    """One per app: follows every running desktop of this user and answers its menu's requests."""

    def __init__(self, service: SessionService, notice: Notice | None = None) -> None:
        self.service = service
        self.apps = DesktopApps(service)
        self.notice = notice or (lambda text, desktop_id: None)
        self._followers: dict[tuple[str, str], _Follower] = {}
        self._checked: dict[str, float] = {}
        self.not_docker: set[str] = set()  # hosts whose desktops are not this app's to serve
        self._lock = threading.Lock()
        self._closed = False

    # --- following ------------------------------------------------------------------------

    def sync(self, sessions: Iterable[Session]) -> None:
        """Follow the running desktops among `sessions`, stop following the rest, tidy applications."""
        user = self.service.settings.user
        sessions = [s for s in sessions if s.host not in self.not_docker]
        running = {(s.host, s.id): s for s in sessions
                   if s.kind == "desktop" and s.owner == user and s.status == "running"
                   and s.state in (State.RUNNING, State.SUSPENDED, State.LAUNCHING)}
        hosts = {s.host for s in sessions}
        with self._lock:
            if self._closed:
                return
            for key, follower in list(self._followers.items()):
                if key not in running or follower.closed.is_set():
                    follower.close()
                    del self._followers[key]
            for key, desktop in running.items():
                if key not in self._followers:
                    follower = _Follower(self, desktop)
                    self._followers[key] = follower
                    follower.start()
        now = time.monotonic()
        for host in hosts:
            if now - self._checked.get(host, 0.0) >= IMAGE_CHECK_S:
                self._checked[host] = now
                live = {sid for (h, sid) in running if h == host}
                threading.Thread(target=self._housekeep, args=(host, live), daemon=True,
                                 name=f"desktop-apps-tidy-{host}").start()

    def images_changed(self, host: str) -> None:
        """Images were pulled or removed on a host: bring its desktops' menus up to date soon."""
        self._checked.pop(host, None)
        with self._lock:
            followers = [f for (h, _), f in self._followers.items() if h == host]
        for follower in followers:
            threading.Thread(target=self.refresh_menu, args=(follower,), daemon=True).start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            followers = list(self._followers.values())
            self._followers.clear()
        for follower in followers:
            follower.close()

    @property
    def following(self) -> list[str]:
        """The session ids of the desktops followed now."""
        with self._lock:
            return sorted(sid for (_, sid), f in self._followers.items() if not f.closed.is_set())

    # --- acting -----------------------------------------------------------------------------

    def refresh_menu(self, follower: _Follower, force: bool = False) -> None:
        """Rewrite a desktop's Astro Software entries when the host's desktop-app images changed."""
        try:
            images = self.apps.images(follower.desktop.host)
            key = tuple(sorted(f"{i.ref}@{i.digest}" for i in images))
            if force or key != follower.menu_key:
                self.apps.write_menu(follower.desktop)
                follower.menu_key = key
        except CanfarError as exc:
            log.info("could not write the menu of desktop %s: %s", follower.desktop.id, exc.message)

    def handle(self, desktop: Session, request: dict[str, str]) -> None:
        """Start the requested application and answer the desktop, whatever happens."""
        try:
            app = self.apps.launch(desktop, request["image"])
            answer = f"ok {app.id}"
            self.notice(f"Started {request['image']} on desktop {desktop.name} ({app.id})", desktop.id)
        except CanfarError as exc:
            answer = f"error: {exc.message}" + (f"; {exc.hint}" if exc.hint else "")
            self.notice(f"Could not start {request['image']} on desktop {desktop.name}: {exc.message}", desktop.id)
        try:
            self.apps.answer(desktop, request["id"], answer)
        except CanfarError as exc:
            log.info("could not answer desktop %s: %s", desktop.id, exc.message)

    def _housekeep(self, host: str, live: set[str]) -> None:
        try:
            self.apps.tidy(host, live)
        except CanfarError as exc:
            log.info("could not tidy the desktop applications on %s: %s", host, exc.message)
        with self._lock:
            followers = [f for (h, _), f in self._followers.items() if h == host]
        for follower in followers:
            self.refresh_menu(follower)
