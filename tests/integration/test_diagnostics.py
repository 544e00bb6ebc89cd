"""Each trouble of the guide, caused for real, and the diagnosis the doctor gives for it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core import diagnostics
from canfar_desktop.core.errors import LaunchError
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.record import replace
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import Resources

from ..helpers import wait_for

CLI = [sys.executable, "-m", "canfar_desktop"]


def by_id(checks: list[diagnostics.Check]) -> dict[str, diagnostics.Check]:
    return {c.id: c for c in checks}


def launch(service: SessionService, image: str, name: str, **kw: Any) -> Any:
    req = service.prepare_launch("contributed", image, name, kw.pop("resources", None))
    return service.launch(replace(req, **kw))


def doctor_cli(service: SessionService, *args: str) -> tuple[int, list[dict[str, Any]]]:
    for key, value in (("user", service.settings.user), ("arc_root", service.settings.arc_root)):
        subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)
    done = subprocess.run([*CLI, "doctor", *args, "-o", "json"], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


def test_process_exit_1_is_diagnosed_with_code_and_output(make_service: Callable[..., SessionService],
                                                           session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "exits",
               command=("sh", "-c", "echo 'ModuleNotFoundError: astropy'; exit 1"))
    assert wait_for(lambda: service.get(s.id).state == State.FAILED, 30, "Failed")
    check = by_id(diagnostics.run_checks(service, s.id))["start"]
    assert check.level == "fail" and "exited with code 1" in check.verdict
    assert "ModuleNotFoundError: astropy" in check.figure


def test_oom_is_diagnosed_with_limit_and_fix_in_the_cli(make_service: Callable[..., SessionService],
                                                        session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "oom", resources=Resources(mode="fixed", cores=1, ram_gb=0.25),
               command=("python3", "-c", "b = [bytearray(32 * 2**20) for _ in range(64)]"))
    assert wait_for(lambda: service.get(s.id).oom_killed, 60, "OOM kill")
    code, checks = doctor_cli(service, s.id)
    oom = next(c for c in checks if c["id"] == "oom")
    assert code == 1
    assert oom["level"] == "fail" and oom["verdict"].startswith("out of memory")
    assert oom["figure"] == "limit 256 MB"
    assert "fixed session with more memory" in oom["hint"] and "-m 1" in oom["hint"]
    text = subprocess.run([*CLI, "doctor", s.id], capture_output=True, text=True).stdout
    assert "✘ Memory: out of memory: the kernel killed the session [limit 256 MB]" in text


def test_taken_port_is_diagnosed(make_service: Callable[..., SessionService], session_images: dict[str, str]) -> None:
    service = make_service()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(LaunchError):  # a notebook publishes its own port (a gated kind's gate would)
            req = service.prepare_launch("notebook", session_images["notebook"], "taken")
            service.launch(replace(req, host_port=port))
    failed = next(s for s in service.sessions() if s.name == "taken")
    check = by_id(diagnostics.run_checks(service, failed.id))["start"]
    assert check.level == "fail" and check.figure == f"port {port} on 127.0.0.1 is taken"
    assert "without a fixed port" in check.hint


@pytest.fixture
def small_arc(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB file system behind /arc, so 'nearly full' is real."""
    target = tmp_path / "small-arc"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(target)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs ({done.stderr.strip()}); this test needs root", pytrace=False)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_nearly_full_arc_is_diagnosed(make_service: Callable[..., SessionService], small_arc: Path) -> None:
    service = make_service(arc_root=str(small_arc))
    big = small_arc / "home" / service.settings.user / "cube.fits"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as handle:
        handle.write(os.urandom(15 * 2**20 + 2**19))
    check = by_id(diagnostics.run_checks(service))["disk-arc"]
    assert check.level == "fail" and check.verdict == "the disk behind /arc is full"
    assert f"at {small_arc}" in check.figure and "cube.fits" in check.figure
    assert "compress" in check.hint and "/scratch" in check.hint


