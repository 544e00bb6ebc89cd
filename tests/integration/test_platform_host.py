"""The CANFAR Science Platform as one more host, against the project's own Skaha API server as its stand-in,
on the real engine: list, launch, open, renew, logs, events, usage, headless jobs, delete; the platform's
limit as our error; a refused, expired or missing login and an unreachable platform, each said clearly.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from canfar_desktop.core.credentials import CredentialError
from canfar_desktop.core.diagnostics import run_checks
from canfar_desktop.core.errors import EngineUnavailable, LimitError
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.monitor import sample_once
from canfar_desktop.core.report import support_report
from canfar_desktop.core.secret_store import save_token
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.settings import AppPaths, HostConfig, Resources

from ..certs import Authority
from ..helpers import http_get, wait_for
from ..platform_standin import StandIn, jwt, platform, standin

__all__ = ["platform", "standin"]  # fixtures

CLI = [sys.executable, "-m", "canfar_desktop"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ~/.canfar or ~/.ssl of the machine's: each test has the logins it makes."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def on_platform(make_service: Callable[..., SessionService], standin: StandIn, paths: AppPaths,
                **settings: object) -> SessionService:
    """A service with this computer's engine and the platform, signed in with the stand-in's token."""
    standin.sign_in(paths)
    return make_service(hosts=[HostConfig(), standin.host()], **settings)


def test_a_notebook_on_the_platform(make_service: Callable[..., SessionService], standin: StandIn, paths: AppPaths,
                                    session_images: dict[str, str]) -> None:
    service = on_platform(make_service, standin, paths)
    info = service.host_info("canfar")
    assert (info.engine, info.session_limit) == ("Skaha", 2) and info.cpus >= 1
    assert any(i.ref == session_images["notebook"] and "notebook" in i.kinds for i in service.images("canfar"))
    assert "signed in with the token saved for canfar" in service.storage_description("canfar")

    req = service.prepare_launch("notebook", session_images["notebook"], "plat-nb", Resources(mode="fixed", cores=1,
                                 ram_gb=2), host="canfar")
    assert service.dry_run(req)["request"] == {"name": "plat-nb", "image": session_images["notebook"],
                                               "type": "notebook", "cores": 1, "ram": 2}
    launched = service.launch(req)
    assert launched.host == "canfar" and launched.state == State.LAUNCHING and launched.owner == service.settings.user
    s = service.wait_ready(launched, 180)
    assert s.state == State.RUNNING and s.resources == Resources(mode="fixed", cores=1, ram_gb=2)

    # Listed once, on the platform (the stand-in's user is not ours, so "local" does not list it too).
    found, errors = service.list_all()
    assert errors == {} and [(x.host, x.name) for x in found if x.id == s.id] == [("canfar", "plat-nb")]

    # Opened at the connect URL the platform gives: JupyterLab answers there with its token.
    url = service.open_url(s)
    parts = urlsplit(url)
    assert parts.path.startswith(f"/session/notebook/{s.id}/lab") and "token=" in parts.query
    status, body = http_get(parts.port or 80, f"{parts.path}?{parts.query}")
    assert status == 200 and b"JupyterLab" in body
    assert s.secret and s.secret in url and s.secret not in service.redact(url, s)

    # Output, events and usage come from the platform's API; the secret never shows.
    assert wait_for(lambda: any("Jupyter" in line for line in service.tail_logs(s, 200)), 60, "the notebook's log")
    assert all(s.secret not in line for line in service.tail_logs(s, 200))
    assert [e.action for e in service.events_of(s)][:2] == ["create", "start"]

    def measured() -> bool:
        sample = sample_once(service, s)
        return sample is not None and sample.memory_bytes > 0

    assert wait_for(measured, 60, "the platform's usage figures")

    # Renewing asks the platform; its new expiry shows.
    before = service.get(s.id, "canfar").expiry
    assert wait_for(lambda: service.renew(s.id, "canfar").expiry > before, 30, "the expiry to move")  # type: ignore[operator]

    # Troubleshooting: what the API offers; the engine-only checks say they do not apply.
    checks = {c.id: c for c in run_checks(service, s.id, "canfar")}
    assert checks["engine"].level == "ok" and checks["engine"].title == "CANFAR Science Platform"
    assert checks["host-memory"].verdict.startswith("does not apply") and checks["start"].level == "ok"
    assert checks["limit"].figure == "1 of 2 active" and "Docker hosts only" in checks["slow"].verdict
    report = support_report(service, s)
    assert "host canfar: Skaha v1 on CANFAR Science Platform" in report and s.secret not in report
    assert f"platform:   session {s.id} on canfar" in report and "container:" not in report
    assert "== Platform events" in report and "== Engine events" not in report
    with pytest.raises(Exception, match="does not list the processes"):
        service.processes(s)

    service.delete(s)
    assert wait_for(lambda: s.id not in {x.id for x in service.sessions("canfar")}, 30, "the session to go")


def test_headless_jobs_on_the_platform(make_service: Callable[..., SessionService], standin: StandIn, paths: AppPaths,
                                       session_images: dict[str, str]) -> None:
    service = on_platform(make_service, standin, paths)
    image = session_images["contributed"]
    ok = service.launch(service.prepare_launch("headless", image, "plat-job", host="canfar",
                                               command=("echo", "answer-42"), env=("MOOD=fine",)))
    bad = service.launch(service.prepare_launch("headless", image, "plat-bad", host="canfar", command=("false",)))
    done = service.wait_finished(ok, 120)
    assert done.state == State.TERMINATED, done.reason
    assert service.tail_logs(done, 10) == ["answer-42"]
    failed = service.wait_finished(bad, 120)
    assert failed.state == State.FAILED and "failed" in failed.reason
    assert {s.name for s in service.sessions("canfar")} >= {"plat-job", "plat-bad"}
    for s in (done, failed):
        service.delete(s)


def test_the_platforms_limit_is_our_error(make_service: Callable[..., SessionService], standin: StandIn,
                                          paths: AppPaths, session_images: dict[str, str]) -> None:
    service = on_platform(make_service, standin, paths, session_limit=10)
    image = session_images["contributed"]
    for n in (1, 2):
        service.launch(service.prepare_launch("contributed", image, f"plat-app-{n}", host="canfar"))
    with pytest.raises(LimitError) as caught:
        service.launch(service.prepare_launch("contributed", image, "plat-app-3", host="canfar"))
    assert caught.value.message == f"User {standin.user} has reached the maximum of 2 active sessions."
    assert "delete a session" in caught.value.hint


def test_a_refused_expired_or_missing_login_and_an_unreachable_platform(
        make_service: Callable[..., SessionService], standin: StandIn, paths: AppPaths, own_home: Path,
        tmp_path: Path) -> None:
    host = standin.host()
    service = make_service(hosts=[HostConfig(), host])

    # None at all: the platform says how to sign in; this computer's sessions are listed as ever.
    _, errors = service.list_all()
    assert isinstance(errors["canfar"], CredentialError) and set(errors) == {"canfar"}
    assert errors["canfar"].message.startswith("No CANFAR login found for canfar (127.0.0.1:")

    # An expired proxy certificate: when it expired, and how to make a new one.
    Authority(tmp_path / "ca").proxy(own_home / ".ssl" / "cadcproxy.pem", timedelta(hours=-1))
    service.reset_host("canfar")
    _, errors = service.list_all()
    assert "has expired: the X.509 proxy certificate ~/.ssl/cadcproxy.pem, expired on" in errors["canfar"].message
    assert "canfar login" in errors["canfar"].hint

    # A token the platform refuses (HTTP 401): said with what to do.
    save_token(paths, f"{standin.api_url.removesuffix('/v1')}", "not-the-token-of-this-platform")
    service.reset_host("canfar")
    _, errors = service.list_all()
    assert "did not accept the token saved for canfar" in errors["canfar"].message and "(HTTP 401" in \
        errors["canfar"].message
    assert errors["canfar"].hint.startswith("save a new token: canfar-desktop hosts login canfar")
    assert not service.host_status("canfar").ok

    # Nothing answering: "host unreachable", as for any host, and the CLI lists the rest with a warning.
    gone = HostConfig(name="gone", url="skaha+http://127.0.0.1:9/skaha")
    service = make_service(hosts=[HostConfig(), gone])
    save_token(paths, "http://127.0.0.1:9/skaha", "some-token-value")
    _, errors = service.list_all()
    assert isinstance(errors["gone"], EngineUnavailable) and "cannot be reached" in errors["gone"].message
    from canfar_desktop.core.settings import save_settings

    save_settings(paths, service.settings)
    ps = subprocess.run([*CLI, "ps"], cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert ps.returncode == 0 and "warning: host gone is unreachable: The CANFAR Science Platform at 127.0.0.1:9 " \
                                  "cannot be reached" in ps.stderr


def test_the_command_line_on_the_platform(make_service: Callable[..., SessionService], standin: StandIn,
                                          paths: AppPaths, session_images: dict[str, str]) -> None:
    """As a new user would: add the host with a token, launch, list, look, renew, delete."""
    from canfar_desktop.core.settings import save_settings

    service = make_service()
    save_settings(paths, service.settings)

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=240,
                              input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)

    site = standin.api_url.removesuffix("/v1")
    added = cli("hosts", "add", "canfar", site, "--canfar", "--token-file", "-", stdin=standin.token + "\n")
    assert added.returncode == 0, added.stderr
    assert "canfar: token saved in" in added.stdout and "signs in with the token saved for canfar" in added.stdout
    assert standin.token not in paths.settings_file.read_text(), "never in settings"
    bad = cli("hosts", "add", "x", "http://example.org/skaha", "--canfar")
    assert bad.returncode == 2 and "unencrypted" in bad.stderr
    listed = cli("hosts")
    assert "canfar" in listed.stdout and "skaha+http://127.0.0.1" in listed.stdout and "ok, " in listed.stdout

    created = cli("create", "notebook", session_images["notebook"], "--host", "canfar", "-n", "cli-plat", "--wait")
    assert created.returncode == 0, created.stderr
    sid = created.stdout.strip()
    assert "Running: http://127.0.0.1:" in created.stderr and "token=********" in created.stderr
    ps = cli("ps")
    assert ps.returncode == 0 and any(line.split()[:3] == [sid, "canfar", "cli-plat"] for line in ps.stdout.splitlines())
    for verb in ("info", "logs", "events", "renew"):
        done = cli(verb, sid)
        assert done.returncode == 0, (verb, done.stderr)
    stats = cli("stats", "--host", "canfar")
    assert stats.returncode == 0 and stats.stdout.startswith("canfar: Skaha v1, sessions of up to ") \
        and "cli-plat" in stats.stdout, stats.stdout
    assert cli("open", "--print", sid).stdout.startswith("http://127.0.0.1:")
    doctor = cli("doctor", sid, "--host", "canfar")
    assert doctor.returncode == 0 and "CANFAR Science Platform" in doctor.stdout, doctor.stdout
    deleted = cli("delete", "-f", sid)
    assert deleted.returncode == 0 and f"{sid} deleted" in deleted.stdout
    out = cli("hosts", "logout", "canfar")
    assert "the saved token was removed" in out.stdout and "No CANFAR login found" in out.stdout


def test_an_expiring_login_is_said_by_ps_doctor_and_settings(make_service: Callable[..., SessionService],
                                                              standin: StandIn, paths: AppPaths) -> None:
    from datetime import UTC, datetime

    from canfar_desktop.core.settings import save_settings
    from canfar_desktop.ui.platform_login import WARN_COLOUR, describe_login

    original = standin.token
    try:
        standin.use_token(paths, jwt(datetime.now(UTC) + timedelta(days=1)))
        service = make_service(hosts=[HostConfig(), standin.host()])
        save_settings(paths, service.settings)
        ps = subprocess.run([*CLI, "ps"], cwd=REPO, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
        assert ps.returncode == 0, ps.stderr
        warned = [line for line in ps.stderr.splitlines() if line.startswith("warning: canfar: ")]
        assert len(warned) == 1 and "valid until" in warned[0] and "canfar-desktop hosts login canfar" in warned[0]
        engine = {c.id: c for c in run_checks(service, host="canfar")}["engine"]
        assert engine.level == "warn" and "hosts login canfar" in engine.hint
        text, colour = describe_login(standin.host(), paths)
        assert colour == WARN_COLOUR and "valid until" in text and "left" in text
        assert service.host_status("canfar").warning.startswith("The token saved for canfar, valid until")

        standin.use_token(paths, jwt(datetime.now(UTC) + timedelta(days=30)))  # renewed: nothing to say
        service.reset_host("canfar")
        assert service.host_status("canfar").warning == ""
        ps = subprocess.run([*CLI, "ps"], cwd=REPO, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
        assert ps.returncode == 0 and "warning: canfar:" not in ps.stderr
    finally:
        standin.use_token(paths, original)
