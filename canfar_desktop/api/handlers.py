"""The Skaha v1 endpoints as plain blocking functions over SessionService (the HTTP glue is in app.py).

Every call goes through the same facade as the app and the CLI: listings are the CLI's `reconcile`
(so expired sessions are stopped here too), launches are `prepare_launch` + `launch`, and the
active-session limit, expiry and states are the core's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core.errors import CanfarError, LimitError, NotFound, StateError
from ..core.kinds import is_batch
from ..core.lifecycle import State
from ..core.record import record
from ..core.service import SessionService
from ..core.session import Session
from ..core.validation import CANFAR_REGISTRY, IMAGE_RE
from .params import ApiError, Params, bad, first, parse_create, type_filter
from .translate import (
    Usage,
    context_json,
    events_text,
    images_json,
    local_image,
    platform_status,
    public_json,
    session_json,
    stats_json,
    status_filter,
)

LOG_LINES = 100_000  # `view=logs` answers the whole output up to this many lines
SAMPLE_WORKERS = 8


@record
class Reply:
    body: str
    content_type: str = "application/json"
    status: int = 200


def json_reply(data: Any) -> Reply:
    return Reply(json.dumps(data, indent=2) + "\n")


def text_reply(text: str, status: int = 200) -> Reply:
    return Reply(text, "text/plain; charset=utf-8", status)


Sampler = Callable[[SessionService, Session], Any]  # core.monitor.sample_once, replaceable in unit tests


class SkahaApi:
    def __init__(self, service: SessionService, sampler: Sampler | None = None) -> None:
        self.service = service
        if sampler is None:
            from ..core.monitor import sample_once

            sampler = sample_once
        self._sampler = sampler

    # --- /session -----------------------------------------------------------------------------

    def list_sessions(self, params: Params) -> Reply:
        view = (first(params, "view") or "").strip().lower()
        if view == "stats":
            return json_reply(self._stats())
        kind = type_filter(first(params, "type"))
        wanted = status_filter(first(params, "status"))
        if view == "all":
            everyone = self._everyone()
            return json_reply([public_json(s) for s in everyone if _selected(s, kind, wanted)])
        sessions = [s for s in self._mine() if _selected(s, kind, wanted)]
        if view == "interactive":
            sessions = [s for s in sessions if not is_batch(s.kind)]
        return json_reply(self._describe(sessions))

    def create(self, params: Params) -> Reply:
        service = self.service
        info = service.host_info()
        args = parse_create(params, info, service.settings.default_resources)
        image = local_image(args.image, [i.ref for i in service.images()])
        req = service.prepare_launch(args.kind, image, args.name, args.resources, command=args.command, env=args.env)
        try:
            session = service.launch(req)
        except LimitError as exc:
            raise bad(exc.message.rstrip(".") + ".") from None  # the platform's sentence ends with a period
        return text_reply(session.id + "\n")

    # --- /session/{id} ------------------------------------------------------------------------

    def session(self, session_id: str, params: Params) -> Reply:
        s = self._find(session_id)
        view = (first(params, "view") or "").strip().lower()
        if view == "logs":
            lines = self.service.tail_logs(s, LOG_LINES)
            return text_reply("".join(line + "\n" for line in lines))
        if view == "events":
            return text_reply(events_text(self.service.events_of(s)))
        return json_reply(self._describe([s])[0])

    def change(self, session_id: str, params: Params) -> Reply:
        action = (first(params, "action") or "").strip()
        if not action:
            raise bad("Cannot modify an existing session")
        if action.lower() != "renew":
            raise bad(f"unrecognized action: {action}")
        s = self._find(session_id)
        try:
            self.service.renew(s.id, s.host)
        except StateError:
            raise bad(f"No active job for user {s.owner} with session {s.id}") from None
        return text_reply("")

    def delete(self, session_id: str) -> Reply:
        s = self._find(session_id)
        self.service.delete(s)
        return text_reply("")

    # --- images and capacity ------------------------------------------------------------------

    def images(self, params: Params) -> Reply:
        return json_reply(images_json(self.service.images(), type_filter(first(params, "type"))))

    def context(self) -> Reply:
        settings = self.service.settings
        return json_reply(context_json(self.service.host_info(), settings.default_resources, settings.session_limit))

    def repository(self) -> Reply:
        found = {CANFAR_REGISTRY}
        for image in self.service.images():
            head, sep, _ = image.ref.partition("/")
            match = IMAGE_RE.fullmatch(image.ref)
            if sep and match and ("." in head or ":" in head or head == "localhost"):
                found.add(head)
        return json_reply([CANFAR_REGISTRY, *sorted(found - {CANFAR_REGISTRY})])

    # --- helpers ------------------------------------------------------------------------------

    def _mine(self) -> list[Session]:
        from ..core.reconcile import reconcile

        snap = reconcile(self.service)
        if snap.errors and len(snap.errors) == len(self.service.host_names()):
            raise next(iter(snap.errors.values()))
        return snap.sessions

    def _everyone(self) -> list[Session]:
        found: list[Session] = []
        errors: list[CanfarError] = []
        for name in self.service.host_names():
            try:
                found += self.service.sessions(name, probe=False, all_users=True)
            except CanfarError as exc:
                errors.append(exc)
        if errors and not found and len(errors) == len(self.service.host_names()):
            raise errors[0]
        return found

    def _find(self, session_id: str) -> Session:
        """The user's session with exactly this id (never a name or a prefix, which CANFAR does not take)."""
        try:
            s = self.service.get(session_id)
        except NotFound:
            s = None
        if s is None or s.id != session_id or s.owner != self.service.settings.user:
            raise ApiError(404, f"Session not found: {session_id}")
        return s

    def _describe(self, sessions: list[Session]) -> list[dict[str, Any]]:
        """Sessions as JSON with their tokenised URL (Running ones) and what they use now (running ones)."""
        settings = self.service.settings

        def one(s: Session) -> dict[str, Any]:
            url = None
            if s.state in (State.RUNNING, State.SUSPENDED) and not is_batch(s.kind):
                try:  # the listing has no secrets: one inspect reads this session's
                    full = s if s.secret else self.service.refresh(s.host, s.container_id, probe=False)
                    url = self.service.open_url(full)
                except CanfarError:
                    url = None
            usage = None
            if s.status == "running":
                sample = self._sampler(self.service, s)
                if sample is not None:
                    usage = Usage(cpu_cores=sample.cpu_percent / 100.0, memory_bytes=sample.memory_bytes)
            return session_json(s, settings.uid, settings.gid, url, usage)

        if len(sessions) <= 1:
            return [one(s) for s in sessions]
        with ThreadPoolExecutor(max_workers=min(SAMPLE_WORKERS, len(sessions))) as pool:
            return list(pool.map(one, sessions))  # each CPU reading takes the engine about a second

    def _stats(self) -> dict[str, Any]:
        infos = []
        for name in self.service.host_names():
            try:
                infos.append(self.service.host_info(name))
            except CanfarError:
                continue
        if not infos:
            raise ApiError(503, "No Docker host answers; start the engine and retry")
        return stats_json(infos, self._mine())


def _selected(s: Session, kind: str | None, status: str | None) -> bool:
    return (kind is None or s.kind == kind) and (status is None or platform_status(s).lower() == status.lower())
