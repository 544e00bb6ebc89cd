"""One pass over the hosts: list, stop what expired (listing again if anything stopped).

The CLI's `ps` and the API run it once; the session loop (watch.py) runs it on every refresh. Kept
apart from the loop so that a command that lists loads none of the loop's event handling.
"""

from __future__ import annotations

from .errors import CanfarError
from .log import get_logger
from .record import field, record
from .registry import HostStatus
from .service import SessionService
from .session import Session

log = get_logger(__name__)


@record
class Snapshot:
    sessions: list[Session]
    errors: dict[str, CanfarError]
    statuses: dict[str, HostStatus] = field(default_factory=dict)


def reconcile(service: SessionService, host: str | None = None, probe: bool = True) -> Snapshot:
    """One pass: list, stop what expired (listing again if anything stopped). The CLI's `ps` uses this."""
    def listing() -> tuple[list[Session], dict[str, CanfarError]]:
        if host:
            return service.sessions(host, probe), {}
        return service.list_all(probe)

    sessions, errors = listing()
    mine = [s for s in sessions if s.owner == service.settings.user]
    if service.ledger.warning:  # renewals may be lost: stopping at the launch-time expiry could stop a renewed one
        return Snapshot(mine, errors)
    try:
        if service.recover_gated(mine) + service.enforce_expiry(mine):
            sessions, errors = listing()
    except CanfarError as exc:
        log.warning("could not stop an expired session: %s", exc)
    return Snapshot([s for s in sessions if s.owner == service.settings.user], errors)
