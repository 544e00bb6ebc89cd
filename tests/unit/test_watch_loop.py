"""The session loop's timing rules, on a stand-in service (the loop on a real engine is in
tests/integration/test_oom_inside.py and tests/gui/test_engine_restart.py): refresh requests coalesce,
a broken event stream is retried with a doubling back-off up to its cap, and the clean-up of interrupted
launches waits past the first listing, then runs at most once per CLEANUP_EVERY_S; a relay holds a
watcher's reports until its listener is attached."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from canfar_desktop.core.registry import HostStatus
from canfar_desktop.core.watch import (
    BACKOFF_MAX_S,
    CLEANUP_AFTER_START_S,
    CLEANUP_EVERY_S,
    Listener,
    Relay,
    Snapshot,
    Watcher,
)

from ..helpers import wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Host:
    """A host whose event stream breaks at once, every time."""

    name = "local"

    def __init__(self) -> None:
        self.opened = 0

    def events(self, since: float | None = None) -> Any:
        self.opened += 1
        raise ConnectionError("the engine went away")


class Service:
    def __init__(self) -> None:
        self.settings = SimpleNamespace(user="ada")
        self.ledger = SimpleNamespace(warning="")
        self.cleaned: list[str] = []
        self.listed = 0
        self.the_host = Host()

    def host_names(self) -> list[str]:
        return ["local"]

    def host(self, name: str) -> Host:
        return self.the_host

    def list_all(self, probe: bool = True) -> tuple[list[Any], dict[str, Any]]:
        self.listed += 1
        return [], {}

    def recover_gated(self, sessions: Any) -> list[Any]:
        return []

    def enforce_expiry(self, sessions: Any) -> list[Any]:
        return []

    def cleanup_orphans(self, host: str) -> list[str]:
        self.cleaned.append(host)
        return []

    def host_status(self, name: str) -> HostStatus:
        return HostStatus(name, True)

    def reset_host(self, name: str) -> None:
        pass

    def forget_readiness(self, container_id: str) -> None:
        pass


def test_refresh_requests_coalesce_the_earliest_wins() -> None:
    clock = Clock()
    w = Watcher(Service(), Listener(), clock=clock)  # type: ignore[arg-type]
    w.refresh(5.0)
    w.refresh(2.0)
    w.refresh(30.0)
    assert w._due == clock.now + 2.0
    w.refresh()
    assert w._due == clock.now, "a refresh asked for now is not held back by a later one"
    w.set_reconcile_interval(60.0)
    assert w._due == clock.now + 60.0


class Heard(Listener):
    """Notes each snapshot with how many clean-ups had run when it was reported."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.snapshots: list[int] = []

    def snapshot(self, snap: Snapshot) -> None:
        self.snapshots.append(len(self.service.cleaned))


def test_clean_up_waits_past_the_first_listing_then_runs_at_most_once_per_period() -> None:
    clock = Clock()
    service = Service()
    heard = Heard(service)
    w = Watcher(service, heard, clock=clock)  # type: ignore[arg-type]
    w._full()
    assert service.cleaned == [] and heard.snapshots == [0], "the first listing is reported, nothing cleaned"
    clock.now += CLEANUP_AFTER_START_S / 2
    w._full()
    assert service.cleaned == [], "not yet: the start's listing and the window come first"
    clock.now += CLEANUP_AFTER_START_S / 2 + 0.1
    w._full()
    assert service.cleaned == ["local"] and heard.snapshots == [0, 0, 0], "cleaned after the pass was reported"
    clock.now += CLEANUP_EVERY_S / 2
    w._full()
    assert service.cleaned == ["local"] and service.listed == 4, "every pass lists; one clean-up per period"
    clock.now += CLEANUP_EVERY_S / 2 + 1
    w._full()
    assert service.cleaned == ["local", "local"]


