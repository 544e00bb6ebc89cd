"""The gate in front of sessions whose app has no login of its own (contributed apps, Firefly).

Such an app answers anyone who reaches its port, and on a Docker host every local user reaches a
container's bridge address and the published 127.0.0.1 port. So the session runs behind a gate: a
small container (resources/images/gate) that owns the session's network namespace, lets in only its
own port (a firewall set before the session's container joins), and passes on only connections whose
first request carries the session's secret (the link's `canfar_token=`, then a cookie). The engine
publishes the gate's port; the session's container has none of its own and joins the gate's network.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from .errors import CanfarError, ImageError, LaunchError, NotFound
from .host import ProgressFn, SessionHost
from .kinds import Kind, LaunchContext, Probe
from .plan import L_GATE, L_GATE_OF, L_HELPER, L_HOST_PORT, L_OWNER, ContainerPlan
from .record import replace

GATE_IMAGE = "canfar-desktop/gate:latest"
GATE_PORT = 48950  # inside the session's namespace; far from the ports apps choose
PARAM = "canfar_token"
PROBE_PATH = "/.canfar-gate/probe"  # the app's readiness, as the gate reads it on its loopback
READY_MARK = b"gate ready"  # the gate's first line, once its firewall is in place
GATE_CAPS = ["NET_ADMIN", "NET_RAW", "SETUID", "SETGID"]  # the firewall, then the switch to nobody
GATE_MEMORY = 128 * 1024**2
GATE_START_S = 20.0


def needs_gate(kind: Kind) -> bool:
    """An interactive app that would answer anyone: it gets the gate."""
    return kind.interactive and bool(kind.port) and not kind.in_app_auth


def gate_name(session_id: str) -> str:
    """Underscores: a session's own container is canfar-<name>-<id>, and names have none."""
    return f"canfar_gate_{session_id}"


def gate_plan(plan: ContainerPlan, kind: Kind, secret: str) -> ContainerPlan:
    """The gate's container for a session's plan: it publishes where the session would have."""
    published = plan.ports.get(f"{kind.port}/tcp", ("127.0.0.1", None))
    context = LaunchContext(session_id=plan.session_id, user=plan.labels.get(L_OWNER, ""), secret="", threads=1)
    return ContainerPlan(
        session_id=plan.session_id,
        container_name=gate_name(plan.session_id),
        image=GATE_IMAGE,
        command=None,
        environment={
            "CANFAR_GATE_PORT": str(GATE_PORT),
            "CANFAR_GATE_UPSTREAM": str(kind.port),
            "CANFAR_GATE_PROBE": kind.probe(context).path,
            "CANFAR_GATE_SESSION": plan.session_id,
            "CANFAR_GATE_SECRET": secret,
        },
        labels={L_HELPER: "gate", L_GATE_OF: plan.session_id, L_OWNER: plan.labels.get(L_OWNER, "")},
        user="0:0",  # for the firewall only: it then runs as nobody with no capabilities
        working_dir="/",
        hostname=plan.hostname,  # the session's container takes its name from the namespace it joins
        ports={f"{GATE_PORT}/tcp": published},
        mounts=[],
        nano_cpus=int(0.5e9),
        mem_limit=GATE_MEMORY,
        mem_reservation=None,
        device_requests=[],
        shm_size="16m",
        cap_add=list(GATE_CAPS),
        pids_limit=64,
        network=plan.network,
    )


def behind_gate(plan: ContainerPlan, gate_id: str, host_port: int) -> ContainerPlan:
    """The session's own container, in its gate's network namespace with no port of its own."""
    labels = {**plan.labels, L_GATE: gate_name(plan.session_id), L_HOST_PORT: str(host_port)}
    return replace(plan, network=f"container:{gate_id}", ports={}, labels=labels)


def gated_url(path: str, secret: str) -> str:
    """The kind's page with the secret the gate asks for (it answers with a cookie and drops it)."""
    if not secret:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode({PARAM: secret})}"


