"""Project folders and groups on real engines, this computer's and a remote (TLS) one: a file a member
writes is read by another member's session and refused to a non-member's; sessions show the groups by
name; a session started before its user joined is told apart by the doctor; the CLI's verbs."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core import projects as project_module
from canfar_desktop.core.errors import Busy, NotFound, ValidationError
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.project_checks import group_checks, session_group_checks
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, HostConfig, save_settings

REPO = Path(__file__).resolve().parents[2]


def job(service: SessionService, host: str, image: str, script: str) -> tuple[State, str]:
    """A headless job as that person: its end state and its output."""
    s = service.launch(service.prepare_launch("headless", image, f"job-{secrets.token_hex(2)}", host=host,
                                              command=("sh", "-c", script)))
    done = service.wait_finished(s, 120)
    return done.state, "\n".join(service.tail_logs(done, 100))


@pytest.mark.parametrize("where", ["local", "tls"])
def test_members_share_a_project_and_others_cannot(where: str, request: pytest.FixtureRequest,
                                                   make_service: Callable[..., SessionService], paths: AppPaths,
                                                   tmp_path: Path, session_images: dict[str, str]) -> None:
    hosts = [HostConfig(name="local")]
    if where == "tls":
        tls = request.getfixturevalue("tls_engine")
        hosts.append(HostConfig(name="tls", url=tls.url, tls_ca=str(tls.ca), tls_cert=str(tls.cert),
                                tls_key=str(tls.key)))
    tag = secrets.token_hex(3)
    arc = str(tmp_path / "shared-arc")  # one /arc for everyone on this computer, as on a shared workstation

    def person(name: str, uid: int) -> SessionService:
        return make_service(user=f"{name}{tag}", uid=uid, gid=uid, arc_root=arc, hosts=hosts)

    alice, bob, carol = person("alice", 61101), person("bob", 61102), person("carol", 61103)
    image = session_images["notebook"]
    project = f"survey-{tag}"

    made = alice.projects(where).create(project)
    assert made.members == (alice.settings.user,) and made.gid >= 70001
    assert bob.projects(where).get(project) == made  # every person on the host sees it
    with pytest.raises(ValidationError, match="not a member"):
        carol.projects(where).add_member(project, carol.settings.user)
    alice.projects(where).add_member(project, bob.settings.user)
    with pytest.raises(ValidationError, match="exists already"):
        bob.projects(where).create(project)
    with pytest.raises(NotFound):
        bob.projects(where).add_member("no-such-project", "x")

    # carol's long-running session starts before she joins
    carol_web = carol.wait_ready(carol.launch(carol.prepare_launch(
        "contributed", session_images["contributed"], "carol-web", host=where)), 90)

    state, out = job(alice, where, image, f"cd /arc/projects/{project} && echo measured > result.txt && "
                                          "ls -l result.txt && id -Gn")
    assert state == State.TERMINATED, out
    owner_line, groups = out.splitlines()
    assert owner_line.split()[2:4] == [alice.settings.user, project], owner_line  # names, not numbers
    assert groups.split() == [alice.settings.user, project]

    state, out = job(bob, where, image, f"cat /arc/projects/{project}/result.txt && "
                                        f"touch /arc/projects/{project}/bob.txt && groups")
    assert state == State.TERMINATED, out
    assert out.splitlines() == ["measured", f"{bob.settings.user} {project}"]

    state, out = job(carol, where, image, f"cat /arc/projects/{project}/result.txt")
    assert state == State.FAILED and "Permission denied" in out, out
    assert [c.level for c in group_checks(carol, where)] == ["info"]
    if where == "local":
        folder = Path(arc) / "projects" / project
        assert folder.stat().st_gid == made.gid and oct(folder.stat().st_mode & 0o7777) == "0o2770"
    [check] = group_checks(alice, where)
    assert check.level == "ok", check

    # carol joins: her running session still cannot (the doctor says why); a new one can
    alice.projects(where).add_member(project, carol.settings.user)
    [late] = session_group_checks(carol, carol.get(carol_web.id, where))
    assert late.level == "warn" and "start a new session" in late.hint
    state, out = job(carol, where, image, f"cat /arc/projects/{project}/result.txt")
    assert state == State.TERMINATED and out == "measured", out


def test_project_verbs_on_the_command_line(make_service: Callable[..., SessionService], paths: AppPaths,
                                           tmp_path: Path, session_images: dict[str, str]) -> None:
    service = make_service()
    save_settings(paths, service.settings)
    name = f"cli-{secrets.token_hex(3)}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "canfar_desktop", "project", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    assert cli("ls").stdout.startswith("No projects on local.")
    made = cli("create", name)
    assert made.returncode == 0 and f"/arc/projects/{name} created on local" in made.stdout, made.stderr
    assert cli("add-member", name, "bob").stdout.startswith(f"{name} on local: members {service.settings.user}, bob")
    listed = cli("ls")
    assert f"{name} *" in listed.stdout and "bob" in listed.stdout
    assert cli("remove-member", name, "bob").returncode == 0
    for args, words in ((["create", "Bad_Name"], "is not a project name"), (["create", "docker"], "system group"),
                        (["add-member", name], "needs a USER"), (["create", name], "exists already")):
        done = cli(*args)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_changes_to_the_project_list_at_once_are_all_kept(make_service: Callable[..., SessionService],
                                                          monkeypatch: pytest.MonkeyPatch, docker_engine: Any,
                                                          session_images: dict[str, str]) -> None:
    """Several apps adding members at the same moment: each reads the list and writes it back whole."""
    service = make_service()
    name = f"busy-{secrets.token_hex(3)}"
    store = service.projects("local")
    store.create(name)
    members = [f"member{i}" for i in range(6)]
    start = threading.Barrier(len(members))
    failures: list[BaseException] = []

    def add(member: str) -> None:
        try:
            start.wait()
            make_service(user=service.settings.user).projects("local").add_member(name, member)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=add, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    assert set(store.get(name).members) == {service.settings.user, *members}

    # a lock left by an app that died while holding it: waited for, then taken over once stale
    lock = project_module._Helper(service.host("local"), session_images["notebook"], store.mount, lock=True)
    assert lock.name is not None
    docker_engine.containers.create(session_images["notebook"], name=lock.name, command=["true"])  # type: ignore[attr-defined]
    try:
        monkeypatch.setattr(project_module, "LOCK_WAIT_S", 1.0)
        with pytest.raises(Busy, match="Someone else is changing the project list on local"):
            store.add_member(name, "late")
        monkeypatch.setattr(project_module, "LOCK_STALE_S", 0.0)
        began = time.monotonic()
        assert "late" in store.add_member(name, "late").members
        assert time.monotonic() - began < 10
    finally:
        subprocess.run(["docker", "rm", "-f", lock.name], capture_output=True)