def test_unreadable_arc_folder_is_diagnosed(make_service: Callable[..., SessionService], tmp_path: Path) -> None:
    service = make_service()
    projects = tmp_path / "arc" / "projects"
    projects.mkdir(parents=True)
    os.chown(projects, 0, 0)
    projects.chmod(0o700)
    check = by_id(diagnostics.run_checks(service))["access-projects"]
    assert check.level == "fail" and f"uid {service.settings.uid} and cannot read" in check.verdict
    assert "owner 0:0 mode drwx------" in check.figure
    assert check.hint.startswith(f"sudo chown -R {service.settings.uid}:{service.settings.gid} {projects}")


def test_cpu_throttling_is_diagnosed(make_service: Callable[..., SessionService],
                                     session_images: dict[str, str]) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "busy", resources=Resources(mode="fixed", cores=0.2, ram_gb=1),
               command=("python3", "-c", "while True: pass"))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "running")
    checks = by_id(diagnostics.session_checks(service, service.get(s.id)))
    assert checks["cpu"].level == "warn" and "CPU limit" in checks["cpu"].verdict, checks["cpu"]


def test_unreachable_engine_is_the_only_finding(make_service: Callable[..., SessionService]) -> None:
    from canfar_desktop.core.settings import HostConfig

    service = make_service(hosts=[HostConfig(name="local", url="unix:///nonexistent/docker.sock")])
    checks = diagnostics.run_checks(service)
    assert [(c.id, c.level) for c in checks] == [("engine", "fail")]
    assert "not reachable" in checks[0].verdict and "start" in checks[0].hint


def block_io_counted(container_id: str, folder: Path, bytes_per_s: int) -> None:
    """Make this kernel count the session's block I/O, as the engine reports it.

    With cgroup v1 and a multi-queue I/O scheduler (mq-deadline here) the kernel keeps per-cgroup
    block I/O figures only for devices with a blk-throttle rule; a rule on the disk behind /scratch
    turns the counting on. It also keeps the test's writes to a sane rate on a shared machine.
    cgroup v2 counts without a rule.
    """
    v1 = Path("/sys/fs/cgroup/blkio")
    if not v1.is_dir():
        return
    group = next((g for g in (v1 / "docker" / container_id, v1 / "system.slice" / f"docker-{container_id}.scope")
                  if g.is_dir()), None)
    if group is None:
        pytest.fail(f"the blkio cgroup of {container_id[:12]} was not found under {v1}", pytrace=False)
    dev = os.stat(folder).st_dev
    device = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if (device / "partition").exists():  # throttle rules name whole disks
        device = device.resolve().parent
    (group / "blkio.throttle.write_bps_device").write_text(f"{(device / 'dev').read_text().strip()} {bytes_per_s}\n")


def test_heavy_io_is_diagnosed(make_service: Callable[..., SessionService], session_images: dict[str, str],
                               paths: Any) -> None:
    service = make_service()
    s = launch(service, session_images["contributed"], "io-heavy",
               command=("sh", "-c", "while :; do dd if=/dev/zero of=/scratch/big bs=1M count=64 oflag=direct "
                                    "2>/dev/null; done"))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "running")
    block_io_counted(s.container_id, paths.scratch_dir / s.id, 200 * 2**20)
    checks = by_id(diagnostics.session_checks(service, service.get(s.id)))
    assert "io" in checks, f"no I/O finding: {list(checks.values())}"
    io = checks["io"]
    assert (io.level, io.verdict) == ("warn", "heavy disk I/O")
    rate, unit = io.figure.split()
    assert unit == "MB/s" and 50 < float(rate) <= 250, io.figure
    assert "/scratch" in io.hint


def test_near_the_memory_limit_is_diagnosed(make_service: Callable[..., SessionService],
                                            session_images: dict[str, str]) -> None:
    service = make_service()
    quiet = launch(service, session_images["contributed"], "mem-light", resources=Resources(mode="fixed", cores=1, ram_gb=0.5),
                   command=("python3", "-c", "import time; print('idle', flush=True); time.sleep(600)"))
    s = launch(service, session_images["contributed"], "mem-heavy", resources=Resources(mode="fixed", cores=1, ram_gb=0.5),
               command=("python3", "-c", "import time; b = b'1' * (470 * 2**20); print('holding', flush=True); "
                                         "time.sleep(600)"))
    for x, word in ((quiet, "idle"), (s, "holding")):
        assert wait_for(lambda x=x, word=word: word in service.tail_logs(service.get(x.id), 5), 30, f"{x.name} ready")
    near = by_id(diagnostics.session_checks(service, service.get(s.id)))
    assert "mem-near" in near, f"no memory finding: {list(near.values())}"
    check = near["mem-near"]
    assert (check.level, check.verdict) == ("warn", "close to its memory limit")
    used, _mb, of, limit, _unit = check.figure.split()
    assert 460 < float(used) < 512 and (of, limit) == ("of", "512"), check.figure
    assert "more memory" in check.hint
    assert "mem-near" not in by_id(diagnostics.session_checks(service, service.get(quiet.id))), "a light one is fine"
    assert not service.get(s.id).oom_killed


