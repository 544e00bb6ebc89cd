"""Turn a launch request into the exact container configuration, as pure data.

Keeping this pure means every kind's launch (CARTA and Firefly included, which cannot be built on
every machine) is checked by unit tests of the configuration it produces.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import __version__
from .kinds import Kind, LaunchContext
from .record import field, record
from .settings import Resources

PREFIX = "net.canfar.desktop."
L_ID = PREFIX + "session"
L_NAME = PREFIX + "name"
L_KIND = PREFIX + "kind"
L_OWNER = PREFIX + "owner"
L_CREATED = PREFIX + "created"
L_EXPIRY = PREFIX + "expiry"
L_MODE = PREFIX + "mode"
L_CORES = PREFIX + "cores"
L_RAM = PREFIX + "ram-gb"
L_GPUS = PREFIX + "gpus"
L_PORT = PREFIX + "port"
L_SCRATCH = PREFIX + "scratch"
L_VERSION = PREFIX + "app-version"
L_IMAGE = PREFIX + "image"
L_HELPER = PREFIX + "helper"  # containers the app runs for itself (helpers, sessions' gates)
L_GATE = PREFIX + "gate"  # on a session behind a gate (core/gate.py): the gate container's name
L_HOST_PORT = PREFIX + "host-port"  # on a session behind a gate: the port its gate publishes
L_GATE_OF = PREFIX + "gate-of"  # on a gate: its session's id

FLEX_MAX_CORES = 8  # CANFAR's flexible sessions may burst to 8 cores / 32 GB
FLEX_MAX_RAM_GB = 32
HOST_HEADROOM_SHARE = 0.25  # a flexible session leaves a quarter of the host's memory (at least 1 GB) free
HOST_HEADROOM_MIN_GB = 1.0
PIDS_LIMIT = 4096  # processes and threads per session: room for a desktop with a browser, not for a fork bomb
SESSION_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SESSION_NETWORK = "canfar-sessions"  # a bridge with inter-container traffic off, for every session
SHM_SIZE = "1g"


def new_session_id() -> str:
    """Eight random lowercase letters and digits, like CANFAR's session ids."""
    import secrets  # here: it loads OpenSSL's hashes, which a listing never needs

    return "".join(secrets.choice(SESSION_ID_ALPHABET) for _ in range(8))


def new_secret() -> str:
    """192 random bits, hex so it survives any URL or config file unescaped."""
    import secrets

    return secrets.token_hex(24)


@record
class Mount:
    source: str  # host path (bind) or volume name (volume)
    target: str
    type: str = "bind"
    read_only: bool = False


@record
class LaunchRequest:
    kind: str
    image: str
    name: str
    resources: Resources = field(default_factory=Resources)
    env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    host_port: int | None = None  # None: the engine picks a free port on 127.0.0.1
    host: str = ""  # the configured host it launches on (set by prepare_launch)


@record
class Storage:
    """Where /arc/home/<user>, /arc/projects and /scratch come from on the target host."""

    home: Mount
    projects: Mount
    scratch: Mount


@record
class ContainerPlan:
    session_id: str
    container_name: str
    image: str
    command: list[str] | None
    environment: dict[str, str]
    labels: dict[str, str]
    user: str
    working_dir: str
    hostname: str
    ports: dict[str, tuple[str, int | None]]
    mounts: list[Mount]
    nano_cpus: int | None
    mem_limit: int | None  # bytes
    mem_reservation: int | None
    device_requests: list[dict[str, object]]
    shm_size: str = SHM_SIZE
    security_opt: list[str] = field(default_factory=lambda: ["no-new-privileges:true"])
    cap_drop: list[str] = field(default_factory=lambda: ["ALL"])
    cap_add: list[str] = field(default_factory=list)  # only the session's gate has any (core/gate.py)
    init: bool = True
    pids_limit: int = PIDS_LIMIT
    entrypoint: list[str] | None = None  # None: the image's; [] clears it (the kind supplies the command)
    network: str = SESSION_NETWORK  # no container on it reaches another (see core/host.py ensure_network)
    group_add: list[int] = field(default_factory=list)  # the gids of the user's projects (core/projects.py)


