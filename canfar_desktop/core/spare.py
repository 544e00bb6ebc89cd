"""A network namespace made ready before a launch, which the next session on this computer joins.

A container that joins a namespace already up starts in about 70 ms instead of about 240 ms: the
namespace, its veth, the published 127.0.0.1 port and the engine's DNS resolver are made ahead, on
the sessions' isolated network. The spare is a `sleep` in the gate's image, as nobody with no
capabilities; a launch claims it by renaming it for the session (the engine's rename is atomic, so
two launches never share one), and it then lives and dies with that session as its holder.
"""

from __future__ import annotations

from typing import Any

from .errors import CanfarError
from .gate import GATE_IMAGE
from .host import SessionHost
from .plan import L_HELPER, L_HOST_PORT, L_OWNER, ContainerPlan
from .platform import free_local_port
from .record import replace

SPARE_PREFIX = "canfar_spare_"
HOLDER_PREFIX = "canfar_netns_"  # + the session's id
L_SPARE_PORT = "net.canfar.desktop.spare-port"  # the app's port inside, which the spare publishes
HOSTNAME = "canfar-session"  # a joined container takes its namespace's hostname


def holder_name(session_id: str) -> str:
    return HOLDER_PREFIX + session_id


def spare_plan(port: int, network: str, owner: str) -> ContainerPlan:
    import secrets  # here: it loads OpenSSL's hashes, which a listing never needs

    return ContainerPlan(
        session_id="", container_name=SPARE_PREFIX + secrets.token_hex(4), image=GATE_IMAGE,
        command=["sleep", "infinity"], environment={}, labels={L_HELPER: "spare", L_SPARE_PORT: str(port),
                                                               L_OWNER: owner},
        user="65534:65534", working_dir="/", hostname=HOSTNAME,
        ports={f"{port}/tcp": ("127.0.0.1", free_local_port())}, mounts=[], nano_cpus=int(0.1e9),
        mem_limit=16 * 1024**2, mem_reservation=None, device_requests=[], shm_size="1m", pids_limit=8,
        entrypoint=[], network=network,
    )


def make_spare(dh: SessionHost, port: int, network: str, owner: str) -> None:
    """One spare for the next launch of an app on `port`, unless one is ready; the engine brings it
    back after a restart. A spare that cannot be made costs nothing: the next launch makes its own
    namespace."""
    if any(_is_spare(h, port) for h in dh.helpers()) or dh.image_id(GATE_IMAGE) is None:
        return
    dh.ensure_network(network)
    container_id = dh.create(spare_plan(port, network, owner))
    try:
        dh.start(container_id)
        dh.keep_running(container_id)
    except CanfarError:
        dh.remove(container_id)
        raise


def claim(dh: SessionHost, port: int, session_id: str) -> tuple[str, int] | None:
    """A running spare for `port`, renamed as the session's holder: (its id, its published port)."""
    for helper in dh.helpers():
        if not _is_spare(helper, port):
            continue
        host_port = next((int(b["PublicPort"]) for b in helper.get("Ports") or [] if b.get("PublicPort")), None)
        if host_port is None:
            continue
        try:
            dh.rename(str(helper["Id"]), holder_name(session_id))
        except CanfarError:
            continue  # claimed by a launch beside this one, or gone
        return str(helper["Id"]), host_port
    return None


def joined(plan: ContainerPlan, holder_id: str, host_port: int) -> ContainerPlan:
    """The session's container in its holder's namespace, with no port of its own."""
    return replace(plan, network=f"container:{holder_id}", ports={},
                   labels={**plan.labels, L_HOST_PORT: str(host_port)})


def stale(helper: dict[str, Any], known: set[str], newest_spares: set[str], settled: bool) -> bool | None:
    """For the clean-up: whether a spare or holder should go (None: neither). A holder goes with its
    session, once it is older than a launch takes (`settled`: its session may be being made); a spare
    that is not running, or is not the newest for its port, goes."""
    name = _name(helper)
    if name.startswith(HOLDER_PREFIX):
        return settled and name.removeprefix(HOLDER_PREFIX) not in known
    if name.startswith(SPARE_PREFIX):
        return helper.get("State") != "running" or str(helper.get("Id")) not in newest_spares
    return None


def newest_spares(helpers: list[dict[str, Any]]) -> set[str]:
    """The ids of the newest running spare for each port."""
    best: dict[str, dict[str, Any]] = {}
    for h in helpers:
        port = (h.get("Labels") or {}).get(L_SPARE_PORT)
        if not port or not _name(h).startswith(SPARE_PREFIX) or h.get("State") != "running":
            continue
        if port not in best or float(h.get("Created", 0)) > float(best[port].get("Created", 0)):
            best[port] = h
    return {str(h.get("Id")) for h in best.values()}


def _name(helper: dict[str, Any]) -> str:
    names = helper.get("Names") or [""]
    return str(names[0]).lstrip("/")


def _is_spare(helper: dict[str, Any], port: int) -> bool:
    labels = helper.get("Labels") or {}
    return (labels.get(L_SPARE_PORT) == str(port) and helper.get("State") == "running"
            and _name(helper).startswith(SPARE_PREFIX))
