"""The CLI verbs beyond create/ps/info/delete, on real sessions: prune, stats, image ls, logs -f, events."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import AppPaths, Resources, save_settings

from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One CLI run as a person types it (no terminal on stdin, so nothing can be confirmed interactively)."""
    return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def launch(service: SessionService, image: str, name: str, kind: str = "contributed",
           command: tuple[str, ...] = (), resources: Resources | None = None) -> Session:
    return service.launch(service.prepare_launch(kind, image, name, resources, command=command))


def shared(make_service: Callable[..., SessionService], paths: AppPaths, **settings: Any) -> SessionService:
    """A service whose settings the CLI processes read too (same user, same /arc)."""
    service = make_service(**settings)
    save_settings(paths, service.settings)
    return service


def mine(service: SessionService) -> dict[str, Session]:
    return {s.name: s for s in service.sessions(probe=False)}


def test_prune_deletes_by_prefix_kind_and_state_and_asks_first(make_service: Callable[..., SessionService],
                                                               paths: AppPaths, session_images: dict[str, str]) -> None:
    service = shared(make_service, paths, session_limit=5)
    image = session_images["contributed"]
    keep = launch(service, image, "keep-me")
    running = launch(service, image, "tmp-running")
    failed = launch(service, image, "tmp-failed", command=("sh", "-c", "exit 3"))
    assert wait_for(lambda: service.get(failed.id).state == State.FAILED, 30, "tmp-failed to fail")
    assert wait_for(lambda: service.get(running.id).status == "running", 30, "tmp-running to run")

    # Without -f and without a terminal nothing can be confirmed: a clear refusal, nothing deleted.
    asked = cli("prune", "tmp", "any", "any")
    assert (asked.returncode, asked.stderr) == (2, "error: Cannot ask for confirmation without a terminal: add -f to confirm\n")
    assert set(mine(service)) == {"keep-me", "tmp-running", "tmp-failed"}

    # Prefix, kind and state together: only the failed one goes.
    done = cli("prune", "tmp", "contributed", "Failed", "-f")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{failed.id} deleted\n", "")
    assert set(mine(service)) == {"keep-me", "tmp-running"}

    # A state in the kind's place is understood; nothing matches a prefix nobody has.
    none = cli("prune", "tmp", "Failed", "-f")
    assert (none.returncode, none.stdout) == (0, "No sessions match.\n")
    assert cli("prune", "nobody-", "-f").stdout == "No sessions match.\n"

    # The prefix alone takes the canfar client's defaults (finished headless jobs): nothing here.
    assert cli("prune", "tmp", "-f").stdout == "No sessions match.\n"
    # Any kind in any state: every session the prefix names goes, the others stay.
    done = cli("prune", "tmp", "any", "any", "-f")
    assert (done.returncode, done.stdout) == (0, f"{running.id} deleted\n"), done.stderr
    assert set(mine(service)) == {"keep-me"}
    assert mine(service)["keep-me"].id == keep.id

    bad = cli("prune", "tmp", "jupyter", "-f")
    assert bad.returncode == 2 and bad.stderr.startswith("error: Unknown session kind 'jupyter'")


def test_stats_reports_the_host_and_each_running_session(make_service: Callable[..., SessionService],
                                                         paths: AppPaths, docker_engine: Any,
                                                         session_images: dict[str, str]) -> None:
    service = shared(make_service, paths)
    busy = launch(service, session_images["contributed"], "stats-busy", command=("python3", "-c", "while True: pass"),
                  resources=Resources(mode="fixed", cores=0.5, ram_gb=1))
    assert wait_for(lambda: service.get(busy.id).status == "running", 30, "the busy session running")
    engine = docker_engine.info()

    done = cli("stats", "-o", "json")
    assert done.returncode == 0, done.stderr
    [host] = json.loads(done.stdout)
    assert (host["host"], host["engine"], host["cpus"]) == ("local", engine["ServerVersion"], engine["NCPU"])
    assert host["memory_gb"] == round(engine["MemTotal"] / 1024**3, 1)
    assert (host["active"], host["limit"]) == (1, 3)
    [row] = host["sessions"]
    assert (row["id"], row["name"]) == (busy.id, "stats-busy")
    assert 10 < row["cpu_percent"] < 75, f"one busy loop, held at half a core (less on a loaded machine): {row}"
    assert row["limit_mb"] == 1024 and 0 < row["memory_mb"] < 1024 and row["pids"] >= 1

    table = cli("stats")
    lines = table.stdout.splitlines()
    assert lines[0] == (f"local: Docker {engine['ServerVersion']}, {engine['NCPU']} CPUs, {host['memory_gb']} GB, "
                        "1/3 active sessions")
    assert lines[1].split() == ["SESSION", "ID", "NAME", "CPU", "MEMORY", "PIDS"]
    cells = lines[2].split()
    assert cells[:2] == [busy.id, "stats-busy"] and cells[2].endswith("%") and " MB / 1024 MB " in lines[2]


