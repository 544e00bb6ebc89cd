"""Remote hosts on this machine: an SSH server in front of the main engine, and a second engine on TLS.

Sessions there are reached through local forwards (SSH direct-tcpip, or a relay through `docker exec`
over the TLS API); their ports stay on the remote host's 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canfar_desktop.core.backends.ssh import SshDialer, resolve_ssh, ssh_client
from canfar_desktop.core.errors import EngineUnavailable, ValidationError
from canfar_desktop.core.hosts import list_contexts
from canfar_desktop.core.hosts import open_host as make_host
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.plan import L_GATE_OF
from canfar_desktop.core.probe import established_connections
from canfar_desktop.core.record import replace
from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import HostConfig

from ..helpers import http_get as get
from ..helpers import wait_for
from .remote_fixtures import SshServer, TlsEngine

CLI = [sys.executable, "-m", "canfar_desktop"]


def api_ok(port: int, s: Session) -> bool:
    status, body = get(port, f"/session/notebook/{s.id}/api/status?token={s.secret}")
    return status == 200 and "connections" in json.loads(body)


def launch_on(service: SessionService, host: str, kind: str, image: str, name: str) -> Session:
    return service.launch(service.prepare_launch(kind, image, name, host=host))


def tls_config(engine: TlsEngine, name: str = "tls", ca: Path | None = None, client: bool = True) -> HostConfig:
    return HostConfig(name=name, url=engine.url, tls_ca=str(ca or engine.ca),
                      tls_cert=str(engine.cert) if client else "", tls_key=str(engine.key) if client else "")


@pytest.fixture
def remote(remote_home: Path, make_service: Callable[..., SessionService]) -> Iterator[Callable[..., SessionService]]:
    """make_service with HOME holding the SSH settings; every service's forwards are closed afterwards."""
    made: list[SessionService] = []

    def factory(*hosts: HostConfig) -> SessionService:
        service = make_service(hosts=[HostConfig(name="local"), *hosts])
        made.append(service)
        return service

    yield factory
    for service in made:
        service.close()


