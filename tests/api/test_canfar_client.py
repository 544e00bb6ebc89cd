"""The official `canfar` client (PyPI canfar 1.5.2, its own environment) drives this computer's sessions
through `canfar-desktop api`, on the real engine with the project's images."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import datetime
from typing import Any

import pytest

from .conftest import SESSION_LIMIT, ApiServer

pytestmark = pytest.mark.integration

NOTEBOOK = "canfar-desktop/notebook:latest"  # the client makes it images.canfar.net/canfar-desktop/notebook:latest
CREATED = re.compile(r"\(ID: ([a-z0-9]{8})\)")


def created_id(output: str) -> str:
    match = CREATED.search(output)
    assert match, f"no session id in: {output}"
    return match.group(1)


def info_rows(api: ApiServer, session_id: str) -> dict[str, str]:
    """`canfar info` as a dict of its table's rows."""
    out = api.canfar("info", session_id).stdout
    rows = {}
    for line in out.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2:
            rows[parts[0]] = parts[1]
    return rows


def test_requests_without_the_token_are_refused(api: ApiServer) -> None:
    status, text = api.http("GET", "/session", token=None)
    assert status == 401 and "Bearer" in text
    assert api.http("GET", "/session", token="not-the-token")[0] == 401
    status, text = api.http("GET", "/session")
    assert status == 200 and json.loads(text) == []
    wrong = api.canfar("ps", check=False, token="not-the-token")
    assert wrong.returncode != 0 and "Unable to list sessions" in wrong.stdout + wrong.stderr


def test_notebook_through_the_client_from_create_to_delete(api: ApiServer) -> None:
    made = api.canfar("create", "notebook", NOTEBOOK, "-n", "x", "-c", "1", "-m", "2")
    sid = created_id(made.stdout)
    running = api.wait_status(sid, "Running")
    assert running["type"] == "notebook" and running["name"] == "x"
    assert running["image"] == NOTEBOOK  # the client's images.canfar.net/ prefix mapped back to the local image
    assert running["isFixedResources"] is True

    raw = next(s for s in json.loads(api.http("GET", "/session")[1]) if s["id"] == sid)
    assert raw["requestedCPUCores"] == "1" and raw["requestedRAM"] == "2.15"  # 2 GiB, in the platform's decimal GB
    assert float(raw["ramInUse"]) > 0 and "cpuCoresInUse" in raw
    start, expiry = (datetime.fromisoformat(raw[k].replace("Z", "+00:00")) for k in ("startTime", "expiryTime"))
    assert 95 * 3600 < (expiry - start).total_seconds() <= 96 * 3600 + 5

    url = raw["connectURL"]
    assert url.startswith("http://127.0.0.1:") and f"/session/notebook/{sid}/lab" in url and "token=" in url
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200 and b"JupyterLab" in answer.read()  # the tokenised URL opens the notebook

    rows = info_rows(api, sid)
    assert rows["Status"] == "Running" and rows["Type"] == "notebook" and rows["Connect URL"].startswith("http://")

    logs = api.canfar("logs", sid).stdout
    assert "Jupyter" in logs or "jupyter" in logs
    events = api.canfar("events", sid).stdout
    assert "Started" in events and "Created" in events

    renewed = api.canfar("renew", sid).stdout
    assert "renewed 1" in renewed
    after = next(s for s in json.loads(api.http("GET", "/session")[1]) if s["id"] == sid)
    assert after["expiryTime"] > raw["expiryTime"], "renew moves the expiry to a full lifetime from now"

    stats = api.canfar("stats").stdout
    assert "Total" in stats and "Usage" in stats
    images = api.canfar("image", "ls").stdout
    assert "notebook:latest" in images

    table = api.canfar("ps").stdout  # the plain table a person reads
    row = next(line for line in table.splitlines() if sid in line)
    assert "x" in row.split() and "notebook" in row and "Running" in row

    listed = api.desktop("ps")  # made through the API, listed by canfar-desktop's own CLI
    assert listed.returncode == 0 and sid in listed.stdout, listed.stderr

    deleted = api.canfar("delete", "-f", sid).stdout
    assert "deleted" in deleted.lower()
    assert all(s["id"] != sid for s in api.sessions())
    assert api.http("GET", f"/session/{sid}")[0] == 404


