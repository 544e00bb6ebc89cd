"""Spare network namespaces on the real engine: a launch joins the one made ahead, and nothing leaks.

A notebook launch on this computer's engine leaves a spare behind (a `sleep` on the isolated network,
publishing a free 127.0.0.1 port); the next launch claims it, runs its app in that namespace and
answers on its port; deleting the session removes the namespace with it, and the clean-up keeps
only the newest running spare and the holders of sessions that exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from canfar_desktop.core import spare
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.platform import free_local_port
from canfar_desktop.core.reconcile import reconcile
from canfar_desktop.core.service import SessionService

from ..helpers import http_get, wait_for

NOTEBOOK_PORT = 8888


def spares(service: SessionService) -> dict[str, dict[str, Any]]:
    return {str(h["Id"]): h for h in service.host("local").helpers()
            if str((h.get("Names") or [""])[0]).lstrip("/").startswith(spare.SPARE_PREFIX)
            and (h.get("Labels") or {}).get(spare.L_SPARE_PORT) == str(NOTEBOOK_PORT)}


def launch(service: SessionService, image: str, name: str, port: int | None = None) -> Any:
    s = service.launch(service.prepare_launch("notebook", image, name, port=port))
    service.launcher.settle()  # the spare for the next launch, made while this one started
    return service.wait_ready(s, timeout=120)


def test_a_launch_joins_the_namespace_made_ahead(make_service: Callable[..., SessionService],
                                                 session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service(session_limit=5)
    first = launch(service, session_images["notebook"], "first")
    assert first.state == State.RUNNING, first.reason
    ready = spares(service)
    assert ready, "a launch leaves a spare namespace for the next one"
    second = launch(service, session_images["notebook"], "second")
    assert second.state == State.RUNNING, second.reason
    container = docker_engine.containers.get(second.container_id)
    joined = container.attrs["HostConfig"]["NetworkMode"].removeprefix("container:")
    assert joined in ready, "the second session runs in the spare that was ready"
    holder = docker_engine.containers.get(joined)
    assert holder.name == spare.holder_name(second.id), "the claimed spare is renamed for its session"
    assert list(holder.attrs["NetworkSettings"]["Networks"]) == ["canfar-sessions"], "still on the isolated network"
    bindings = holder.attrs["NetworkSettings"]["Ports"][f"{NOTEBOOK_PORT}/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"] and int(bindings[0]["HostPort"]) == second.host_port
    assert holder.attrs["Config"]["User"] == "65534:65534" and holder.attrs["HostConfig"]["CapDrop"] == ["ALL"]
    api = f"/session/notebook/{second.id}/api/status"
    assert http_get(second.host_port, api)[0] == 403, "the notebook asks for its secret on the spare's port"
    assert http_get(second.host_port, api, {"Authorization": f"token {second.secret}"})[0] == 200
    assert set(spares(service)) - set(ready), "another spare is made for the launch after"

    service.delete(second)
    assert wait_for(lambda: not docker_engine.containers.list(all=True, filters={"id": joined}), 20,
                    "the session's namespace removed with it")


def test_a_port_chosen_by_the_person_is_never_a_spare(make_service: Callable[..., SessionService],
                                                      session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service(session_limit=5)
    launch(service, session_images["notebook"], "before")
    assert spares(service), "a spare is ready"
    port = free_local_port()
    chosen = launch(service, session_images["notebook"], "chosen", port=port)
    assert chosen.state == State.RUNNING and chosen.host_port == port
    assert docker_engine.containers.get(chosen.container_id).attrs["HostConfig"]["NetworkMode"] == "canfar-sessions"


def test_the_clean_up_keeps_one_spare_and_the_holders_of_live_sessions(
        make_service: Callable[..., SessionService], session_images: dict[str, str], docker_engine: Any) -> None:
    service = make_service(session_limit=5)
    live = launch(service, session_images["notebook"], "live")
    launch(service, session_images["notebook"], "live-too")  # joins the first spare, leaves another
    dh = service.host("local")
    extra = dh.create(spare.spare_plan(NOTEBOOK_PORT, "canfar-sessions", service.settings.user))
    dh.start(extra)  # a newer spare: the older one is now one too many
    orphan = dh.create(spare.spare_plan(NOTEBOOK_PORT, "canfar-sessions", service.settings.user))
    dh.rename(orphan, spare.holder_name("zzzz9999"))  # a holder whose session never came
    stopped = dh.create(spare.spare_plan(NOTEBOOK_PORT, "canfar-sessions", service.settings.user))
    older = set(spares(service)) - {extra, stopped}

    removed = service.housekeeper.cleanup_orphans("local", grace_s=0)

    left = set(spares(service))
    assert left == {extra}, f"only the newest running spare stays: {removed}"
    assert not older & left and stopped not in left
    assert not docker_engine.containers.list(all=True, filters={"id": orphan}), "the orphan holder is removed"
    live_holders = [c for c in docker_engine.containers.list(all=True, filters={"name": spare.HOLDER_PREFIX})
                    if c.name.removeprefix(spare.HOLDER_PREFIX) in {s.id for s in service.sessions("local")}]
    assert live_holders, "a live session's namespace stays"
    assert service.get(live.id).state == State.RUNNING


def test_a_session_the_engine_started_before_its_namespace_is_started_again(
        make_service: Callable[..., SessionService], session_images: dict[str, str], docker_engine: Any) -> None:
    """The engine brings containers back in no order: a session started before the namespace it joined is
    refused and stays down unless the app starts the namespace, then the session."""
    service = make_service(session_limit=5)
    launch(service, session_images["notebook"], "leaves-a-spare")
    s = launch(service, session_images["notebook"], "joined-restart")
    holder = spare.holder_name(s.id)
    assert docker_engine.containers.get(s.container_id).attrs["HostConfig"]["NetworkMode"].startswith("container:")
    docker_engine.api.stop(s.container_id, timeout=2)
    docker_engine.api.stop(holder, timeout=2)
    with pytest.raises(Exception, match="non running container"):
        docker_engine.api.start(s.container_id)  # what the engine does when it restores the session first
    assert service.get(s.id).state == State.FAILED
    reconcile(service)
    assert wait_for(lambda: service.get(s.id).state == State.RUNNING, 120, "the session to run again in its namespace")
    assert http_get(s.host_port, f"/session/notebook/{s.id}/api/status?token={s.secret}")[0] == 200
    service.delete(s)