def test_a_relay_holds_reports_until_attached_then_replays_them_in_order_and_passes_the_rest_on() -> None:
    relay = Relay()
    first, second = Snapshot([], {}), Snapshot([], {"local": None})  # type: ignore[dict-item]
    relay.snapshot(first)
    relay.event("local", "die")  # type: ignore[arg-type]
    assert relay.first.is_set() and relay.first_snapshot is first
    heard: list[tuple[str, object]] = []

    class Recorder(Listener):
        def snapshot(self, snap: Snapshot) -> None:
            heard.append(("snapshot", snap))

        def event(self, host: str, event: Any) -> None:
            heard.append(("event", event))

        def session(self, s: Any) -> None:
            heard.append(("session", s))

    relay.attach(Recorder())
    assert heard == [("snapshot", first), ("event", "die")], "held reports replayed in order"
    relay.snapshot(second)
    relay.session("s1")  # type: ignore[arg-type]
    assert heard[2:] == [("snapshot", second), ("session", "s1")], "later ones are passed on at once"
    assert relay.first_snapshot is first


class Waits(threading.Event):
    """The follower's wake-up event: records each back-off instead of sleeping it."""

    def __init__(self, stop_after: int, watcher: Watcher) -> None:
        super().__init__()
        self.waited: list[float] = []
        self._stop_after = stop_after
        self._watcher = watcher

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(float(timeout or 0))
        if len(self.waited) >= self._stop_after:
            self._watcher._stop.set()
        return False


def test_a_broken_event_stream_is_retried_with_a_doubling_back_off_up_to_its_cap() -> None:
    service = Service()
    w = Watcher(service, Listener())  # type: ignore[arg-type]
    waits = Waits(10, w)
    w._wake["local"] = waits
    w._follow("local")
    wait_for(lambda: len(waits.waited) >= 10, 10, "ten retries of the event stream")
    assert waits.waited[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(waits.waited) == BACKOFF_MAX_S and waits.waited[-1] == BACKOFF_MAX_S
    assert service.the_host.opened == 10, "one attempt to open the stream per wait"
    assert w._due is not None, "each break asks for a listing: the engine may have gone away"


def test_launching_sessions_are_probed_less_often_as_they_age() -> None:
    """A launch is seen within 0.3 s while young; one silent for long costs a probe every few seconds."""
    from datetime import UTC, datetime, timedelta

    clock = Clock()
    w = Watcher(Service(), Listener(), clock=clock)  # type: ignore[arg-type]

    def every(*ages_s: float) -> float:
        now = datetime.now(UTC)
        w._launching = [SimpleNamespace(created=now - timedelta(seconds=a)) for a in ages_s]  # type: ignore[misc]
        w._schedule_probe()
        return round(w._probe_due - clock.now, 3)

    assert every(2) == 0.3
    assert every(30) == 1.0
    assert every(600) == 3.0
    assert every(600, 5) == 0.3, "the youngest launch sets the pace"


def test_another_users_session_event_asks_for_no_listing() -> None:
    """Events of every session on the engine come through; only the user's own (or an unlabelled one's)
    make the loop list again, since another user's sessions are never in the listing."""
    from canfar_desktop.core.plan import L_ID, L_OWNER

    clock = Clock()
    service = Service()
    w = Watcher(service, Listener(), clock=clock)  # type: ignore[arg-type]
    due: list[float | None] = []

    def raw(owner: str | None) -> dict[str, Any]:
        labels = {L_ID: "s1"} | ({L_OWNER: owner} if owner is not None else {})
        return {"Type": "container", "Action": "start", "Actor": {"ID": "c" * 64, "Attributes": labels},
                "time": 1}

    def stream() -> Any:
        for owner in ("grace", "ada", None):
            yield raw(owner)
            due.append(w._due)  # the follower handled the event before asking for the next
            w._due = None
        w._stop.set()

    service.the_host.events = lambda since=None: stream()  # type: ignore[method-assign]
    w._follow_loop("local")
    assert due[0] is None, "another user's start: no listing"
    assert due[1] is not None and due[2] is not None, "the user's own, or one whose owner is not known: a listing soon"