def limits(res: Resources, kind: Kind, host_cpus: int, host_ram_gb: float) -> tuple[float, float | None, float]:
    """Return (cpu limit, memory limit in GB or None, threads) for a request on a host.

    Fixed: request = limit. Flexible: no reservation beyond CANFAR's 1 core / 4 GB and a burst
    ceiling of 8 cores / 32 GB, capped by the host with headroom left for it (`flexible_ram_cap_gb`);
    Firefly keeps a memory limit to size its JVM.
    """
    if res.mode == "fixed":
        return res.cores, res.ram_gb, res.cores
    cpu = float(min(FLEX_MAX_CORES, host_cpus))
    ram = min(float(FLEX_MAX_RAM_GB), flexible_ram_cap_gb(host_ram_gb))
    if kind.flexible_ram_limit_gb is not None:
        ram = min(ram, kind.flexible_ram_limit_gb)
    return cpu, ram, cpu


def flexible_ram_cap_gb(host_ram_gb: float) -> float:
    """The most memory one flexible session may burst to on a host: all of it but a quarter (at least
    1 GB), so a session that grows hits its own limit before the host runs out of memory."""
    headroom = max(HOST_HEADROOM_MIN_GB, host_ram_gb * HOST_HEADROOM_SHARE)
    return max(min(host_ram_gb, 0.5), host_ram_gb - headroom)


def build_plan(
    req: LaunchRequest,
    kind: Kind,
    *,
    session_id: str,
    secret: str,
    user: str,
    uid: int,
    gid: int,
    storage: Storage,
    host_cpus: int,
    host_ram_gb: float,
    now: datetime,
    lifetime: timedelta,
) -> ContainerPlan:
    cpu, ram_gb, threads = limits(req.resources, kind, host_cpus, host_ram_gb)
    ctx = LaunchContext(session_id=session_id, user=user, secret=secret, threads=max(1, int(threads)))
    env: dict[str, str] = {
        "HOME": ctx.home,
        "USER": user,
        "LOGNAME": user,
        "NB_UID": str(uid),
        "NB_GID": str(gid),
        "CANFAR_SESSION_ID": session_id,
        "CANFAR_SESSION_NAME": req.name,
        "CANFAR_SESSION_KIND": kind.name,
        "OMP_NUM_THREADS": str(ctx.threads),
        "OPENBLAS_NUM_THREADS": str(ctx.threads),
        "MKL_NUM_THREADS": str(ctx.threads),
    }
    env.update(kind.default_env)
    env.update(req.env)
    env.update(kind.env(ctx))
    expiry = now + lifetime
    labels = {
        L_ID: session_id,
        L_NAME: req.name,
        L_KIND: kind.name,
        L_OWNER: user,
        L_CREATED: now.isoformat(timespec="seconds"),
        L_EXPIRY: expiry.isoformat(timespec="seconds"),
        L_MODE: req.resources.mode,
        L_CORES: f"{req.resources.cores:g}",
        L_RAM: f"{req.resources.ram_gb:g}",
        L_GPUS: str(req.resources.gpus),
        L_PORT: str(kind.port),
        L_SCRATCH: storage.scratch.source,
        L_VERSION: __version__,
        L_IMAGE: req.image,
    }
    ram_bytes = int(ram_gb * 1024**3) if ram_gb is not None else None
    reservation = int(req.resources.ram_gb * 1024**3) if req.resources.mode == "fixed" else (4 * 1024**3)
    if ram_bytes is not None:
        reservation = min(reservation, ram_bytes)
    gpus: list[dict[str, object]] = []
    if req.resources.gpus:
        gpus.append({"Driver": "nvidia", "Count": req.resources.gpus, "Capabilities": [["gpu"]]})
    kind_command = None if req.command else kind.command(ctx)
    return ContainerPlan(
        session_id=session_id,
        container_name=f"canfar-{req.name.lower()}-{session_id}",
        image=req.image,
        command=list(req.command) if req.command else kind_command,
        # as CANFAR does, a command the kind supplies replaces the image's entrypoint rather than
        # being handed to it as arguments (cartavis/carta's entrypoint is `carta` itself)
        entrypoint=[] if kind_command is not None else None,
        environment=env,
        labels=labels,
        user=f"{uid}:{gid}",
        working_dir=ctx.home,
        hostname=req.name.lower()[:63],
        ports={f"{kind.port}/tcp": ("127.0.0.1", req.host_port)} if kind.port else {},
        mounts=[storage.home, storage.projects, storage.scratch],
        nano_cpus=int(cpu * 1e9),
        mem_limit=ram_bytes,
        mem_reservation=reservation,
        device_requests=gpus,
    )