def gated_probe(probe: Probe) -> Probe:
    """The kind's readiness probe asked through the gate, which needs no secret for it."""
    return Probe(PROBE_PATH, probe.ok)


# --- running a gate -----------------------------------------------------------------------------


def ensure_image(dh: SessionHost, source: SessionHost | None, report: ProgressFn) -> None:
    """The gate's image on the session's host: this computer builds it, a remote host is given a copy."""
    if dh.image_id(GATE_IMAGE) is not None:
        return
    hint = "build the project's images on this computer (make setup, or scripts/build_images.py gate)"
    if source is None or source is dh or source.image_id(GATE_IMAGE) is None:
        where = dh.name if source is None or source is dh else f"{dh.name} nor on this computer"
        raise ImageError(f"The session gate's image {GATE_IMAGE} is not on {where}", hint)
    report(f"copying the session gate to {dh.name}", None)
    dh.load_image(source.export_image(GATE_IMAGE))
    if dh.image_id(GATE_IMAGE) is None:
        raise ImageError(f"{dh.name} did not keep the session gate's image {GATE_IMAGE}", hint)


def open_gate(dh: SessionHost, plan: ContainerPlan, kind: Kind, secret: str) -> tuple[str, int]:
    """Create and start a session's gate; returns (its container id, the port it publishes) once its
    firewall is in place. A gate that fails is removed: the launch may try again with another port."""
    dh.ensure_network(plan.network)
    gate_id = dh.create(gate_plan(plan, kind, secret))
    try:
        data = start_gate(dh, gate_id)
        dh.keep_running(gate_id)  # an engine restart brings it back (the session follows, see recover)
        return gate_id, published_port(data)
    except BaseException:
        dh.remove(gate_id)
        raise


def start_gate(dh: SessionHost, gate: str) -> dict[str, Any]:
    """Start a gate and wait until it says its firewall is up; returns its inspect document."""
    from .session import parse_time  # session reads gated sessions' links from here

    dh.start(gate)
    deadline = time.monotonic() + GATE_START_S
    while True:
        data = dh.inspect(gate)
        state = data.get("State") or {}
        started = parse_time(state.get("StartedAt"))
        for line in dh.logs(gate, tail=20, timestamps=True).splitlines():  # an earlier run's line does not count
            stamp, _, text = line.partition(b" ")
            when = parse_time(stamp.decode(errors="replace"))
            if text.startswith(READY_MARK) and (started is None or (when is not None and when >= started)):
                return data
        if state.get("Status") in ("exited", "dead"):
            lines = dh.logs(gate, tail=3).decode(errors="replace").strip().splitlines()
            raise LaunchError(f"The session's gate stopped: {lines[-1] if lines else state.get('ExitCode')}",
                              "the gate needs the engine's kernel to filter packets (iptables); "
                              "see canfar-desktop doctor")
        if time.monotonic() > deadline:
            raise LaunchError(f"The session's gate did not start within {GATE_START_S:.0f} s",
                              "see the engine's load (canfar-desktop stats) and launch again")
        time.sleep(0.02)


def published_port(data: dict[str, Any]) -> int:
    bindings = ((data.get("NetworkSettings") or {}).get("Ports") or {}).get(f"{GATE_PORT}/tcp") or []
    if not bindings:
        raise LaunchError("The session's gate has no published port", "launch again")
    return int(bindings[0]["HostPort"])


def remove_gate(dh: SessionHost, session_id: str) -> None:
    """Remove a session's gate (with the session); one already gone is fine."""
    try:
        dh.remove(gate_name(session_id))
    except NotFound:
        pass


def stop_gate(dh: SessionHost, session_id: str) -> None:
    try:
        dh.stop(gate_name(session_id), timeout=2)
    except CanfarError:
        pass  # gone already, or the engine is busy: a stopped session is unreachable either way
