"""What a session's processes may do, read from the running container rather than from its plan.

The session runs as the user's uid (never root), so its effective capabilities are none anyway; what `cap_drop ALL`
changes is the bounding set (nothing can ever be regained, not even through a setuid program), and
`no-new-privileges` is the kernel's NoNewPrivs flag. Both are read from /proc of the session's own
first process and of a process started in it later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canfar_desktop.core.service import SessionService

from ..helpers import wait_for


def proc_status(container: Any, pid: str, user: str) -> dict[str, str]:
    code, out = container.exec_run(["cat", f"/proc/{pid}/status"], user=user)
    assert code == 0, out.decode(errors="replace")
    return dict(line.split(":\t", 1) for line in out.decode().splitlines() if ":\t" in line)


def test_session_processes_have_no_capabilities_and_no_new_privileges(
        make_service: Callable[..., SessionService], docker_engine: Any, session_images: dict[str, str]) -> None:
    service = make_service()
    s = service.launch(service.prepare_launch("contributed", session_images["contributed"], "locked-down"))
    assert wait_for(lambda: service.get(s.id).status == "running", 30, "running")
    container = docker_engine.containers.get(s.container_id)
    user = f"{service.settings.uid}:{service.settings.gid}"
    host_config = docker_engine.api.inspect_container(s.container_id)["HostConfig"]
    assert host_config["CapDrop"] == ["ALL"] and host_config["CapAdd"] in (None, [])
    assert "no-new-privileges:true" in host_config["SecurityOpt"]
    assert host_config["Privileged"] is False

    for pid in ("1", "self"):  # the session's init, and a process started in it now
        status = proc_status(container, pid, user)
        assert status["Uid"].split()[0] == str(service.settings.uid), status["Uid"]
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[cap], 16) == 0, f"{cap} of pid {pid} is {status[cap]}"
        assert status["NoNewPrivs"] == "1", f"pid {pid} may gain privileges"

