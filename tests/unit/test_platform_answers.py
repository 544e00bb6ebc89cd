"""The platform's answers (Skaha v1) read by the platform host, and the states the service derives from them.

The shapes are SKAHA-API.md's and those older servers sent: `"<none>"` values, Kubernetes quantities
(`"16G"`, `"16Gi"`, `"500m"`), decimal-GB strings, Succeeded/Error statuses, fields left out. The
listing itself is the service's own code: only the HTTP client under the host is replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from canfar_desktop.core.backends.skaha import SkahaHost
from canfar_desktop.core.backends.skaha_shapes import (
    capacity_text,
    cores_of,
    gb_of,
    memory_bytes,
    parse_context,
    parse_events,
    parse_images,
    parse_session,
    parse_sessions,
    stats_document,
    url_secret,
)
from canfar_desktop.core.errors import NotFound, StateError, ValidationError
from canfar_desktop.core.events import parse_event
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.monitor import parse_stats
from canfar_desktop.core.plan import LaunchRequest
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, HostConfig, Resources, Settings

NOW = datetime.now(UTC).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


CURRENT = {  # a fixed notebook as current servers list it (SKAHA-API.md)
    "id": "abc12345", "userid": "jdoe", "runAsUID": "1001", "runAsGID": "1001", "supplementalGroups": [4000],
    "appid": "<none>", "image": "images.canfar.net/skaha/astroml:latest", "type": "notebook", "status": "Running",
    "name": "galaxy", "startTime": iso(NOW - timedelta(hours=1)), "expiryTime": iso(NOW + timedelta(days=3)),
    "connectURL": "https://ws-uv.canfar.net/session/notebook/abc12345/lab/tree/arc/home/jdoe?token=s3cr3tt0ken42",
    "requestedRAM": "8.59", "requestedCPUCores": "2", "requestedGPUCores": "0", "ramInUse": "1.07",
    "gpuRAMInUse": "<none>", "cpuCoresInUse": "0.250", "gpuUtilization": "<none>", "isFixedResources": True,
}
OLDER = {  # an older server: Kubernetes quantities, "<none>" for what it did not know, no flexible flag
    "id": "old00001", "userid": "jdoe", "image": "images.canfar.net/skaha/desktop:1.0", "type": "desktop",
    "status": "Succeeded", "name": "<none>", "startTime": "<none>", "expiryTime": "<none>", "connectURL": "<none>",
    "requestedRAM": "16G", "requestedCPUCores": "500m", "requestedGPUCores": "<none>", "ramInUse": "1234Mi",
    "cpuCoresInUse": "15m",
}
SPARSE = {"id": "min00001", "type": "headless", "status": "Error"}  # nearly every field left out


# --- reading single answers ---------------------------------------------------------------------

def test_quantities_in_every_form() -> None:
    assert cores_of("2") == 2 and cores_of("0.250") == 0.25 and cores_of("500m") == 0.5
    assert cores_of("<none>") is None and cores_of(None) is None and cores_of("") is None and cores_of("lots") is None
    assert memory_bytes("16Gi") == memory_bytes("16G") == 16 * 1024**3  # older servers dropped the "i"
    assert memory_bytes("1234Mi") == 1234 * 1024**2 and memory_bytes("512M") == 512 * 1024**2
    assert memory_bytes("2.15") == 2_150_000_000  # the listing's decimal GB
    assert memory_bytes("17179869184") == 16 * 1024**3  # a bare Kubernetes quantity is bytes
    assert memory_bytes("<none>") is None and memory_bytes("sixteen") is None
    assert gb_of("2.15") == 2.0 and gb_of("16G") == 16.0 and gb_of("none") is None


def test_a_current_session() -> None:
    s = parse_session(CURRENT)
    assert (s.id, s.name, s.kind, s.status, s.userid) == ("abc12345", "galaxy", "notebook", "Running", "jdoe")
    assert s.start == NOW - timedelta(hours=1) and s.expiry == NOW + timedelta(days=3)
    assert s.fixed and s.cores == 2 and s.ram_gb == 8.0 and s.gpus == 0
    assert s.cores_in_use == 0.25 and s.ram_in_use == 1_070_000_000 and s.running


def test_older_and_sparse_sessions() -> None:
    old = parse_session(OLDER)
    assert old.name == "" and old.start is None and old.expiry is None and old.connect_url == ""
    assert old.fixed and old.cores == 0.5 and old.ram_gb == 16.0 and old.gpus == 0
    assert old.ram_in_use == 1234 * 1024**2 and old.cores_in_use == 0.015 and old.word == "succeeded"
    sparse = parse_session(SPARSE)
    assert sparse.kind == "headless" and not sparse.fixed and sparse.cores is None and sparse.image == ""
    with pytest.raises(ValueError, match="without an id"):
        parse_session({"name": "x", "id": "<none>"})
    # A list keeps what it can read: no id is skipped, an app inside a desktop belongs to the desktop.
    listed = parse_sessions([CURRENT, {"name": "no id"}, {**SPARSE, "id": "app00001", "type": "desktop-app"}, "junk"])
    assert [s.id for s in listed] == ["abc12345"]
    with pytest.raises(ValueError):
        parse_sessions({"not": "a list"})


def test_the_secret_a_connect_url_carries() -> None:
    assert url_secret(CURRENT["connectURL"]) == "s3cr3tt0ken42"
    desktop = "http://127.0.0.1:4000/vnc.html?autoconnect=1&path=websockify%3Ftoken%3Dabcdef0123456789&password=x"
    assert url_secret(desktop) == "abcdef0123456789"
    assert url_secret("https://ws-uv.canfar.net/session/desktop/abc12345/connect") == ""


def test_events_table_in_its_forms() -> None:
    text = (
        "TYPE      REASON            MESSAGE                                              FIRST-TIME             LAST-TIME\n"
        f"Normal    Scheduled         Successfully assigned skaha/x to node7               {iso(NOW)}   {iso(NOW)}\n"
        f"Warning   FailedScheduling  0/12 nodes are available:  3 Insufficient memory     <none>                 {iso(NOW)}\n"
        "Normal    Pulling           Pulling image \"images.canfar.net/skaha/astroml\"\n"
        f"Normal    Started           container start   {iso(NOW + timedelta(seconds=9))}   {iso(NOW + timedelta(seconds=9))}\n"
        f"Warning   OOMKilled         the kernel killed a process   {iso(NOW + timedelta(seconds=20))}   <none>\n"
    )
    raw = parse_events(text, "abc12345", NOW - timedelta(minutes=5))
    events = [parse_event(r) for r in raw]
    assert [e.action for e in events if e] == ["Scheduled", "FailedScheduling", "Pulling", "start", "oom"]
    assert all(e is not None and e.session_id == e.container_id == "abc12345" for e in events)
    scheduled, failed, pulling, started, oom = events  # type: ignore[misc]
    assert scheduled.detail == "Successfully assigned skaha/x to node7" and scheduled.when == NOW
    assert failed.detail == "warning: 0/12 nodes are available: 3 Insufficient memory"
    assert pulling.when == NOW, "a row without times keeps the time of the one before"
    assert started.when == NOW + timedelta(seconds=9) and oom.when == NOW + timedelta(seconds=20)
    assert parse_events("<none>\n", "abc12345", NOW) == [] and parse_events("", "x", NOW) == []


def test_context_images_and_load_in_current_and_older_forms() -> None:
    current = parse_context({"cores": {"default": 2, "defaultRequest": 1, "defaultLimit": 16, "options": [1, 2, 4, 8, 16]},
                             "memoryGB": {"default": 8, "options": ["1", "2", "4", "8", "16", "32"]},
                             "gpus": {"options": [0, 1, 2]}, "maxInteractiveSessions": 3})
    assert current.cores == (1, 2, 4, 8, 16) and current.ram_gb == (1, 2, 4, 8, 16, 32) and current.gpus == (1, 2)
    assert current.default_cores == 2 and current.max_sessions == 3
    older = parse_context({"defaultCores": 2, "availableCores": [1, 2, 4], "defaultRAM": 16,
                           "availableRAM": [1, 2, 4, 8, 16], "availableGPUs": [0]})
    assert older.cores == (1, 2, 4) and older.ram_gb[-1] == 16 and older.gpus == () and older.max_sessions is None
    images = parse_images([{"id": "images.canfar.net/skaha/astroml:latest", "types": ["notebook", "headless"],
                            "digest": "sha256:aa"}, "images.canfar.net/skaha/plain:1", {"types": ["notebook"]}])
    assert [(i.ref, sorted(i.kinds), i.digest) for i in images] == [
        ("images.canfar.net/skaha/astroml:latest", ["headless", "notebook"], "sha256:aa"),
        ("images.canfar.net/skaha/plain:1", [], "")]
    load = capacity_text({"cores": {"requestedCPUCores": 120, "cpuCoresAvailable": 1024, "maxCPUCores": {}},
                          "ram": {"requestedRAM": "480G", "ramAvailable": "4096G"}})
    assert load == "sessions request 120 of 1024 cores and 480 of 4096 GB of memory"
    assert capacity_text({"instances": {}}) == "" and capacity_text([]) == ""


def test_usage_becomes_stats_readings() -> None:
    s = parse_session(CURRENT)
    first, counters = stats_document(s, None, 1000.0)
    assert parse_stats(first).cpu_percent == pytest.approx(25.0)  # 0.25 cores, one reading alone
    second, _ = stats_document(s, counters, 1010.0)
    assert parse_stats(second, first).cpu_percent == pytest.approx(25.0)  # and against the one before
    sample = parse_stats(second)
    assert sample.memory_bytes == 1_070_000_000 and sample.limit_bytes == 8 * 1024**3
    assert stats_document(parse_session(OLDER), None, 1000.0) == ({}, None), "an ended session measures nothing"


# --- the service over a platform host -----------------------------------------------------------

class FakeClient:
    """The HTTP client under the host, answering from a table (the host's own parsing stays real)."""

    def __init__(self, sessions: list[dict[str, Any]]) -> None:
        self.sessions = {s["id"]: s for s in sessions}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.rtt_ms = 12.0
        self.known_credential = None

    def forget(self) -> None:
        pass

    def json(self, path: str, params: Any = None) -> Any:
        self.calls.append(("GET", path, dict(params or {})))
        if path == "/session" and not params:
            return list(self.sessions.values())
        if path == "/context":
            return {"cores": {"options": [1, 2, 4, 8]}, "memoryGB": {"options": [1, 2, 4, 8, 16]}, "gpus": {"options": []},
                    "maxInteractiveSessions": 3}
        if path == "/image":
            return [{"id": "images.canfar.net/skaha/astroml:latest", "types": ["notebook", "headless"]}]
        if path.startswith("/session/"):
            sid = path.split("/")[2]
            if sid not in self.sessions:
                raise NotFound(f"Session not found: {sid}")
            return self.sessions[sid]
        return {}

    def request(self, method: str, path: str, params: Any = None, accept: str = "") -> bytes:
        self.calls.append((method, path, dict(params or {})))
        if method == "POST" and path == "/session":
            self.sessions["new00001"] = {"id": "new00001", "type": params["type"], "status": "Pending",
                                         "name": params["name"], "image": params["image"], "startTime": iso(NOW)}
            return b"new00001\n"
        if method == "DELETE":
            self.sessions.pop(path.split("/")[2], None)
            return b""
        if params and params.get("view") == "logs":
            return b"one\ntwo\nthree\n"
        return b""


def service_over(sessions: list[dict[str, Any]], tmp_path: Any) -> tuple[SessionService, FakeClient]:
    cfg = HostConfig(name="canfar", url="skaha+https://ws-uv.canfar.net/skaha")
    settings = Settings(user="me", hosts=[cfg], default_host="canfar", arc_root=str(tmp_path / "arc"))
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "s")
    host = SkahaHost(cfg, "me", paths)
    client = FakeClient(sessions)
    host.client = client  # type: ignore[assignment]
    return SessionService(settings, paths, hosts={"canfar": host}), client  # type: ignore[dict-item]