def test_image_ls_lists_labelled_images_by_kind(make_service: Callable[..., SessionService], paths: AppPaths,
                                                docker_engine: Any, session_images: dict[str, str]) -> None:
    shared(make_service, paths)
    done = cli("image", "ls", "-o", "json")
    assert done.returncode == 0, done.stderr
    listed = {i["image"]: i["kinds"] for i in json.loads(done.stdout)}
    for kind, ref in session_images.items():
        assert listed.get(ref) == [kind], f"{ref} is labelled for {kind}: {listed}"
    labelled = {image.id: set(image.tags) for image in docker_engine.images.list()
                if (image.labels or {}).get("net.canfar.desktop.kinds") and image.tags}
    for tags in labelled.values():
        assert len(tags & set(listed)) == 1, f"every labelled image once, by one of its tags: {tags}"

    desktop = cli("image", "ls", "-k", "desktop")
    rows = desktop.stdout.splitlines()
    assert rows[0].split() == ["IMAGE", "KINDS", "FROM", "SIZE", "AGE", "STATUS", "TITLE"]
    assert session_images["desktop"] in [r.split()[0] for r in rows[1:]]
    assert all(r.split()[1] == "desktop" for r in rows[1:]), rows
    refused = cli("image", "ls", "-k", "jupyter")
    assert refused.returncode == 2 and "invalid choice: 'jupyter'" in refused.stderr


def test_logs_follow_prints_new_lines_redacted_until_the_session_stops(
        make_service: Callable[..., SessionService], paths: AppPaths, session_images: dict[str, str]) -> None:
    service = shared(make_service, paths)
    s = launch(service, session_images["notebook"], "chatty", kind="notebook",
               command=("sh", "-c", 'echo "serving /lab?token=$JUPYTER_TOKEN"; i=0; '
                                    'while [ ! -e /scratch/stop ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done'))
    s = service.get(s.id)
    assert s.secret
    follower = subprocess.Popen([*CLI, "logs", "-f", s.id], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    lines: list[str] = []

    def read() -> None:
        assert follower.stdout is not None
        lines.extend(line.rstrip("\n") for line in follower.stdout)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.startswith("tick ") for line in lines), 30, f"a first tick: {lines}")
        first = max(int(line.split()[1]) for line in lines if line.startswith("tick "))
        wait_for(lambda: f"tick {first + 5}" in lines, 30, f"ticks printed after logs -f started: {lines[-5:]}")
        (paths.scratch_dir / s.id / "stop").touch()  # the session's process ends by itself
        wait_for(lambda: follower.poll() is not None, 30, "logs -f to end once the session stopped")
    finally:
        if follower.poll() is None:
            follower.kill()
    reader.join(10)
    assert follower.returncode == 0, follower.stderr.read() if follower.stderr else ""
    assert lines[0] == "serving /lab?token=********"
    assert not any(s.secret in line for line in lines)
    ticks = [int(line.split()[1]) for line in lines if line.startswith("tick ")]
    assert ticks == list(range(len(ticks))), "every line once, in order"


def test_events_show_the_engines_timeline(make_service: Callable[..., SessionService], paths: AppPaths,
                                          docker_engine: Any, session_images: dict[str, str]) -> None:
    service = shared(make_service, paths)
    s = launch(service, session_images["contributed"], "eventful")
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "running")
    docker_engine.containers.get(s.container_id).kill()
    assert wait_for(lambda: service.get(s.id).status == "exited", 30, "the kill to land")

    done = cli("events", s.id)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"==> {s.id} (eventful) <=="
    timeline = [line.split(None, 3)[2:] for line in lines[1:]]
    assert [t[0] for t in timeline] == ["create", "start", "kill", "die"], lines
    assert timeline[0][1] == f"image {session_images['contributed']}"
    assert timeline[2][1] == "signal 9" and timeline[3][1] == "exit code 137"
    missing = cli("events", "nosuchid")
    assert missing.returncode == 4 and "No session" in missing.stderr


def test_ps_and_info_on_this_computer_load_no_engine_sdk(make_service: Callable[..., SessionService],
                                                         paths: AppPaths, session_images: dict[str, str]) -> None:
    """The local engine is spoken to over its socket directly, and settings already checked are not checked again:
    the SDK, SSH, requests and pydantic each cost 0.1–0.2 s to import; http.client (with email and ssl), logging,
    platformdirs, OpenSSL's hashes, shutil (with the compression modules) and tempfile a few milliseconds each,
    and dataclasses (with inspect) 10 ms and more to build each class, against docker ps's 15 ms."""
    service = shared(make_service, paths)
    s = service.wait_ready(launch(service, session_images["contributed"], "light-ps"), 60)
    code = ("import sys\nfrom canfar_desktop.cli.main import main\n"
            f"assert main(['ps']) == 0 and main(['info', '{s.id}']) == 0\n"
            "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & {'docker', 'paramiko', 'requests', 'pydantic', "
            "'http', 'email', 'ssl', 'platformdirs', 'logging', '_hashlib', 'shutil', 'tempfile', "
            "'dataclasses', 'inspect'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and s.id in done.stdout, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []", done.stdout
