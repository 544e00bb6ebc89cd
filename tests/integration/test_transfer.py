"""Files in and out of sessions through the engine's archive API, on real engines: a 200 MB file into
and out of a remote (TLS) host's /arc byte for byte with the copying process's memory flat, folders,
cancelled and killed copies that leave nothing under the final name, and paths outside /arc refused."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import AppPaths, HostConfig, save_settings
from canfar_desktop.core.transfer import Cancelled, Progress

from ..helpers import wait_for
from .remote_fixtures import TlsEngine

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "canfar_desktop"]
BIG = 200 * 1024 * 1024


def write_file(path: Path, size: int) -> str:
    """A file of `size` bytes that compresses badly, written a megabyte at a time; its sha256."""
    digest = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for i in range(size // len(block)):
            chunk = block[i % 97:] + block[:i % 97]  # every megabyte different
            out.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def cp(*args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """`canfar-desktop cp ARGS` as a person runs it; its result and its peak memory (resident, MB)."""
    proc = subprocess.Popen([*CLI, "cp", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), usage.ru_maxrss // 1024


def names_in(service: SessionService, s: Session, folder: str) -> list[str]:
    """What `ls -A` shows in a session's folder, run as the session's user (root has no capabilities there)."""
    user = service.host(s.host).inspect(s.container_id)["Config"]["User"]
    code, out = service.host(s.host).exec_run(s.container_id, ["ls", "-A", folder], user)
    assert code == 0, out
    return out.split()


STALLER = """
import json, os, sys, time
from pathlib import Path
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, load_settings
verb, ref, source, dest, marker = json.loads(sys.argv[1])
paths = AppPaths.default()
service = SessionService(load_settings(paths)[0], paths)
s = service.get(ref)
def stall(p):
    if p.done >= 16 * 1024 * 1024:
        Path(marker).write_text(str(p.done))
        time.sleep(600)  # halfway, connection open, until killed
if verb == "copy_in":
    service.copy_in(s, [Path(x) for x in source], dest, stall)
else:
    service.copy_out(s, source, dest, stall)
