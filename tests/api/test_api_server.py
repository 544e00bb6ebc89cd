"""The API server itself, over HTTP: filters and views, loopback only, a token shown and rotated from the
CLI, and a request log that carries neither the token nor a query string."""

from __future__ import annotations

import json
import socket
import subprocess
from typing import Any

import pytest

from .conftest import ApiServer

pytestmark = pytest.mark.integration

NOTEBOOK = "canfar-desktop/notebook:latest"


def other_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (the Docker bridge's at least)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    found = [line.split()[3].split("/")[0] for line in out.splitlines() if " lo " not in line]
    return [a for a in found if not a.startswith("127.")]


def test_status_type_and_view_filters(api: ApiServer, core_service: Any) -> None:
    nb = core_service.wait_ready(core_service.launch(core_service.prepare_launch("notebook", NOTEBOOK, "filt")), 120)
    job = core_service.wait_finished(core_service.launch(
        core_service.prepare_launch("headless", NOTEBOOK, "filt-job", command=["true"])), 120)

    def ids(query: str) -> set[str]:
        status, text = api.http("GET", f"/session{query}")
        assert status == 200, text
        return {s["id"] for s in json.loads(text)}

    assert ids("") == {nb.id, job.id}
    assert ids("?status=Running") == {nb.id}
    assert ids("?status=Completed") == {job.id}
    assert ids("?status=Succeeded") == {job.id}, "the platform's legacy word"
    assert ids("?type=headless") == {job.id}
    assert ids("?type=notebook&status=Running") == {nb.id}
    assert ids("?view=interactive") == {nb.id}, "batch jobs are not interactive sessions"
    stats = json.loads(api.http("GET", "/session?view=stats")[1])
    assert stats["cores"]["requestedCPUCores"] > 0 and "ram" in stats
    assert ids("?status=Sleeping") == set(), "as on the platform, an unknown word selects nothing"


def test_listens_on_the_loopback_only(api: ApiServer) -> None:
    addresses = other_addresses()
    assert addresses, "this machine has no non-loopback address to try"
    for address in addresses:
        with socket.socket() as sock:
            sock.settimeout(5)
            assert sock.connect_ex((address, api.port)) != 0, f"the API answers on {address}"
    with socket.create_connection(("127.0.0.1", api.port), timeout=5):
        pass


def test_show_and_rotate_the_token_from_the_cli(api: ApiServer) -> None:
    shown = api.desktop("api", "--show-token")
    assert shown.returncode == 0, shown.stderr
    assert f"export CANFAR_TOKEN={api.token}\n" in shown.stdout
    rotated = api.desktop("api", "--rotate-token")
    assert rotated.returncode == 0 and "no longer works" in rotated.stderr
    new = rotated.stdout.split("export CANFAR_TOKEN=", 1)[1].strip()
    try:
        assert new != api.token and len(new) >= 43
        assert api.http("GET", "/session", token=api.token)[0] == 401, "the old token stops working at once"
        assert api.http("GET", "/session", token=new)[0] == 200
    finally:
        api.token = new  # the module's later tests use the new one


def test_the_request_log_has_no_token_and_no_query(api: ApiServer) -> None:
    marker = "needle" + api.token[:6]
    api.http("GET", f"/session?status=Running&view={marker}")
    api.http("GET", f"/session/nothere?token={marker}", token="wrong-" + marker)
    api.http("GET", "/context")
    log = api.log.read_text()
    assert "GET /skaha/v1/context 200" in log, log[-2000:]
    assert "GET /skaha/v1/session 200" in log and "GET /skaha/v1/session/nothere 401" in log
    assert marker not in log and api.token not in log and "?" not in log
