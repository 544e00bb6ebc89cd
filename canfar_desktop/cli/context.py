"""The CLI's composition root and what several verbs share: the service, the listing, asking to confirm."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core.errors import ValidationError
from ..core.formats import human_duration
from ..core.paths import AppPaths
from ..core.plain import to_plain

if TYPE_CHECKING:
    from ..core.service import SessionService
    from ..core.session import Session
    from ..core.settings import Settings


class Context:
    """Settings, paths and the service, made once per invocation and only when a verb needs them."""

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug
        self.paths = AppPaths.default()
        self._settings: Settings | None = None
        self._service: SessionService | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from ..core.settings import load_settings

            self._settings, warning = load_settings(self.paths)
            if warning:
                print(f"warning: {warning}", file=sys.stderr)
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value

    @property
    def service(self) -> SessionService:
        if self._service is None:
            from ..core.service import SessionService

            self._service = SessionService(self.settings, self.paths)
        return self._service


def now() -> datetime:
    return datetime.now(UTC)


def age(when: datetime | None, at: datetime) -> str:
    if when is None:
        return "?"
    return human_duration((at - when).total_seconds()) + " ago"


def session_json(s: Session, at: datetime, url: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": s.id, "name": s.name, "kind": s.kind, "status": s.state.value, "reason": s.reason,
        "image": s.image, "host": s.host, "container": s.container_name,
        "created": s.created.isoformat() if s.created else None,
        "expiry": s.expiry.isoformat() if s.expiry else None,
        "time_left_s": int(s.time_left(at) or 0) if s.expiry else None,
        "resources": to_plain(s.resources), "port": s.host_port,
        "exit_code": s.exit_code, "oom_killed": s.oom_killed,
        "oom_kills": [k.isoformat() for k in s.oom_kills],
    }
    if url is not None:
        data["url"] = url
    return data


def sessions(ctx: Context, host: str | None) -> list[Session]:
    """Every session of every host (or one), expired ones stopped; unreachable hosts are warned about."""
    from ..core.reconcile import reconcile

    snap = reconcile(ctx.service, host)
    if ctx.service.ledger.warning:
        print(f"warning: {ctx.service.ledger.warning}; expired sessions are not stopped until it is resolved",
              file=sys.stderr)
    if snap.errors and len(snap.errors) == len(ctx.service.host_names()):
        raise next(iter(snap.errors.values()))
    for name, err in snap.errors.items():
        print(f"warning: host {name} is unreachable: {err}", file=sys.stderr)
    return snap.sessions


def confirm(question: str, force: bool) -> bool:
    if force:
        return True
    if not sys.stdin.isatty():
        raise ValidationError("Cannot ask for confirmation without a terminal", "add -f to confirm")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def delete_confirmed(ctx: Context, chosen: list[Session], question: str, force: bool) -> int:
    if not confirm(question, force):
        print("Nothing deleted.")
        return 1
    for s in chosen:
        ctx.service.delete(s)
        print(f"{s.id} deleted")
    return 0


def has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
