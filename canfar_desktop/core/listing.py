"""Reading sessions: the engine's listing turned into sessions with derived states, and lookups.

A listing costs one call per host; only sessions not yet known ready are probed, and only stopped
ones are inspected. A container whose labels or state cannot be read becomes a Failed session
with the reason, never a failed listing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from . import oom
from .errors import CanfarError, NotFound, ValidationError
from .gate import gated_probe
from .host import SessionHost, platform_of
from .kinds import KINDS, LaunchContext, is_batch
from .ledger import Ledger
from .lifecycle import Facts, State, derive_state
from .platform import connection_counts
from .probe import http_ready
from .readiness import Readiness
from .record import record, replace
from .registry import HostRegistry
from .session import Session, from_summary, with_inspect
from .settings import Settings

PROBE_WORKERS = 16


@record
class HostListing:
    """The last listing of one host: while it is unreachable, its last known sessions stay here so the
    UI can show them as "host unreachable" instead of Terminated."""

    host: str
    sessions: tuple[Session, ...]
    reachable: bool
    error: CanfarError | None = None
    listed_at: datetime | None = None  # when `sessions` were read from the engine
    checked_at: datetime | None = None  # when the host was last tried


def newest_first(sessions: Iterable[Session]) -> list[Session]:
    """The order every view lists sessions in (the app's store, and its skeleton's first listing)."""
    return sorted(sessions, key=lambda s: s.created.timestamp() if s.created else 0, reverse=True)


def redact(text: str, s: Session) -> str:
    return text.replace(s.secret, "********") if s.secret else text


class SessionLister:
    def __init__(self, hosts: HostRegistry, ledger: Ledger, readiness: Readiness,
                 clock: Any) -> None:
        self.hosts = hosts
        self.ledger = ledger
        self.readiness = readiness
        self.clock = clock
        self.listings: dict[str, HostListing] = {}

    @property
    def settings(self) -> Settings:
        return self.hosts.settings

    # --- listing ------------------------------------------------------------------------------

    def sessions(self, host: str | None = None, probe: bool = True, all_users: bool = False) -> list[Session]:
        """This user's sessions on one host (everyone's with all_users), newest first, with derived states."""
        dh = self.hosts.get(host)
        now = self.clock()
        summaries = [s for s in dh.summaries() if all_users or _owner(s) == self.settings.user]
        renewals = self.ledger.entries(dh.name)
        parsed: list[tuple[Session, str]] = []
        result: list[Session] = []
        for summary in summaries:
            try:
                s = from_summary(dh.name, summary)
            except (ValueError, TypeError, KeyError) as exc:
                result.append(unreadable(dh.name, summary, exc))
                continue
            if s.id:
                parsed.append((s, str(summary.get("Status", ""))))
        known = {s.container_id for s, uptime in parsed
                 if s.status == "running" and self.readiness.known(s, renewals.get(s.id, {}), now, uptime)}
        if platform_of(dh) is not None:  # a platform says itself when a session runs: that is ready
            known |= {s.container_id for s, _ in parsed if s.status == "running"}
        if probe:  # probe every session not known to be ready at once, not one after another
            waiting = [s for s, _ in parsed if s.status == "running" and s.host_port is not None
                       and s.container_id not in known]
            if waiting:
                from concurrent.futures import ThreadPoolExecutor  # only when probing: it loads logging

                with ThreadPoolExecutor(max_workers=min(PROBE_WORKERS, len(waiting))) as pool:
                    answers = list(pool.map(self.probe_quietly, waiting))
                for s, ok in zip(waiting, answers, strict=True):
                    if ok:
                        self.mark_ready(dh, s)
                        known.add(s.container_id)
        # connections tell Suspended from Running, which only a session opened before can be
        counts = connection_counts() if any(s.status == "running" and renewals.get(s.id, {}).get("opened")
                                            for s, _ in parsed) else None
        for s, _ in parsed:
            try:
                result.append(self.complete(dh, s, renewals.get(s.id, {}), s.container_id in known, counts))
            except CanfarError as exc:
                result.append(s.with_state(State.FAILED, f"could not be read: {exc.message}"))
        result = newest_first(result)
        forwards = self.hosts.open_forwards
        if not all_users and forwards is not None:  # forwards of sessions that stopped or went away are closed
            forwards.keep_only(dh.name, {(s.container_id, s.host_port) for s in result if s.status == "running"})
        return result

    def list_all(self, probe: bool = True) -> tuple[list[Session], dict[str, CanfarError]]:
        """Every host's sessions; a host that fails is reported beside them and keeps its last listing."""
        sessions: list[Session] = []
        errors: dict[str, CanfarError] = {}
        for name in self.hosts.names():
            now = self.clock()
            try:
                listed = self.sessions(name, probe)
            except CanfarError as exc:
                errors[name] = exc
                last = self.listings.get(name)
                self.listings[name] = HostListing(name, last.sessions if last else (), False, exc,
                                                  last.listed_at if last else None, now)
                continue
            sessions.extend(listed)
            self.listings[name] = HostListing(name, tuple(listed), True, None, now, now)
        return sessions, errors

    def complete(self, dh: SessionHost, s: Session, entry: dict[str, object], ready: bool | None,
                 counts: dict[int, int] | None, inspected: bool = False) -> Session:
        """Derive the state of one listed (or inspected) session from everything known about it."""
        renewed = entry.get("expiry")
        if isinstance(renewed, str):
            try:
                s = replace(s, expiry=max(filter(None, [s.expiry, datetime.fromisoformat(renewed)])))
            except ValueError:
                pass
        kills = oom.from_entry(entry, s.container_id)
        if kills:
            s = replace(s, oom_kills=kills)
        last_log = ""
        if not inspected and (s.status != "running" or s.kind not in KINDS):
            try:
                s = with_inspect(s, dh.inspect(s.container_id))
            except NotFound:
                return s.with_state(State.TERMINATED, "deleted")
        if s.status in ("exited", "dead") and not s.oom_killed and s.exit_code not in (0, 143):
            last_log = self._last_log_line(dh, s)
        viewers: int | None = None
        if s.status == "running":
            if s.host_port is not None and counts is not None:
                try:  # counted on the local port: the forward's for remote hosts
                    viewers = counts.get(self.hosts.endpoint(s)[1], 0)
                except CanfarError:
                    viewers = None
        else:
            self.readiness.forget(s.container_id)
            ready = None
        facts = Facts(
            status=s.status,
            exit_code=s.exit_code,
            oom_killed=s.oom_killed,
            error=s.error,
            finished_at=s.finished_at,
            expiry=s.expiry,
            ready=ready,
            viewers=viewers,
            was_opened=bool(entry.get("opened")),
            memory_limit=s.memory_limit,
            last_log=last_log,
            created=s.created,
            launch_abandoned=s.status == "created" and self.ledger.held(f"launching-{s.id}") is False,
            batch=is_batch(s.kind),
        )
        state, reason = derive_state(facts, self.clock())
        return s.with_state(state, reason)

    def refresh(self, host: str, container_id: str, probe: bool = True) -> Session:
        """One session re-read with a single inspect (cheaper than listing the host)."""
        dh = self.hosts.get(host)
        data = dh.inspect(container_id)
        config = data.get("Config") or {}
        summary = {
            "Id": data.get("Id", container_id), "Names": [data.get("Name", "")], "Labels": config.get("Labels") or {},
            "State": (data.get("State") or {}).get("Status", ""), "Image": config.get("Image", ""), "Ports": [],
        }
        try:
            s = with_inspect(from_summary(dh.name, summary), data)
        except (ValueError, TypeError, KeyError) as exc:
            return unreadable(dh.name, summary, exc)
        entry = self.ledger.entry(dh.name, s.id)
        ready = s.status == "running" and (platform_of(dh) is not None or self.readiness.known(s, entry, self.clock()))
        if not ready and probe and s.status == "running" and s.host_port is not None and self.probe(s):
            self.mark_ready(dh, s)
            ready = True
        counts = connection_counts() if ready and entry.get("opened") else None  # only an opened one can be Suspended
        return self.complete(dh, s, entry, ready, counts, inspected=True)

    # --- lookups ------------------------------------------------------------------------------

    def get(self, ref: str, host: str | None = None, details: bool = True) -> Session:
        """Find a session by id, name or container name; only the match is inspected and probed."""
        candidates = self.sessions(host, probe=False) if host else self.list_all(probe=False)[0]
        s = match(ref, candidates)
        if s.id and s.container_id:
            try:
                s = self.refresh(s.host, s.container_id, probe=details)
            except NotFound:
                return s.with_state(State.TERMINATED, "deleted")
        return s

    # --- probing ------------------------------------------------------------------------------

    def probe(self, s: Session) -> bool:
        kind = KINDS[s.kind]
        addr, port = self.hosts.endpoint(s)
        ctx = LaunchContext(session_id=s.id, user=s.owner, secret="", threads=1)
        probe = gated_probe(kind.probe(ctx)) if s.gated else kind.probe(ctx)
        return http_ready(addr, port, probe, timeout=1.0)

    def probe_quietly(self, s: Session) -> bool:
        try:
            return self.probe(s)
        except CanfarError:
            return False

    def mark_ready(self, dh: SessionHost, s: Session) -> None:
        """Remember a session answered; from then on the engine restarts it after an engine restart.

        Before it is first ready a session has no restart policy, so a process that exits at
        start-up shows Failed with its reason instead of restarting in a loop.
        """
        started = s.started_at
        if started is None:
            try:
                started = with_inspect(s, dh.inspect(s.container_id)).started_at
            except CanfarError:
                started = None
        if self.readiness.mark(dh.name, s, started, self.clock()):
            dh.keep_running(s.container_id)

    def _last_log_line(self, dh: SessionHost, s: Session) -> str:
        try:
            text = dh.logs(s.container_id, tail=5).decode(errors="replace")
        except CanfarError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return redact(lines[-1], s)[:200] if lines else ""