"""


def stall_and_kill(service: SessionService, s: Session, verb: str, source: object, dest: str, marker: Path) -> str:
    """Run a copy in another process that stops halfway; kill it there. Returns how far it got."""
    import json

    proc = subprocess.Popen([sys.executable, "-c", STALLER, json.dumps([verb, s.id, source, dest, str(marker)])],
                            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: marker.exists() or proc.poll() is not None, 60, f"{verb} to reach halfway")
        assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    return marker.read_text()


@pytest.fixture
def tls_service(make_service: Callable[..., SessionService], paths: AppPaths, tls_engine: TlsEngine) -> SessionService:
    tls = HostConfig(name="tls", url=tls_engine.url, tls_ca=str(tls_engine.ca), tls_cert=str(tls_engine.cert),
                     tls_key=str(tls_engine.key))
    service = make_service(hosts=[HostConfig(name="local"), tls])
    save_settings(paths, service.settings)  # the CLI processes read the same settings
    return service


def test_200_mb_in_and_out_of_a_remote_host_byte_for_byte_with_flat_memory(
        tls_service: SessionService, tmp_path: Path, session_images: dict[str, str]) -> None:
    service = tls_service
    user = service.settings.user
    s = service.launch(service.prepare_launch("contributed", session_images["contributed"], "cp-remote", host="tls"))
    s = service.wait_ready(s, 120)
    assert s.host == "tls"

    small = tmp_path / "small.bin"
    write_file(small, 1024 * 1024)
    done, small_mb = cp(str(small), f"{s.id}:")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{s.id}:/arc/home/{user}/small.bin\n"

    big = tmp_path / "big.fits"
    digest = write_file(big, BIG)
    done, big_in_mb = cp("--host", "tls", str(big), f"{s.id}:/arc/home/{user}/")
    assert done.returncode == 0, done.stderr
    assert names_in(service, s, f"/arc/home/{user}") == ["big.fits", "small.bin"]  # no temporary left
    code, out = service.host("tls").exec_run(s.container_id, ["sha256sum", f"/arc/home/{user}/big.fits"],
                                             service.host("tls").inspect(s.container_id)["Config"]["User"])
    assert code == 0 and out.split()[0] == digest, "the file in the remote /arc is the one sent"

    back = tmp_path / "back"
    back.mkdir()
    done, big_out_mb = cp(f"{s.id}:big.fits", str(back))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{back / 'big.fits'}\n"
    assert sha256(back / "big.fits") == digest and sorted(os.listdir(back)) == ["big.fits"]
    done, small_out_mb = cp(f"{s.id}:small.bin", str(back / "small-again.bin"))
    assert done.returncode == 0, done.stderr

    print(f"peak memory of cp: 1 MB in {small_mb} MB, 200 MB in {big_in_mb} MB; "
          f"200 MB out {big_out_mb} MB, 1 MB out {small_out_mb} MB")
    assert big_in_mb - small_mb < 32, "copying 200 MB in held more than a few chunks in memory"
    assert big_out_mb - small_out_mb < 32, "copying 200 MB out held more than a few chunks in memory"


def test_folders_home_shorthand_and_refusals(make_service: Callable[..., SessionService], paths: AppPaths,
                                             tmp_path: Path, session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    user = service.settings.user
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "cp-local")), 60)
    data = tmp_path / "run1"
    (data / "raw").mkdir(parents=True)
    (data / "raw" / "a.fits").write_bytes(b"SIMPLE  = T" * 100)
    (data / "notes.txt").write_text("seeing 0.8\n")
    done, _ = cp(str(data), f"{s.id}:")
    assert done.returncode == 0, done.stderr
    home = Path(service.settings.arc_folder()) / "home" / user
    assert (home / "run1" / "raw" / "a.fits").read_bytes() == b"SIMPLE  = T" * 100
    assert (home / "run1" / "notes.txt").stat().st_uid == service.settings.uid, "the session's user owns the copy"

    out = tmp_path / "out"
    out.mkdir()
    done, _ = cp(f"{s.id}:run1", f"{out}/")
    assert done.returncode == 0, done.stderr
    assert (out / "run1" / "raw" / "a.fits").read_bytes() == b"SIMPLE  = T" * 100

    for args, words in (([str(data), f"{s.id}:/etc/"], "outside /arc and /scratch"),
                        ([str(data), f"{s.id}:"], "already exists"),
                        ([f"{s.id}:nothing-here", str(out)], "There is no /arc/home/"),
                        ([str(tmp_path / "missing"), f"{s.id}:"], "There is no"),
                        ([str(data), str(out)], "One side of cp must be a session")):
        done, _ = cp(*args)
        assert done.returncode in (2, 4) and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, \
            (args, done.stderr)


def test_a_cancelled_or_killed_copy_leaves_nothing_under_its_final_name(
        make_service: Callable[..., SessionService], paths: AppPaths, tmp_path: Path,
        session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    user = service.settings.user
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "cp-cancel")), 60)
    home = f"/arc/home/{user}"
    big = tmp_path / "big.fits"
    write_file(big, 64 * 1024 * 1024)

    # Cancelled in the app's way (an event from another thread): nothing at all is left.
    cancel = threading.Event()

    def cancel_midway(p: Progress) -> None:
        if p.done >= 8 * 1024 * 1024:
            cancel.set()

    with pytest.raises(Cancelled):
        service.copy_in(s, [big], "", cancel_midway, cancel)
    assert names_in(service, s, home) == []

    # Killed mid-copy (a process that stops halfway, holding its connection, then is killed):
    # the hidden temporary may stay, the final name never appears.
    stalled = stall_and_kill(service, s, "copy_in", [str(big)], home + "/", tmp_path / "in.marker")
    assert "big.fits" not in names_in(service, s, home)
    assert any(n.startswith(".big.fits.part-") for n in names_in(service, s, home)), stalled

    service.copy_in(s, [big], home + "/")
    out = tmp_path / "out"
    out.mkdir()
    stall_and_kill(service, s, "copy_out", "big.fits", str(out), tmp_path / "out.marker")
    assert "big.fits" not in os.listdir(out)
    assert any(n.startswith(".big.fits.part-") for n in os.listdir(out))

    before = set(os.listdir(out))  # the killed download's temporary, under its own name
    with pytest.raises(Cancelled):
        service.copy_out(s, "big.fits", out, cancel_midway, cancel)  # the event is still set: cancelled at once
    assert set(os.listdir(out)) == before
    with pytest.raises(ValidationError, match="outside /arc and /scratch"):
        service.copy_out(s, "/etc/passwd", out)


def test_a_folder_listed_as_the_session_user_sees_it(make_service: Callable[..., SessionService], tmp_path: Path,
                                                     session_images: dict[str, str]) -> None:
    service = make_service()
    s = service.wait_ready(service.launch(service.prepare_launch("contributed", session_images["contributed"],
                                                                 "ls-local")), 60)
    data = tmp_path / "night 1"
    (data / "raw").mkdir(parents=True)
    (data / "m31 b.fits").write_bytes(b"x" * 2880)
    (data / "A.txt").write_text("a\n")
    (data / "tab\there").write_text("odd name\n")
    service.copy_in(s, [data], "")
    path, entries, cut = service.list_folder(s, "night 1")
    assert path == f"/arc/home/{s.owner}/night 1" and not cut
    assert [(e.name, e.folder) for e in entries] == [("raw", True), ("A.txt", False), ("m31 b.fits", False),
                                                     ("tab\there", False)]
    assert next(e for e in entries if e.name == "m31 b.fits").size == 2880
    assert all(e.modified > 1e9 for e in entries)
    assert "night 1" in [e.name for e in service.list_folder(s, f"/arc/home/{s.owner}")[1]]
    assert service.list_folder(s, "/arc")[1], "/arc itself is browsable"
    for path, words in (("/etc", "outside /arc and /scratch"), ("nothing-here", "There is no folder"),
                        ("night 1/A.txt", "is a file, not a folder"), ("../../../etc", "outside /arc")):
        with pytest.raises(ValidationError, match=words):
            service.list_folder(s, path)
    # the engine writes as root, the app only where the session's user may
    locked = Path(service.settings.arc_folder()) / "home" / s.owner / "locked"
    locked.mkdir(mode=0o755)  # root's, as a folder of someone else's would be
    with pytest.raises(ValidationError, match=f"{s.owner} may not write in /arc/home/{s.owner}/locked"):
        service.copy_in(s, [data / "A.txt"], "locked/")
    assert list(locked.iterdir()) == [], "nothing written, not even a temporary"