def test_notebook_on_ssh_host_through_a_forward_that_comes_back(
        remote: Callable[..., SessionService], ssh_server: SshServer, docker_engine: Any,
        session_images: dict[str, str]) -> None:
    service = remote(HostConfig(name="ssh", url=ssh_server.url))
    s = service.wait_ready(launch_on(service, "ssh", "notebook", session_images["notebook"], "remote-nb"), 120)
    assert s.state == State.RUNNING and s.host == "ssh", s.reason
    # on the remote side the port is published on its loopback only
    bindings = docker_engine.api.inspect_container(s.container_id)["HostConfig"]["PortBindings"]["8888/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
    address, port = service.endpoint(s)
    assert address == "127.0.0.1" and port != s.host_port, "a local forward, not the remote port"
    assert service.open_url(s).startswith(f"http://127.0.0.1:{port}/session/notebook/{s.id}/lab")
    assert api_ok(port, s)
    assert [(f.local_port, f.via) for f in service.registry.forwards.forwards()] == [(port, "ssh")]
    assert "volumes on ssh" in service.storage_description("ssh")
    # the viewer signal counts connections on the forward's local port
    with socket.create_connection(("127.0.0.1", port)) as viewer:
        viewer.sendall(f"GET /session/notebook/{s.id}/api/status?token={s.secret} HTTP/1.1\r\n"
                       "Host: x\r\n\r\n".encode())
        assert viewer.recv(12).startswith(b"HTTP/1.1 200")
        assert (established_connections(port) or 0) >= 1
        # cut every SSH connection: the open connection ends, new ones on the same port work again
        assert ssh_server.drop_connections() > 0
        viewer.settimeout(10)
        assert wait_for(lambda: viewer.recv(65536) == b"", 10, "the cut connection to close")
    assert wait_for(lambda: api_ok(port, s), 30, "requests through the same local port after the cut")
    assert service.endpoint(s) == (address, port)
    service.delete(s)
    assert service.registry.forwards.forwards() == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_notebook_and_contributed_on_tls_host_through_exec_relays(
        remote: Callable[..., SessionService], tls_engine: TlsEngine, session_images: dict[str, str]) -> None:
    service = remote(tls_config(tls_engine))
    nb = service.wait_ready(launch_on(service, "tls", "notebook", session_images["notebook"], "tls-nb"), 120)
    assert nb.state == State.RUNNING and nb.host == "tls", nb.reason
    bindings = service.host("tls").inspect(nb.container_id)["HostConfig"]["PortBindings"]["8888/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
    address, port = service.endpoint(nb)
    assert port != nb.host_port and service.open_url(nb).startswith(f"http://127.0.0.1:{port}/")
    for _ in range(20):  # every connection is its own relay
        assert api_ok(port, nb), service.registry.forwards.forwards()
    assert get(port, f"/session/notebook/{nb.id}/api/status?token=wrong")[0] == 403, "the secret still counts"
    # drop the API connection: the next connection through the same port reconnects
    service.host("tls").reset()
    assert api_ok(port, nb) and service.endpoint(nb) == (address, port)
    # a kind without in-app auth, reached only through the authenticated API
    web = service.wait_ready(launch_on(service, "tls", "contributed", session_images["contributed"], "tls-web"), 60)
    assert web.state == State.RUNNING, web.reason
    _, web_port = service.endpoint(web)
    assert get(web_port, "/")[0] == 401, "the relay reaches the session's gate, which asks for the secret"
    assert get(web_port, "/", {"X-Canfar-Secret": web.secret})[0] == 200
    assert {f.via for f in service.registry.forwards.forwards()} == {"docker exec"}
    assert "volumes on tls" in service.storage_description("tls")
    helpers = [h for h in service.host("tls").helpers() if L_GATE_OF not in (h.get("Labels") or {})]
    assert helpers == [], "the containers that prepare volumes are removed once done"
    # no relay outlives its connection
    assert wait_for(lambda: "create_connection" not in json.dumps(service.host("tls").top(nb.container_id)), 20,
                    "relays to exit")


def test_ssh_host_down_is_local_to_it_and_recovers(
        remote: Callable[..., SessionService], ssh_server: SshServer, session_images: dict[str, str]) -> None:
    service = remote(HostConfig(name="ssh", url=ssh_server.url))
    s = launch_on(service, "ssh", "contributed", session_images["contributed"], "down-and-back")
    sessions, errors = service.list_all()
    assert errors == {} and ("ssh", s.id) in [(x.host, x.id) for x in sessions]
    ssh_server.stop()
    try:
        sessions, errors = service.list_all()
        assert set(errors) == {"ssh"} and isinstance(errors["ssh"], EngineUnavailable)
        assert "SSH" in errors["ssh"].message, errors["ssh"]
        assert [x.host for x in sessions if x.id == s.id] == ["local"], "the local host keeps working"
        listing = service.listing("ssh")
        assert listing is not None and not listing.reachable and listing.error is errors["ssh"]
        assert [x.id for x in listing.sessions] == [s.id], "last known sessions kept for 'host unreachable'"
        status = service.host_status("ssh")
        assert not status.ok and status.rtt_ms is None and status.error
        assert service.host_status("local").ok
    finally:
        ssh_server.start()

    def back() -> bool:
        found, errs = service.list_all()
        return not errs and ("ssh", s.id) in [(x.host, x.id) for x in found]

    assert wait_for(back, 30, "the ssh host to recover by itself")
    listing = service.listing("ssh")
    assert listing is not None and listing.reachable and service.host_status("ssh").ok


def test_tls_verification_failures_are_refused(remote: Callable[..., SessionService], tls_engine: TlsEngine) -> None:
    service = remote(tls_config(tls_engine, "wrongca", ca=tls_engine.wrong_ca), tls_config(tls_engine, "nocert",
                                                                                           client=False))
    with pytest.raises(EngineUnavailable) as info:
        service.sessions("wrongca")
    assert info.value.message.startswith(f"TLS verification with {tls_engine.url} failed"), info.value
    assert "CA" in info.value.hint
    with pytest.raises(EngineUnavailable) as info:
        service.sessions("nocert")  # the engine demands a client certificate
    assert info.value.message.startswith(f"TLS verification with {tls_engine.url} failed ("), info.value
    assert info.value.hint == "check the CA, client certificate and key configured for this host"
    status = service.host_status("wrongca")
    assert not status.ok and "TLS verification" in status.error
    # a remote tcp:// host without TLS is refused, never tried in the clear
    plain = make_host(HostConfig(name="plain", url=f"tcp://127.0.0.2:{tls_engine.port}"))
    with pytest.raises(ValidationError) as refused:
        plain.ping()
    assert "no TLS CA" in refused.value.message


def test_unknown_or_changed_ssh_host_key_is_refused(remote_home: Path, ssh_server: SshServer) -> None:
    unknown = make_host(HostConfig(name="unknown", url=f"ssh://root@localhost:{ssh_server.port}"))
    with pytest.raises(EngineUnavailable) as info:
        unknown.ping()
    assert "host key" in info.value.message and "unknown" in info.value.message
    with pytest.raises(EngineUnavailable) as info:
        ssh_client(resolve_ssh(f"ssh://root@localhost:{ssh_server.port}"))
    assert "unknown and was refused" in info.value.message
    assert "localhost" not in ssh_server.known_hosts.read_text(), "nothing was added to known_hosts"
    # a changed key: known_hosts holds another key for the server
    saved = ssh_server.known_hosts.read_text()
    other = ssh_server.home / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    try:
        ssh_server.known_hosts.write_text(f"[127.0.0.1]:{ssh_server.port} "
                                          + " ".join(Path(f"{other}.pub").read_text().split()[:2]) + "\n")
        dialer = SshDialer(ssh_server.url)
        with pytest.raises(EngineUnavailable) as info:
            dialer._transport(fresh=True)
        assert "CHANGED" in info.value.message
        with pytest.raises(EngineUnavailable) as info:
            make_host(HostConfig(name="changed", url=ssh_server.url)).ping()
        assert "host key" in info.value.message
    finally:
        ssh_server.known_hosts.write_text(saved)


def test_cli_imports_a_context_and_runs_a_session_there(
        remote: Callable[..., SessionService], tls_engine: TlsEngine, tmp_path: Path,
        session_images: dict[str, str]) -> None:
    service = remote()
    created = subprocess.run(
        ["docker", "context", "create", "canfar-tls-ctx", "--docker",
         f"host={tls_engine.url},ca={tls_engine.ca},cert={tls_engine.cert},key={tls_engine.key}"],
        capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert [h.name for h in list_contexts()] == ["canfar-tls-ctx"]
    for key, value in (("user", service.settings.user), ("arc_root", str(tmp_path / "arc"))):
        subprocess.run([*CLI, "config", "set", key, value], check=True, capture_output=True)
    imported = subprocess.run([*CLI, "hosts", "import-contexts"], capture_output=True, text=True)
    assert imported.returncode == 0 and "canfar-tls-ctx" in imported.stdout, imported.stderr
    ls = subprocess.run([*CLI, "hosts"], capture_output=True, text=True)
    row = next(line for line in ls.stdout.splitlines() if line.startswith("canfar-tls-ctx"))
    assert tls_engine.url in row and " ok, " in row, ls.stdout
    made = subprocess.run([*CLI, "create", "contributed", "--host", "canfar-tls-ctx", "-n", "ctx-web", "--wait",
                           "-o", "json"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    data = json.loads(made.stdout)
    assert data["host"] == "canfar-tls-ctx" and data["status"] == "Running"
    local = subprocess.run([*CLI, "create", "contributed", "-n", "ctx-local", "-o", "json"],
                           capture_output=True, text=True, timeout=120)
    assert local.returncode == 0, local.stderr
    ps = subprocess.run([*CLI, "ps"], capture_output=True, text=True)
    lines = ps.stdout.splitlines()
    assert lines[0].split()[:3] == ["SESSION", "ID", "HOST"], ps.stdout
    hosts = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert hosts[data["id"]] == "canfar-tls-ctx" and hosts[json.loads(local.stdout)["id"]] == "local"
    only = subprocess.run([*CLI, "ps", "--host", "canfar-tls-ctx", "-q"], capture_output=True, text=True)
    assert only.stdout.split() == [data["id"]]
    deleted = subprocess.run([*CLI, "delete", "-f", data["id"]], capture_output=True, text=True)
    assert deleted.returncode == 0, deleted.stderr


def run_as_user(engine: TlsEngine, s: Session, uid: int, script: str) -> str:
    """A shell command in a session on the TLS engine (through its own unix socket), as the session's user."""
    client = engine.client()
    try:
        code, out = client.containers.get(s.container_id).exec_run(["sh", "-c", script], user=str(uid))
    finally:
        client.close()
    assert code == 0, out.decode(errors="replace")
    return str(out.decode().strip())


def test_arc_survives_and_scratch_goes_on_a_tls_host(remote: Callable[..., SessionService], tls_engine: TlsEngine,
                                                     session_images: dict[str, str]) -> None:
    """On a remote host /arc lives in named volumes there and /scratch in a volume per session."""
    service = remote(tls_config(tls_engine))
    user, uid = service.settings.user, service.settings.uid
    first = service.wait_ready(launch_on(service, "tls", "contributed", session_images["contributed"], "keep-1"), 60)
    # (/arc/projects holds one group folder per project, made with `project create`: see test_projects.py)
    run_as_user(tls_engine, first, uid, "echo precious > $HOME/result.txt; echo temp > /scratch/tmp.txt")
    engine = tls_engine.client()
    try:
        volumes = {v.name for v in engine.volumes.list()}
        home, scratch = f"canfar-arc-home-{user}", f"canfar-scratch-{first.id}"
        assert {home, "canfar-arc-projects", scratch} <= volumes, volumes
        service.delete(first)
        assert wait_for(lambda: scratch not in {v.name for v in engine.volumes.list()}, 30, "the /scratch volume to go")
        assert {home, "canfar-arc-projects"} <= {v.name for v in engine.volumes.list()}, "/arc stays"
    finally:
        engine.close()
    second = service.wait_ready(launch_on(service, "tls", "contributed", session_images["contributed"], "keep-2"), 60)
    assert run_as_user(tls_engine, second, uid, "cat $HOME/result.txt; ls -A /scratch") == \
        "precious", "what was saved under /arc is there in the next session; /scratch starts empty"


def test_requests_ca_bundle_cannot_replace_the_hosts_ca(remote: Callable[..., SessionService], tls_engine: TlsEngine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A CA bundle in the environment (corporate proxies set one) neither vouches for a host nor breaks one."""
    service = remote(tls_config(tls_engine, "wrongca", ca=tls_engine.wrong_ca), tls_config(tls_engine))
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(tls_engine.ca))  # a bundle that would vouch for the engine
    with pytest.raises(EngineUnavailable) as info:
        service.sessions("wrongca")
    assert info.value.message.startswith(f"TLS verification with {tls_engine.url} failed"), info.value
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(variable, str(tls_engine.wrong_ca))  # a bundle that does not know the engine
    service.reset_host("tls")
    assert service.sessions("tls") == [] and service.host_status("tls").ok


def test_hostname_mismatch_is_refused(remote: Callable[..., SessionService], tls_engine: TlsEngine) -> None:
    """The right CA and client certificate, but the server's certificate names another address."""
    service = remote(HostConfig(name="elsewhere", url=tls_engine.mismatched_url, tls_ca=str(tls_engine.ca),
                                tls_cert=str(tls_engine.cert), tls_key=str(tls_engine.key)))
    with pytest.raises(EngineUnavailable) as info:
        service.sessions("elsewhere")
    message = info.value.message
    assert message.startswith(f"TLS verification with {tls_engine.mismatched_url} failed ("), message
    assert "127.0.0.3" in message and "match" in message, message
    assert info.value.hint == "check the CA, client certificate and key configured for this host"


def test_ssh_tunnel_reaches_a_tls_hosts_sessions(remote: Callable[..., SessionService], tls_engine: TlsEngine,
                                                 ssh_server: SshServer, session_images: dict[str, str]) -> None:
    """`ssh_tunnel`: the API over TLS, the session's port through an SSH forward instead of an exec relay."""
    cfg = replace(tls_config(tls_engine), ssh_tunnel=ssh_server.url)
    service = remote(cfg)
    s = service.wait_ready(launch_on(service, "tls", "contributed", session_images["contributed"], "tunnelled"), 60)
    address, port = service.endpoint(s)
    assert address == "127.0.0.1" and port != s.host_port
    [forward] = service.registry.forwards.forwards()
    assert (forward.local_port, forward.via) == (port, "ssh")
    assert get(port, "/")[0] == 401
    status, body = get(port, "/", {"X-Canfar-Secret": s.secret})
    assert status == 200 and b"Arc browser" in body


@pytest.fixture
def proxied_home(ssh_server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A HOME whose ~/.ssh/config reaches the SSH server only through a ProxyCommand that logs each use."""
    home = tmp_path / "proxied-home"
    shutil.copytree(ssh_server.home / ".ssh", home / ".ssh")
    used = tmp_path / "proxy-used.log"
    relay = tmp_path / "relay.py"
    relay.write_text(
        "import socket, sys, threading\n"
        f"open({str(used)!r}, 'a').write('used\\n')\n"
        "s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
        "def up():\n"
        "    while data := sys.stdin.buffer.read1(65536):\n"
        "        s.sendall(data)\n"
        "    s.shutdown(socket.SHUT_WR)\n"
        "threading.Thread(target=up, daemon=True).start()\n"
        "while data := s.recv(65536):\n"
        "    sys.stdout.buffer.write(data)\n"
        "    sys.stdout.buffer.flush()\n")
    alias, hidden = "canfar-ssh-proxied", "canfar-proxied.invalid"  # a name no resolver knows: only the proxy gets there
    config = home / ".ssh" / "config"
    config.write_text(config.read_text() + (
        f"Host {alias}\n  HostName {hidden}\n  Port {ssh_server.port}\n  User root\n"
        f"  IdentityFile {home / '.ssh' / 'id_ed25519'}\n  IdentitiesOnly yes\n"
        f"  ProxyCommand {sys.executable} {relay} 127.0.0.1 {ssh_server.port}\n"))
    known = home / ".ssh" / "known_hosts"
    key = known.read_text().split(None, 1)[1]
    known.write_text(known.read_text() + f"[{hidden}]:{ssh_server.port} {key}")
    monkeypatch.setenv("HOME", str(home))
    return f"ssh://{alias}", used


def test_proxy_command_carries_the_api_and_the_sessions_forward(
        remote: Callable[..., SessionService], proxied_home: tuple[str, Path], session_images: dict[str, str]) -> None:
    """The host's name resolves nowhere: the API and the session's forward work only through the proxy."""
    url, used = proxied_home
    service = remote(HostConfig(name="proxied", url=url))
    service.sessions("proxied")
    assert len(used.read_text().splitlines()) == 1, "the Docker API's connection went through the ProxyCommand"
    s = service.wait_ready(launch_on(service, "proxied", "contributed", session_images["contributed"], "via-proxy"), 60)
    _, port = service.endpoint(s)
    [forward] = service.registry.forwards.forwards()
    assert (forward.local_port, forward.via) == (port, "ssh")
    assert get(port, "/")[0] == 401
    status, body = get(port, "/", {"X-Canfar-Secret": s.secret})
    assert status == 200 and b"Arc browser" in body
    assert len(used.read_text().splitlines()) == 2, "the forward's own SSH connection went through it too"


# Closing the dropped connection's pool makes urllib3's finalizer meet paramiko's EOFError, which Python
# reports as ignored; that report is not what this test is about.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dropped_connection_during_create_is_retried_once_and_recognised_by_id(
        remote: Callable[..., SessionService], ssh_server: SshServer, docker_engine: Any,
        session_images: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The SSH connection drops after the engine created the session's container and before its answer
    arrived. The call is made once more on a new connection, the engine answers "name in use", and the
    launch recognises its own container by the session id in its labels: no failure, no second one.

    The engine really creates the container and every SSH connection is really cut; only the lost
    answer is arranged (the create call raises what a connection dying mid-reply raises), because a cut
    that lands between the engine's work and its reply cannot be timed from outside.
    """
    import docker.api.container
    import docker.errors
    import requests

    service = remote(HostConfig(name="ssh", url=ssh_server.url))
    service.sessions("ssh")  # connected: a later drop is a connection that had worked
    real = docker.api.container.ContainerApiMixin.create_container_from_config
    calls: list[str] = []

    def create_and_lose_the_answer(api: Any, config: Any, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not str(name or "").startswith("canfar-retried-"):
            return real(api, config, name, *args, **kwargs)  # not the session's container
        try:
            answer = real(api, config, name, *args, **kwargs)
        except docker.errors.APIError as exc:
            calls.append(f"refused {exc.status_code}")
            raise
        calls.append("created")
        if len(calls) == 1:
            assert ssh_server.drop_connections() > 0
            raise requests.exceptions.ConnectionError("Connection aborted: the SSH connection closed mid-reply")
        return answer

    monkeypatch.setattr(docker.api.container.ContainerApiMixin, "create_container_from_config",
                        create_and_lose_the_answer)
    s = launch_on(service, "ssh", "contributed", session_images["contributed"], "retried")
    assert calls == ["created", "refused 409"], calls
    labelled = docker_engine.containers.list(all=True, filters={"label": f"net.canfar.desktop.session={s.id}"})
    assert [c.id for c in labelled] == [s.container_id], "one container: the one the first attempt made"
    assert service.wait_ready(s, 60).state == State.RUNNING


@pytest.mark.parametrize("host", ["local", "tls"])
def test_a_port_another_program_holds_is_passed_over(
        host: str, remote: Callable[..., SessionService], tls_engine: TlsEngine, docker_engine: Any,
        session_images: dict[str, str]) -> None:
    """Each engine hands out ports in sequence and gives up after ten taken ones in a row.

    Another engine on the same computer (or any program) may hold that many: its own sessions' ports.
    """
    service = remote(tls_config(tls_engine))
    image = session_images["contributed"]
    client = docker_engine if host == "local" else tls_engine.client()
    probe = client.containers.run(image, entrypoint=["sleep", "60"], ports={"9/tcp": ("127.0.0.1", None)},
                                  detach=True)
    probe.reload()
    last = int(probe.ports["9/tcp"][0]["HostPort"])
    probe.remove(force=True)
    held = []
    following = range(last + 1, last + 13)  # more than the engine tries by itself
    for port in following:
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is held too
        try:
            holder.bind(("127.0.0.1", port))
            holder.listen()
        except OSError:  # something holds it already, which serves as well
            holder.close()
            continue
        held.append(holder)
    try:
        s = service.wait_ready(launch_on(service, host, "contributed", image, f"held-ports-{host}"), 60)
        assert s.state == State.RUNNING, s.reason
        assert s.host_port not in following
    finally:
        for holder in held:
            holder.close()
