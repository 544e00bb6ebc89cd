"""Launching from the app: every front door (the dialog, the tray's quick launch, a request from
another process) ends in `Launches.launch`, with a request the core validated (`prepare_launch`).

A launch shows as a pending card with its stages (pulling, creating, waiting for the app) until
the session is listed, then its tab opens by itself; a failure stays on the card with its reason.
A choice is remembered as the kind's next default only once its session is ready: an image that
failed is never offered first again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from ..core.errors import CanfarError
from ..core.kinds import KINDS, is_batch
from ..core.plan import LaunchRequest
from ..core.service import SessionService
from ..core.session import Session
from ..core.settings import LaunchChoice, Resources, save_settings
from . import recent_launches
from .cards import PendingLaunch
from .messages import MessageBar
from .store import SessionStore
from .tasks import Failed, Runner

READY_TIMEOUT_S = 300


def remember_choice(service: SessionService, req: LaunchRequest) -> None:
    """Keep a launch's image, resources and host as the kind's next default (once its session is ready)."""
    host = req.host or service.settings.default_host
    service.settings.last_choices[req.kind] = LaunchChoice(image=req.image, resources=req.resources, host=host)
    try:
        save_settings(service.paths, service.settings)
    except CanfarError:
        pass  # remembering choices is a convenience; the launch goes on


class Launches(QObject):
    """The launches in progress (`pending`) and the one way to start one."""

    changed = Signal()  # a pending launch appeared, moved on a stage, or went

    def __init__(self, service: SessionService, runner: Runner, store: SessionStore, messages: MessageBar,
                 open_session: Callable[[str, str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service, self.runner, self.store, self.messages = service, runner, store, messages
        self.open_session = open_session
        self.pending: dict[str, PendingLaunch] = {}
        self._count = 0

    def start(self, kind: str, image: str | None = None, name: str | None = None,
              resources: Resources | None = None, host: str | None = None, remember: bool = False,
              on_error: Failed | None = None, command: Sequence[str] = ()) -> None:
        """Have the core check what a person chose (on a worker), then launch it.

        A refusal goes to `on_error` (by default the message bar); `remember` keeps the choice as the
        kind's next default once the session is ready, as the launch dialog does.
        """
        def go(req: LaunchRequest) -> None:
            self.launch(req, remember)

        self.runner.run(self.service.prepare_launch, kind, image, name, resources, host, command=tuple(command),
                        on_done=go, on_error=on_error or self._report)

    def run_again(self, job: Session) -> None:
        """A finished batch job's Run again: the same command, image, resources and host, as a new job."""
        self.start(job.kind, job.image, job.name, job.resources, job.host, command=job.command)

    def _report(self, err: CanfarError) -> None:
        self.messages.show_error(err)

    def launch(self, req: LaunchRequest, remember: bool = False) -> PendingLaunch:
        """Run a validated launch; its card shows the stages, then the session's tab opens by itself.

        `remember`: once the session is ready, its choices become the kind's next default."""
        self._count += 1
        p = PendingLaunch(key=f"pending/{self._count}", kind=req.kind, name=req.name, image=req.image,
                          resources=req.resources, host=req.host or self.service.settings.default_host)
        self.pending[p.key] = p
        self.changed.emit()
        self.runner.run(self._run(p, req), on_done=lambda s: self._launched(p, s, req if remember else None, req),
                        on_error=lambda e: self._failed(p, e))
        return p

    def slots_used(self, host: str) -> int:
        """Active sessions on `host` that count against the limit, plus launches there not listed yet."""
        listed = [s for s in self.store.all() if s.host == host and s.active and not is_batch(s.kind)]
        ids = {s.id for s in listed}
        waiting = [p for p in self.pending.values() if p.host == host and p.error is None
                   and not is_batch(p.kind) and p.session_id not in ids]
        return len(listed) + len(waiting)

    async def _run(self, p: PendingLaunch, req: LaunchRequest) -> Session:
        loop = self.runner.loop

        def progress(stage: str, fraction: float | None) -> None:  # a worker thread
            loop.call_soon_threadsafe(self._progress, p.key, stage, fraction, "")

        s = await self.runner.in_thread(self.service.launch, req, progress)
        self._progress(p.key, "waiting for the app", None, s.id)
        return await self.runner.in_thread(self.service.wait_ready, s, READY_TIMEOUT_S, progress)

    def _progress(self, key: str, stage: str, fraction: float | None, session_id: str) -> None:
        p = self.pending.get(key)
        if p is None or self.runner.closed:
            return
        p.stage, p.fraction = stage, fraction
        if session_id:
            p.session_id = session_id
            self.store.refresh()
        self.changed.emit()

    def _launched(self, p: PendingLaunch, s: Session, remember: LaunchRequest | None = None,
                  launched: LaunchRequest | None = None) -> None:
        self.pending.pop(p.key, None)
        if remember is not None:
            remember_choice(self.service, remember)
        if launched is not None:
            recent_launches.remember(self.service, launched)  # heads the recent launches
        self.store.refresh()
        self.changed.emit()
        if is_batch(s.kind):  # nothing to open: its card follows it, its output is in Logs
            self.messages.show_message(f"{s.name} is running", "its card says when it ends; its output is in Logs",
                                       "info", about=f"{s.host}/{s.id}")
            return
        kind = KINDS[s.kind].title if s.kind in KINDS else s.kind
        self.messages.show_message(f"{s.name} is ready", f"the {kind} session opens in a tab", "info",
                                   about=f"{s.host}/{s.id}")
        self.open_session(s.id, s.host)

    def _failed(self, p: PendingLaunch, err: CanfarError) -> None:
        p.error = err
        if p.session_id:
            self.pending.pop(p.key, None)  # the session's own card shows Failed with its reason
        self.store.refresh()
        self.changed.emit()
        about = f"{p.host}/{p.session_id}" if p.session_id else p.key
        self.messages.show_error(err, title=f"{p.name} could not start: {err.message}", about=about)

    def dismiss(self, p: PendingLaunch | None) -> None:
        """A failed launch's Dismiss button (or its retry): the card goes, and its notice with it."""
        if p is not None and self.pending.pop(p.key, None) is not None:
            self.messages.forget(p.key)
            self.changed.emit()