def test_headless_job_runs_to_completion_and_keeps_its_output(api: ApiServer) -> None:
    code = ("o=__import__('os');open('/scratch/out','w').write('1');"
            "print('replica',o.environ['REPLICA_ID'],'of',o.environ['REPLICA_COUNT'],"
            "o.path.isdir('/arc/home'),o.path.isdir('/arc/projects'),6*7)")
    made = api.canfar("create", "headless", NOTEBOOK, "-n", "job", "--", "python3", "-c", code)
    sid = created_id(made.stdout)
    done = api.wait_status(sid, "Completed")
    assert done["type"] == "headless"
    logs = api.canfar("logs", sid).stdout
    assert "replica 1 of 1 True True 42" in logs

    failing = created_id(api.canfar("create", "headless", NOTEBOOK, "-n", "bad", "--",
                                    "python3", "-c", "raise(SystemExit(3))").stdout)
    api.wait_status(failing, "Failed")
    events = api.http("GET", f"/session/{failing}?view=events")[1]
    assert "exit code 3" in events

    listed = api.desktop("ps", "-a")  # canfar-desktop's own list shows batch jobs too
    assert sid in listed.stdout and failing in listed.stdout and "headless" in listed.stdout


def test_python_api_fetch_create_destroy(api: ApiServer) -> None:
    script = f"""
import json, os, time
from canfar.sessions import Session
session = Session(url=os.environ["CANFAR_URL"], token=os.environ["CANFAR_TOKEN"])
ids = session.create(name="py", image="{NOTEBOOK}", cores=1, ram=2, kind="notebook")
listed = [s["id"] for s in session.fetch(kind="notebook")]
info = session.info(ids)
destroyed = session.destroy(ids)
after = [s["id"] for s in session.fetch()]
print(json.dumps({{"ids": ids, "listed": listed, "info": info, "destroyed": destroyed, "after": after}}))
"""
    result: dict[str, Any] = api.python(script)
    assert len(result["ids"]) == 1
    sid = result["ids"][0]
    assert sid in result["listed"]
    assert result["info"][0]["id"] == sid and result["info"][0]["name"] == "py"
    assert result["destroyed"] == {sid: True}
    assert sid not in result["after"]


def test_session_made_by_the_core_is_listed_by_canfar_ps(api: ApiServer, core_service: Any) -> None:
    req = core_service.prepare_launch("notebook", NOTEBOOK, "from-app")
    s = core_service.launch(req)
    listed = api.canfar("ps", "-a").stdout
    assert s.id in listed and "from-app" in listed


def test_limit_reached_answers_the_platform_error(api: ApiServer, core_service: Any) -> None:
    for n in range(SESSION_LIMIT):
        core_service.launch(core_service.prepare_launch("notebook", NOTEBOOK, f"fill-{n}"))
    # A batch job does not count against the limit, as on the platform.
    job = created_id(api.canfar("create", "headless", NOTEBOOK, "-n", "free", "--", "true").stdout)
    assert job
    status, text = api.http("POST", f"/session?name=over&image={NOTEBOOK}&type=notebook")
    expected = f"User {api.user} has reached the maximum of {SESSION_LIMIT} active sessions."
    assert (status, text.strip()) == (400, expected)
    script = f"""
import json, os
from canfar.sessions import Session
from canfar.exceptions.session import SessionRequestError
session = Session(url=os.environ["CANFAR_URL"], token=os.environ["CANFAR_TOKEN"])
try:
    session.create(name="over", image="{NOTEBOOK}", kind="notebook", errors="raise")
    print(json.dumps(None))
except SessionRequestError as err:
    print(json.dumps([(e.response.status_code, e.response.text) for e in err.errors.values()]))
"""
    assert api.python(script) == [[400, expected + "\n"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("image=x/y", "Missing parameter 'name'"),
    ("name=ok", "Missing parameter 'image'"),
    ("name=bad_name&image=x/y&type=notebook", "name can only contain alpha-numeric chars and '-'"),
    ("name=ok&image=x/y&type=notebook&cores=999", "Unavailable option for 'cores': 999"),
    ("name=ok&image=x/y&type=notebook&ram=lots", "Invalid value for 'ram': lots"),
    ("name=ok&image=x/y&type=bogus", "Invalid session type: bogus"),
    ("name=ok&image=Not%20An%20Image&type=notebook", "is not a valid image reference"),
])
def test_bad_requests_get_the_platform_400(api: ApiServer, query: str, expected: str) -> None:
    status, text = api.http("POST", f"/session?{query}")
    assert status == 400 and expected in text and text.count("\n") == 1


def test_context_and_repository_describe_this_host(api: ApiServer) -> None:
    context = json.loads(api.http("GET", "/context")[1])
    assert context["cores"]["options"][0] == 1 and context["maxInteractiveSessions"] == SESSION_LIMIT
    assert context["memoryGB"]["options"][-1] >= 1
    assert json.loads(api.http("GET", "/repository")[1])[0] == "images.canfar.net"
    images = json.loads(api.http("GET", "/image?type=headless")[1])
    assert any(i["id"] == NOTEBOOK and i["digest"].startswith("sha256:") for i in images)
    assert api.http("GET", "/image?type=nonsense")[0] == 400