def test_platform_statuses_become_our_states(tmp_path: Any) -> None:
    past = NOW - timedelta(hours=2)
    answers = [
        CURRENT,
        {**CURRENT, "id": "pend0001", "status": "Pending", "name": "starting"},
        {**CURRENT, "id": "term0001", "status": "Terminating", "name": "going"},
        {**OLDER, "name": "done"},
        {**SPARSE, "name": "broken"},
        {**CURRENT, "id": "fail0001", "status": "Failed (BackoffLimitExceeded)", "name": "crashed"},
        {**CURRENT, "id": "exp00001", "status": "Failed", "name": "old", "expiryTime": iso(past)},
        {**CURRENT, "id": "exp00002", "status": "Failed (DeadlineExceeded)", "name": "deadline"},
        {**CURRENT, "id": "unk00001", "status": "Unknown", "name": "lost"},
        {**CURRENT, "id": "job00001", "type": "headless", "status": "Completed", "name": "job"},
    ]
    service, client = service_over(answers, tmp_path)
    found = {s.name or s.id: s for s in service.sessions("canfar")}
    assert found["galaxy"].state == State.RUNNING and found["galaxy"].owner == "me"
    assert found["galaxy"].resources == Resources(mode="fixed", cores=2, ram_gb=8.0, gpus=0)
    assert found["starting"].state == State.LAUNCHING and found["starting"].reason == "waiting for the platform to start it"
    assert found["going"].state == State.TERMINATING
    assert found["done"].state == State.TERMINATED and found["job"].state == State.TERMINATED
    assert found["broken"].state == State.FAILED and "the platform reports it failed" in found["broken"].reason
    assert found["crashed"].state == State.FAILED and "BackoffLimitExceeded" in found["crashed"].reason
    assert found["old"].state == State.EXPIRED and found["deadline"].state == State.EXPIRED
    assert found["lost"].state == State.LAUNCHING
    # the listing is one request; the failed sessions' last log lines come once each and are kept
    listings = [c for c in client.calls if c[1] == "/session" and not c[2]]
    assert len(listings) == 1
    service.sessions("canfar")
    assert len([c for c in client.calls if c[1] == "/session" and not c[2]]) == 1, "a fresh listing is reused"
    logs = [c for c in client.calls if c[2].get("view") == "logs"]
    service.host("canfar").reset()
    service.sessions("canfar")
    assert len([c for c in client.calls if c[2].get("view") == "logs"]) == len(logs), "an ended session's log is kept"