def _owner(summary: dict[str, Any]) -> str:
    from .plan import L_OWNER

    labels = summary.get("Labels")
    return str(labels.get(L_OWNER, "")) if isinstance(labels, dict) else ""


def unreadable(host: str, summary: dict[str, Any], exc: Exception) -> Session:
    """A container carrying the session labels that cannot be read as a session: shown as Failed."""
    from .plan import L_ID, L_NAME, L_OWNER
    from .settings import Resources

    raw = summary.get("Labels")
    labels: dict[str, Any] = raw if isinstance(raw, dict) else {}
    names = summary.get("Names") or [""]
    cid = str(summary.get("Id", ""))
    return Session(
        id=str(labels.get(L_ID, "") or cid[:8]), name=str(labels.get(L_NAME, "")), kind="contributed",
        image=str(summary.get("Image", "")), owner=str(labels.get(L_OWNER, "")), host=host, container_id=cid,
        container_name=str(names[0]).lstrip("/"), created=None, expiry=None, resources=Resources(),
        status=str(summary.get("State", "")), state=State.FAILED,
        reason=f"its labels cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})",
    )


def match(ref: str, candidates: Iterable[Session]) -> Session:
    """The one session a person meant by an id, a container name or id, a name, or a prefix of an id."""
    pool = list(candidates)
    found = [s for s in pool if ref in (s.id, s.container_name, s.container_id)]
    if not found:
        found = [s for s in pool if s.name == ref]
    if not found and len(ref) >= 3:
        found = [s for s in pool if s.id.startswith(ref) or s.container_id.startswith(ref)]
    if not found:
        raise NotFound(f"No session {ref!r}", "list sessions with canfar-desktop ps -a")
    if len(found) > 1:
        ids = ", ".join(s.id for s in found)
        raise ValidationError(f"{ref!r} matches several sessions ({ids})", "use the session id")
    return found[0]
