"""The stats stream of a real busy session: CPU points arrive, one stream is shared, and it stops."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

from canfar_desktop.core.monitor import MonitorHub, Point
from canfar_desktop.core.record import replace
from canfar_desktop.core.report import support_report
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources

from ..helpers import wait_for


def busy_session(service: SessionService, image: str, name: str = "busy") -> Session:
    """A contributed session spinning one Python loop under a fixed half core."""
    req = service.prepare_launch("contributed", image, name, Resources(mode="fixed", cores=0.5, ram_gb=1))
    s = service.launch(replace(req, command=("python3", "-c", "while True: pass")))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "the busy session running")
    return service.get(s.id)


def stats_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("canfar-stats-")]


def test_stream_gives_cpu_points_shared_and_stops(make_service: Callable[..., SessionService],
                                                  session_images: dict[str, str]) -> None:
    service = make_service()
    s = busy_session(service, session_images["contributed"])
    key = (s.host, s.id)
    hub = MonitorHub(service)
    seen: list[Point] = []
    hub.add_listener(lambda k, p: k == key and seen.append(p))
    hub.want("cards", [s])
    hub.want("panel", [s])
    assert hub.streaming() == {key}
    # the card's glances gave way to the panel's stream: one reader is left
    assert wait_for(lambda: len([t for t in stats_threads() if t.name.endswith(s.id)]) == 1, 10,
                    "one stream per session")
    assert wait_for(lambda: sum(p.cpu_percent > 35 for p in hub.history(key)) >= 3, 30, "three busy CPU points")
    cpu = [p.cpu_percent for p in hub.history(key)]
    assert max(cpu) < 70, f"the 0.5 core limit holds: {cpu}"  # one busy loop held at half a core
    last = hub.latest(key)
    assert last is not None and 0 < last.memory_bytes < last.limit_bytes <= 2**30 and last.pids >= 1
    assert seen and seen[-1] in hub.history(key)

    hub.want("panel", [])
    assert hub.streaming() == {key}, "the card still shows it"
    hub.pause(True)
    assert hub.streaming() == set()
    assert wait_for(lambda: not hub.threads() and not stats_threads(), 10, "the reader thread to end")
    hub.pause(False)
    assert wait_for(lambda: hub.streaming() == {key}, 10, "the stream resumed")
    hub.close()
    assert wait_for(lambda: not stats_threads(), 10, "no reader left after close")


def test_stream_of_a_session_that_stops_ends_by_itself(make_service: Callable[..., SessionService],
                                                       session_images: dict[str, str]) -> None:
    service = make_service()
    s = busy_session(service, session_images["contributed"], "stops")
    hub = MonitorHub(service)
    hub.want("panel", [s])
    assert wait_for(lambda: hub.latest((s.host, s.id)) is not None, 20, "a first point")
    service.host(s.host).stop(s.container_id, timeout=1)
    assert wait_for(lambda: not stats_threads(), 20, "the reader to notice the container stopped")
    assert hub.streaming() == set()


def test_support_report_of_a_real_session_hides_its_secret(make_service: Callable[..., SessionService],
                                                           session_images: dict[str, str]) -> None:
    """A notebook session (it has a secret) whose process prints that secret in its logs."""
    service = make_service()
    req = service.prepare_launch("notebook", session_images["notebook"], "report")
    s = service.launch(replace(req, command=("sh", "-c", 'echo "serving /lab?token=$JUPYTER_TOKEN"; '
                                             'echo "$JUPYTER_TOKEN"; exec sleep 600')))
    s = service.get(s.id)
    assert s.secret, "notebook sessions get a secret"
    assert wait_for(lambda: s.secret.encode() in service.host(s.host).logs(s.container_id, tail=5), 20,
                    "the secret in the raw logs")
    text = support_report(service, s)
    assert s.secret not in text
    assert f"id:         {s.id}" in text and session_images["notebook"] in text
    assert "== Engine events" in text and " start" in text and "== Host" in text
    assert "serving /lab?token=********" in text

    cli = [sys.executable, "-m", "canfar_desktop"]
    for key, value in (("user", service.settings.user), ("arc_root", service.settings.arc_root)):
        subprocess.run([*cli, "config", "set", key, value], check=True, capture_output=True)
    done = subprocess.run([*cli, "doctor", s.id, "--report"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert s.secret not in done.stdout and f"id:         {s.id}" in done.stdout
    assert "serving /lab?token=********" in done.stdout and "== Diagnosis" in done.stdout