def test_open_renew_delete_and_launch_go_to_the_platform(tmp_path: Any) -> None:
    service, client = service_over([CURRENT], tmp_path)
    s = service.get("galaxy")
    assert service.open_url(s) == CURRENT["connectURL"]
    assert s.secret == "s3cr3tt0ken42" and "s3cr3tt0ken42" not in service.redact(CURRENT["connectURL"], s)
    service.renew(s.id)
    assert ("POST", "/session/abc12345", {"action": "renew"}) in client.calls
    assert service.tail_logs(s, 2) == ["two", "three"]
    req = service.prepare_launch("notebook", None, "fresh", Resources(mode="fixed", cores=4, ram_gb=16), host="canfar")
    assert req.image == "images.canfar.net/skaha/astroml:latest", "the kind's image from the platform's list"
    assert service.dry_run(req) == {"host": "canfar", "request": {"name": "fresh", "image": req.image,
                                                                  "type": "notebook", "cores": 4, "ram": 16}}
    launched = service.launch(req)
    assert launched.id == "new00001" and launched.state == State.LAUNCHING
    service.delete(launched)
    assert ("DELETE", "/session/new00001", {}) in client.calls
    with pytest.raises(StateError, match="cannot be started again"):
        service.host("canfar").start("abc12345")


@pytest.mark.parametrize(("resources", "port", "command", "problem"), [
    (Resources(mode="fixed", cores=3, ram_gb=4), None, (), "does not offer 3 cores"),
    (Resources(mode="fixed", cores=2, ram_gb=3.5), None, (), "does not offer 3.5 memory"),
    (Resources(gpus=1), None, (), r"GPU\(s\) were asked for but this host has 0"),
    (Resources(), 8080, (), "a port cannot be set"),
])
def test_what_the_platform_would_refuse_is_said_first(tmp_path: Any, resources: Resources, port: int | None,
                                                      command: tuple[str, ...], problem: str) -> None:
    service, client = service_over([], tmp_path)
    with pytest.raises(ValidationError, match=problem):
        service.prepare_launch("notebook", "images.canfar.net/skaha/astroml:latest", "x", resources, host="canfar",
                               port=port)
    assert not [c for c in client.calls if c[0] == "POST"]