def test_session_limit_reached_is_diagnosed(make_service: Callable[..., SessionService],
                                            session_images: dict[str, str]) -> None:
    from canfar_desktop.core.errors import LimitError

    service = make_service(session_limit=2)
    launch(service, session_images["contributed"], "one")
    check = by_id(diagnostics.run_checks(service))["limit"]
    assert (check.level, check.figure) == ("ok", "1 of 2 active")
    launch(service, session_images["contributed"], "two")
    check = by_id(diagnostics.run_checks(service))["limit"]
    assert (check.level, check.verdict, check.figure) == ("warn", "at the limit: a new launch will be refused",
                                                          "2 of 2 active")
    assert "delete a session" in check.hint
    with pytest.raises(LimitError):  # what the check foretells
        launch(service, session_images["contributed"], "three")


def test_image_labels_are_what_the_images_check_counts(make_service: Callable[..., SessionService],
                                                       docker_engine: Any, session_images: dict[str, str]) -> None:
    import io
    import secrets

    service = make_service()

    def labels() -> list[tuple[list[str], str]]:
        return [(i.tags, (i.labels or {}).get("net.canfar.desktop.kinds", "")) for i in docker_engine.images.list()]

    def labelled_tags() -> int:
        return sum(len(tags) for tags, label in labels() if label.strip(" ,"))

    kinds = sorted({k.strip().lower() for _, label in labels() for k in label.split(",") if k.strip()})
    assert {"contributed", "desktop", "notebook"} <= set(kinds), "the project's images are labelled"
    check = by_id(diagnostics.run_checks(service))["images"]
    assert (check.level, check.verdict) == ("ok", f"images for: {', '.join(kinds)}")
    assert check.figure == f"{labelled_tags()} labelled image(s)"
    # A new image labelled (in a person's spelling) for two kinds: counted, and listed for both kinds.
    tag = f"canfar-desktop/labels-probe:{secrets.token_hex(4)}"
    recipe = f"FROM {session_images['contributed']}\nLABEL net.canfar.desktop.kinds=\" Notebook, contributed \"\n"
    docker_engine.images.build(fileobj=io.BytesIO(recipe.encode()), tag=tag, rm=True)
    try:
        check = by_id(diagnostics.run_checks(service))["images"]
        assert check.figure == f"{labelled_tags()} labelled image(s)"
        assert {i.ref: i.kinds for i in service.images()}[tag] == {"notebook", "contributed"}
        assert service.prepare_launch("notebook").image == session_images["notebook"], "a :latest image stays the default"
    finally:
        docker_engine.images.remove(tag)


def test_disk_usage_asked_at_once_answers_every_caller(make_service: Callable[..., SessionService]) -> None:
    """The engine counts disk usage once at a time and refuses a second count meanwhile; the panel's overview
    and its checks ask at once, and `docker system df` may be counting in another process."""
    from concurrent.futures import ThreadPoolExecutor

    from canfar_desktop.core.report import host_overview

    service = make_service()
    local = service.host()
    other = subprocess.Popen(["sh", "-c", "for i in 1 2 3 4 5 6; do docker system df >/dev/null 2>&1; done"])
    try:
        with ThreadPoolExecutor(4) as pool:
            counts = [pool.submit(local.disk_usage), pool.submit(local.sdk.disk_usage),
                      pool.submit(local.disk_usage)]
            overview = pool.submit(host_overview, service)
            for count in counts:
                assert "Images" in count.result(timeout=120)
            assert overview.result(timeout=120).images_bytes is not None
    finally:
        other.wait(timeout=120)
