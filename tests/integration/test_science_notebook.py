"""The notebook image as an astronomer meets it: the scientific stack imports, `pip install --user`
lands in /arc/home and is there in the next session, and terminals run bash with ~/.bashrc."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any

import pytest

from canfar_desktop.core.service import SessionService
from canfar_desktop.core.session import Session

from ..helpers import wait_for
from .science_fixtures import exec_in, make_wheel, need_images


@pytest.fixture
def science_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    return need_images(docker_engine, session_images)

STACK = "numpy, scipy, matplotlib, pandas, astropy, astroquery, photutils, ipywidgets"


def notebook(service: SessionService, image: str, name: str) -> Session:
    s = service.wait_ready(service.launch(service.prepare_launch("notebook", image, name)), timeout=120)
    return service.get(s.id)


def post(service: SessionService, s: Session, path: str) -> tuple[int, Any]:
    addr, port = service.endpoint(s)
    conn = http.client.HTTPConnection(addr, port, timeout=20)
    try:
        conn.request("POST", f"/session/notebook/{s.id}{path}", body=b"{}",
                     headers={"Authorization": f"token {s.secret}", "Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else None
    finally:
        conn.close()


def test_stack_imports_user_installs_persist_and_terminals_run_bash(
        make_service: Callable[..., SessionService], science_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service()
    home = service.settings.arc_folder() / "home" / service.settings.user
    first = notebook(service, science_images["notebook"], "sci-nb-one")

    code, out = exec_in(docker_engine, first.container_id, ["python3", "-c", f"import {STACK}; import astropy; "
                                                            "print('astropy', astropy.__version__)"])
    assert code == 0 and out.startswith("astropy "), out
    code, out = exec_in(docker_engine, first.container_id, ["sh", "-c", "echo $SHELL; id -un; echo $PYTHONUSERBASE"])
    assert out.split() == ["/bin/bash", service.settings.user, f"/arc/home/{service.settings.user}/.local"], out

    # `pip install --user`, and a plain `pip install` (the environment is root's: pip falls back to the
    # user site), both into /arc/home, offline from wheels the person saved there
    make_wheel(home, "canfar_user_pkg", "kept")
    make_wheel(home, "canfar_plain_pkg", "also kept")
    for args in (["--user", f"/arc/home/{service.settings.user}/canfar_user_pkg-1.0-py3-none-any.whl"],
                 [f"/arc/home/{service.settings.user}/canfar_plain_pkg-1.0-py3-none-any.whl"]):
        code, out = exec_in(docker_engine, first.container_id, ["pip", "install", "--no-index", *args])
        assert code == 0, out
    assert list(home.glob(".local/lib/python3*/site-packages/canfar_user_pkg.py")), "installed under /arc/home"

    # terminals: bash, reading ~/.bashrc (it leaves a mark we wait for)
    (home / ".bashrc").write_text('touch "$HOME/.bashrc-was-read"\n')
    status, term = post(service, first, "/api/terminals")
    assert status == 200 and term and term.get("name"), (status, term)
    wait_for(lambda: (home / ".bashrc-was-read").exists(), 30, "the notebook terminal's shell to read ~/.bashrc")
    shells = [row for row in service.processes(first)["Processes"] if "bash" in row[-1]]
    assert shells, "the terminal runs bash"
    service.delete(first)

    second = notebook(service, science_images["notebook"], "sci-nb-two")
    code, out = exec_in(docker_engine, second.container_id, ["python3", "-c", "import canfar_user_pkg as a, "
                                                             "canfar_plain_pkg as b; print(a.VALUE, '|', b.VALUE)"])
    assert code == 0 and out.strip() == "kept | also kept", out
    service.delete(second)