def test_commands_are_for_headless_jobs_and_split_on_spaces(tmp_path: Any) -> None:
    service, _ = service_over([], tmp_path)
    host = service.host("canfar")
    with pytest.raises(ValidationError, match="start their own application"):
        host.check(LaunchRequest("notebook", "i:1", "n", command=("python3",)))  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="splits a job's arguments on spaces"):
        host.check(LaunchRequest("headless", "i:1", "n", command=("python3", "-c", "print(6 * 7)")))  # type: ignore[attr-defined]
    job = LaunchRequest("headless", "i:1", "n", env={"A": "1"}, command=("python3", "/arc/home/me/fit.py", "--fast"))
    assert host.params(job) == {"name": "n", "image": "i:1", "type": "headless", "env": ["A=1"],  # type: ignore[attr-defined]
                                "cmd": "python3", "args": "/arc/home/me/fit.py --fast"}


def test_the_session_loop_waits_quietly_on_a_platform_with_no_event_stream(tmp_path: Any) -> None:
    """The watcher's follower of a platform reads a stream that says nothing until it is closed: it is
    opened once and does not reconnect in a loop; stopping the watcher ends it at once."""
    import threading
    import time

    from canfar_desktop.core.watch import Listener, Watcher

    service, client = service_over([CURRENT], tmp_path)
    host = service.host("canfar")
    opened: list[float] = []
    real_events = host.events

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(time.monotonic())
        return real_events(*args, **kwargs)

    host.events = counting  # type: ignore[method-assign]
    seen = threading.Event()

    class Heard(Listener):
        def snapshot(self, snap: Any) -> None:
            if any(s.id == "abc12345" for s in snap.sessions):
                seen.set()

    watcher = Watcher(service, Heard())
    watcher.start()
    try:
        assert seen.wait(10), "the platform's session was listed"
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline and len(opened) < 2:
            time.sleep(0.05)
        assert len(opened) == 1, "the follower waits on the one stream"
        follower = next(t for t in threading.enumerate() if t.name == "canfar-events-canfar")
        assert follower.is_alive()
    finally:
        watcher.stop()
    follower.join(5)
    assert not follower.is_alive()
    listings = [c for c in client.calls if c[1] == "/session" and not c[2]]
    assert len(listings) <= 2, "the loop's refreshes were answered from the fresh listing"


def test_the_platform_host_has_every_call_of_the_seam() -> None:
    """open_host casts it to SessionHost: this is where a call the seam gained and it lacks is caught."""
    import inspect

    from canfar_desktop.core.host import PlatformHost, SessionHost

    members = [n for n in dir(SessionHost) if not n.startswith("_")]
    assert [n for n in members if not hasattr(SkahaHost, n)] == []
    for name in members:
        ours, seam = getattr(SkahaHost, name), getattr(SessionHost, name)
        if callable(seam) and callable(ours):
            assert list(inspect.signature(ours).parameters) == list(inspect.signature(seam).parameters), name
    assert [n for n in dir(PlatformHost) if not n.startswith("_") and not hasattr(SkahaHost, n)] == []
