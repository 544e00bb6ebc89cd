"""Readiness is probed from this machine: a session whose app starts answering is noticed within 100 ms.

The app inside the session starts only when the test says so (a file appears in its /scratch), so the
moment it first answers is measured by the test's own tight poller on the same port, independently of
the core's probe; the core's wait_ready must return within 100 ms of that moment.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

from canfar_desktop.core.gate import PROBE_PATH
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths

from ..helpers import http_get, wait_for

NOTICED_WITHIN_S = 0.1
GATED = ("sh", "-c", "while [ ! -e /scratch/go ]; do sleep 0.01; done; exec python3 /opt/contributed/app.py")


def first_answer(port: int, stop: threading.Event) -> float | None:
    """The monotonic time at which the app behind 127.0.0.1:port first answered HTTP 200 (as its gate
    reads it on the session's loopback: the app itself needs the secret), polled every millisecond or so."""
    while not stop.is_set():
        try:
            if http_get(port, PROBE_PATH)[0] == 200:
                return time.monotonic()
        except OSError:  # nothing listens inside yet (the engine's proxy accepts, then drops)
            pass
        time.sleep(0.001)
    return None


def delay_of_one_launch(service: SessionService, paths: AppPaths, image: str, name: str) -> float:
    """Seconds between the app first answering and wait_ready returning, for one gated launch."""
    s = service.launch(service.prepare_launch("contributed", image, name, command=GATED))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "the gated session running")
    s = service.get(s.id)
    assert s.host_port and s.state == State.LAUNCHING
    port = s.host_port
    stop = threading.Event()
    seen: dict[str, float | None] = {}
    noticed: dict[str, object] = {}

    def wait() -> None:
        ready = service.wait_ready(s, timeout=60)
        noticed["t"] = time.monotonic()
        noticed["state"] = ready.state

    poller = threading.Thread(target=lambda: seen.setdefault("t", first_answer(port, stop)), daemon=True)
    waiter = threading.Thread(target=wait, daemon=True)
    poller.start()
    waiter.start()
    (paths.scratch_dir / s.id / "go").touch()  # the app starts now
    waiter.join(60)
    stop.set()
    poller.join(10)
    assert "t" in noticed and noticed["state"] == State.RUNNING, "wait_ready did not return Running"
    answered = seen.get("t")
    assert answered is not None, "the test's poller never saw the app answer"
    service.delete(s)
    return float(noticed["t"]) - answered  # type: ignore[arg-type]


def test_a_ready_session_is_noticed_within_100_ms(make_service: Callable[..., SessionService],
                                                  session_images: dict[str, str], paths: AppPaths) -> None:
    service = make_service(session_limit=5)
    # three launches: a single timing on a shared machine could be luck either way
    delays = [delay_of_one_launch(service, paths, session_images["contributed"], f"gated-{i}") for i in range(3)]
    print(f"ready noticed after {', '.join(f'{d * 1000:.0f} ms' for d in delays)}")
    assert statistics.median(delays) < NOTICED_WITHIN_S, f"noticed {[round(d * 1000) for d in delays]} ms after ready"
    assert max(delays) < 3 * NOTICED_WITHIN_S, f"one launch noticed {max(delays) * 1000:.0f} ms after ready"


def test_a_lookup_inspects_and_probes_only_the_match(make_service: Callable[..., SessionService],
                                                     session_images: dict[str, str]) -> None:
    service = make_service(session_limit=5)
    made = [service.wait_ready(service.launch(service.prepare_launch("notebook", session_images["notebook"],
                                                                      f"look-{n}")), 120) for n in range(3)]
    assert all(s.state == State.RUNNING for s in made), [s.reason for s in made]
    host = service.host("local")
    probed: list[str] = []
    inspected: list[str] = []
    real_probe, real_inspect = service.lister.probe, host.inspect

    def probe(s: object) -> bool:
        probed.append(getattr(s, "id", ""))
        return real_probe(s)  # type: ignore[arg-type]

    def inspect(container_id: str) -> dict[str, object]:
        inspected.append(container_id)
        return real_inspect(container_id)

    service.lister.probe = probe  # type: ignore[method-assign]
    host.inspect = inspect  # type: ignore[method-assign]
    try:
        found = service.get("look-1")
    finally:
        del service.lister.probe, host.inspect
    assert found.id == made[1].id and found.state == State.RUNNING
    assert set(probed) <= {made[1].id}, f"probed others: {probed}"
    assert set(inspected) == {made[1].container_id}, f"inspected others: {inspected}"
