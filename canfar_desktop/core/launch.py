"""Launching: what a person chose becomes one validated request, and a request becomes a session.

Every front door (the launch dialog, the tray's quick launch, the app's start-up launch, the CLI,
the API) calls `prepare_launch`, which validates everything before anything is created and fills
in what was left out (image, name, resources, host). `Launcher.launch` trusts the request it gets.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from . import gate, spare
from .accounts import account_mounts, add_user
from .beside import Beside
from .errors import CanfarError, LaunchError, LimitError, NotFound, PortTaken, ValidationError
from .gate import needs_gate
from .host import ProgressFn, SessionHost, platform_of
from .kinds import Kind, get_kind, is_batch
from .ledger import Ledger
from .lifecycle import State
from .listing import SessionLister
from .log import get_logger
from .plan import (
    L_HOST_PORT,
    L_KIND,
    L_OWNER,
    SESSION_NETWORK,
    ContainerPlan,
    LaunchRequest,
    build_plan,
    new_secret,
    new_session_id,
)
from .platform import free_local_port
from .projects import Project, ProjectStore
from .record import asdict, replace
from .registry import HostRegistry
from .session import Session, with_inspect
from .settings import AppPaths, Resources, Settings
from .storage import remove_scratch, session_storage, volumes_to_prepare
from .validation import normalize_image, parse_env, validate_name, validate_resources

ACTIVE_STATUSES = ("created", "running", "restarting", "paused")
PORT_ATTEMPTS = 5  # a chosen port taken between the choice and the start is chosen again
PORT_MIN, PORT_MAX = 1024, 65535
FAST_POLL_S, FAST_POLL_FOR_S = 0.01, 5.0  # wait_ready probes faster while most apps come up
ENGINE_CHECK_S = 0.1  # and asks the engine whether the session still runs at most this often meanwhile
GATED_REMOTE_PORTS = range(20000, 32768)  # below Linux's ephemeral ports; a taken one is chosen again
log = get_logger(__name__)
WORDS = ("orion", "vega", "lyra", "draco", "cygnus", "andromeda", "perseus", "aquila", "carina", "fornax",
         "sculptor", "virgo", "hydra", "pavo", "tucana", "norma", "pictor", "auriga", "cetus", "lupus")


def generate_name(kind: str) -> str:
    """A readable default name such as notebook-vega-42."""
    return f"{kind}-{secrets.choice(WORDS)}-{secrets.randbelow(90) + 10}"


class Launcher:
    def __init__(self, hosts: HostRegistry, lister: SessionLister, ledger: Ledger, paths: AppPaths,
                 clock: Any) -> None:
        self.hosts = hosts
        self.lister = lister
        self.ledger = ledger
        self.paths = paths
        self.clock = clock
        self.spares_made: list[Beside] = []  # the next launches' namespaces, being made

    @property
    def settings(self) -> Settings:
        return self.hosts.settings

    # --- preparing ----------------------------------------------------------------------------

    def default_image(self, kind_name: str, host: str | None = None) -> str:
        """The newest image on the host labelled for the kind, else the kind's upstream image."""
        kind = get_kind(kind_name)
        try:
            local = [i for i in self.hosts.get(host).images() if kind.name in i.kinds]
        except CanfarError:
            local = []
        latest = [i for i in local if i.ref.endswith(":latest")] or local
        if latest:
            return sorted(latest, key=lambda i: i.created, reverse=True)[0].ref
        if kind.default_image:
            return kind.default_image
        raise ValidationError(
            f"There is no default image for {kind.name} sessions", "name an image labelled for this kind"
        )

    def prepare_launch(self, kind: str, image: str | None = None, name: str | None = None,
                       resources: Resources | None = None, host: str | None = None, port: int | None = None,
                       command: Sequence[str] = (), env: Iterable[str] = ()) -> LaunchRequest:
        """Check everything a launch needs before anything is created; fill in what was left out."""
        k = get_kind(kind)
        cfg = self.hosts.config(host)
        ref = normalize_image(image) if image else self.default_image(k.name, cfg.name)
        chosen_name = validate_name(name) if name else generate_name(k.name)
        parsed = parse_env(list(env), reserved=k.secret_env)
        res = resources or self.settings.default_resources
        if port is not None and not PORT_MIN <= port <= PORT_MAX:
            raise ValidationError(f"Port {port} is out of range",
                                  f"choose a port between {PORT_MIN} and {PORT_MAX}, or none for a free one")
        info = self.hosts.get(cfg.name).info()
        validate_resources(res, info.cpus, info.memory_gb, None if info.gpus_possible else 0)
        req = LaunchRequest(kind=k.name, image=ref, name=chosen_name, resources=res, env=parsed,
                            command=tuple(command), host_port=port, host=cfg.name)
        platform = platform_of(self.hosts.get(cfg.name))
        if platform is not None:
            platform.check(req)  # the platform's own resource options and rules
        return req

    def dry_run(self, req: LaunchRequest) -> dict[str, object]:
        """The container configuration a launch would create, with nothing created."""
        dh = self.hosts.get(req.host or None)
        platform = platform_of(dh)
        if platform is not None:  # what would be sent to the platform
            return {"host": dh.name, "request": platform.params(req)}
        info = dh.info()
        storage = session_storage(self.settings, self.paths, self.hosts.config(dh.name), dh.remote, "<id>",
                                  create=False)
        plan = self._plan(req, "<id>", "<generated at launch>", storage, info.cpus, info.memory_gb)
        kind = get_kind(req.kind)
        if not needs_gate(kind):
            return {"host": dh.name, **asdict(plan)}
        gate_plan = gate.gate_plan(plan, kind, "<generated at launch>")  # it publishes; the session joins it
        session = gate.behind_gate(plan, gate_plan.container_name, req.host_port or 0)
        labels = {**session.labels, L_HOST_PORT: str(req.host_port or "<chosen at launch>")}
        return {"host": dh.name, **asdict(replace(session, labels=labels)), "gate": asdict(gate_plan)}

    def _plan(self, req: LaunchRequest, session_id: str, secret: str, storage: Any, cpus: int,
              ram_gb: float) -> ContainerPlan:
        s = self.settings
        return build_plan(
            req, get_kind(req.kind), session_id=session_id, secret=secret, user=s.user, uid=s.uid, gid=s.gid,
            storage=storage, host_cpus=cpus, host_ram_gb=ram_gb, now=self.clock(),
            lifetime=timedelta(hours=s.session_lifetime_hours),
        )

    # --- launching ----------------------------------------------------------------------------

    def launch(self, req: LaunchRequest, progress: ProgressFn | None = None) -> Session:
        """Create and start a session; returns it in Launching (use wait_ready for Running)."""
        report = progress or (lambda stage, fraction: None)
        dh = self.hosts.get(req.host or None)
        platform = platform_of(dh)
        if platform is not None:  # a platform launches from the request itself, under its own limits
            report(f"submitting to {dh.name}", None)
            return self.lister.refresh(dh.name, platform.submit(req), probe=False)
        info = dh.info()
        image_id = dh.image_id(req.image)
        if image_id is None:
            report(f"pulling {req.image}", 0.0)
            dh.pull(req.image, report)
            image_id = dh.image_id(req.image) or req.image
        session_id = new_session_id()
        storage = session_storage(self.settings, self.paths, self.hosts.config(dh.name), dh.remote, session_id)
        volumes = volumes_to_prepare(storage)
        if volumes:  # remote hosts: the engine makes volumes root's; sessions run as the user
            dh.prepare_volumes(req.image, volumes, self.settings.uid, self.settings.gid)
        secret = new_secret()
        plan = self._plan(req, session_id, secret, storage, info.cpus, info.memory_gb)
        groups = ProjectStore.of(dh, self.settings, self.paths, dh.name, dh.remote).of_user(self.settings.user, req.image)
        plan = replace(plan, group_add=[p.gid for p in groups])  # the user's projects, named by add_user
        report("creating", None)
        with self.ledger.hold(f"launching-{session_id}"):
            return self._create_and_start(dh, plan, image_id, report, secret, groups)

    def _create_and_start(self, dh: SessionHost, plan: ContainerPlan, image_id: str,
                          report: ProgressFn, secret: str, groups: Sequence[Project] = ()) -> Session:
        session_id = plan.session_id
        kind = get_kind(plan.labels[L_KIND])
        gated = needs_gate(kind)
        if gated:
            gate.ensure_image(dh, self._this_computer(), report)
        chosen = any(port is None for _, port in plan.ports.values())  # the person left the port to us
        for attempt in range(1, PORT_ATTEMPTS + 1):
            if chosen and not dh.remote:  # this computer's engine: the system knows which ports are free
                plan = with_port(plan, free_local_port())
            elif chosen and gated:  # the port is written on the session: fixed, an engine restart keeps it
                plan = with_port(plan, GATED_REMOTE_PORTS[secrets.randbelow(len(GATED_REMOTE_PORTS))])
            retry = chosen and attempt < PORT_ATTEMPTS  # a taken port is then chosen again
            try:
                if gated:
                    container_id = self._start_gated(dh, plan, kind, secret, image_id, groups, report)
                else:
                    container_id = self._start_plain(dh, plan, image_id, groups, report, retry, chosen)
            except PortTaken as taken:
                if retry:
                    continue
                failure = taken if not chosen else PortTaken(
                    f"No free port could be published on {dh.name} in {PORT_ATTEMPTS} tries",
                    "see what holds ports on that host (ss -ltn) and launch again")
                # a gate refused its port is removed with nothing else made: no session to delete
                raise (failure if gated else self._start_failed(session_id, failure)) from None
            except LaunchError as exc:
                raise self._start_failed(session_id, exc) from None
            return self.lister.refresh(dh.name, container_id, probe=False)
        raise AssertionError("unreachable")

    def _start_plain(self, dh: SessionHost, plan: ContainerPlan, image_id: str, groups: Sequence[Project],
                     report: ProgressFn, retry: bool, chosen: bool = True) -> str:
        """The session's container, created and started; on this computer's engine, in a network namespace
        made ahead when one is ready and the port is ours to choose (core/spare.py)."""
        kind = get_kind(plan.labels[L_KIND])
        port = kind.port if not dh.remote and kind.interactive else None
        if port and chosen:  # a namespace made ahead saves most of the container's start
            with self.ledger.locked(f"launch-{dh.name}"):
                claimed = spare.claim(dh, port, plan.session_id)
            if claimed is not None:
                plan = spare.joined(plan, *claimed)
        try:
            container_id = self._create(dh, plan, image_id, groups)
        except BaseException:
            if plan.network.startswith("container:"):
                dh.remove(spare.holder_name(plan.session_id))
            raise
        report("starting", None)
        try:
            dh.start(container_id)
        except PortTaken:
            if retry:
                dh.remove(container_id)  # a fresh container is given another port
            raise
        if port:  # the next launch's namespace, made while this session's app starts
            self.spares_made = [*(b for b in self.spares_made if b.running),
                                Beside(self._make_spare, dh, port, name="spare")]
        return container_id

    def _make_spare(self, dh: SessionHost, port: int) -> None:
        try:
            spare.make_spare(dh, port, SESSION_NETWORK, self.settings.user)
        except CanfarError as exc:
            log.info("no spare namespace made on %s: %s", dh.name, exc)

    def settle(self) -> None:
        """Wait for the spare namespaces launches are making (a command does before it exits)."""
        while self.spares_made:
            self.spares_made.pop().join()

    def _start_gated(self, dh: SessionHost, plan: ContainerPlan, kind: Kind, secret: str, image_id: str,
                     groups: Sequence[Project], report: ProgressFn) -> str:
        """The gate first (it publishes the port and firewalls the namespace), then the session inside it."""
        report("starting the session's gate", None)
        gate_id, port = gate.open_gate(dh, plan, kind, secret)  # a gate refused its port is already removed
        try:
            container_id = self._create(dh, gate.behind_gate(plan, gate_id, port), image_id, groups)
        except BaseException:
            dh.remove(gate_id)
            raise
        report("starting", None)
        dh.start(container_id)  # refused: the session shows Failed with the reason; delete removes both
        return container_id

    def _this_computer(self) -> SessionHost | None:
        """This computer's engine, where the project's own images are built."""
        for name in self.hosts.names():
            if not self.hosts.is_remote(name):
                try:
                    return self.hosts.get(name)
                except CanfarError:
                    return None
        return None

    @staticmethod
    def _start_failed(session_id: str, exc: LaunchError) -> LaunchError:
        """The container stays, so the session shows Failed with the engine's reason until deleted."""
        return LaunchError(f"Session {session_id}: {exc.message}",
                           f"{exc.hint}; then delete it (canfar-desktop delete -f {session_id})")

    def _create(self, dh: SessionHost, plan: ContainerPlan, image_id: str, groups: Sequence[Project]) -> str:
        """The container under the session limit, with the user and their projects named inside it."""
        scratch = next((m.source for m in plan.mounts if m.target == "/scratch"), "")
        # this computer's engine mounts the account files made here (core/accounts.py) instead of an upload
        accounts = None if dh.remote else account_mounts(self.paths, self.settings, image_id, groups)
        if accounts:
            plan = replace(plan, mounts=[*plan.mounts, *accounts])
        with self.ledger.locked(f"launch-{dh.name}"):
            active = self._active_interactive(dh) if not is_batch(plan.labels[L_KIND]) else []
            if len(active) >= self.settings.session_limit:
                remove_scratch(dh, self.paths, scratch)
                raise LimitError(
                    f"User {self.settings.user} has reached the maximum of {self.settings.session_limit} "
                    "active sessions",
                    "delete a session (canfar-desktop delete ID) or raise the limit in settings",
                )
            if not plan.network.startswith("container:"):  # behind a gate: the gate's network (core/gate.py)
                dh.ensure_network(plan.network)
            container_id = dh.create(plan)
        if accounts:
            return container_id
        try:
            add_user(dh, self.paths, self.settings, container_id, image_id, groups)
        except CanfarError:
            dh.remove(container_id)
            remove_scratch(dh, self.paths, scratch)
            raise
        return container_id

    def _active_interactive(self, dh: SessionHost) -> list[dict[str, Any]]:
        """The user's sessions that hold a slot of the active-session limit (batch jobs never do)."""
        mine = [s for s in dh.summaries() if (s.get("Labels") or {}).get(L_OWNER) == self.settings.user
                and not is_batch(str((s.get("Labels") or {}).get(L_KIND, "")))]
        return [s for s in mine if _holds_slot(dh, s)]

    def wait_ready(self, session: Session, timeout: float = 300.0, progress: ProgressFn | None = None,
                   interval: float = 0.05) -> Session:
        """Poll the engine and the kind's probe until Running; a session that dies raises its reason.

        On this computer's engine the first seconds, when most apps come up, are polled faster
        (`poll_pause`): the app's port every 10 ms (a local connection), the engine every 100 ms, so the
        answer is seen soon after it is given and the engine is asked less often."""
        report = progress or (lambda stage, fraction: None)
        started = time.monotonic()
        deadline = started + timeout
        dh = self.hosts.get(session.host)
        platform = platform_of(dh)  # its own word "Running" is ready; it is asked gently
        report("waiting for the app", None)
        current, inspected = session, None
        while True:
            if inspected is None or time.monotonic() - inspected >= ENGINE_CHECK_S or not current.host_port:
                current, inspected = with_inspect(session, dh.inspect(session.container_id)), time.monotonic()
            if current.status in ("exited", "dead"):
                failed = self.lister.refresh(dh.name, session.container_id)
                raise LaunchError(
                    f"Session {session.id} stopped while launching: {failed.reason}",
                    f"see its logs (canfar-desktop logs {session.id})",
                )
            if current.status == "running" and platform is not None:
                return self.lister.refresh(dh.name, session.container_id)
            if current.status == "running" and current.host_port and self.lister.probe(current):
                return self._answered(dh, current)
            now = time.monotonic()
            if now > deadline:
                raise LaunchError(
                    f"Session {session.id} did not answer within {timeout:.0f} s",
                    f"see its logs (canfar-desktop logs {session.id}) or run canfar-desktop doctor {session.id}",
                )
            if platform is not None:
                time.sleep(max(interval, platform.poll_s))
            else:  # a remote host's requests cross the network: its pace stays the caller's
                time.sleep(interval if dh.remote else poll_pause(now - started, interval))

    def _answered(self, dh: SessionHost, s: Session) -> Session:
        """A session that just answered, marked ready in the ledger and kept running by the engine from now
        on (the two at once); its state derived from the inspect the answer followed, with nothing re-read."""
        keeper = Beside(dh.keep_running, s.container_id, name=f"keep-{s.id}")
        try:
            self.lister.readiness.mark(dh.name, s, s.started_at, self.clock())
        finally:
            keeper.join()
        return self.lister.complete(dh, s, self.ledger.entry(dh.name, s.id), True, None, inspected=True)

    def wait_finished(self, session: Session, timeout: float = 300.0, progress: ProgressFn | None = None,
                      interval: float = 0.2) -> Session:
        """A batch job until it ends: Terminated (exit code 0) or Failed with its exit code."""
        report = progress or (lambda stage, fraction: None)
        deadline = time.monotonic() + timeout
        report("running", None)
        while True:
            current = self.lister.refresh(session.host, session.container_id, probe=False)
            if _finished(current):
                return current
            if time.monotonic() > deadline:
                raise LaunchError(f"Job {session.id} still runs after {timeout:.0f} s",
                                  f"it goes on; follow it with canfar-desktop logs -f {session.id}")
            time.sleep(interval)


def poll_pause(waited_s: float, interval: float) -> float:
    """How long wait_ready sleeps before asking again: FAST_POLL_S for the first FAST_POLL_FOR_S seconds."""
    return min(interval, FAST_POLL_S) if waited_s < FAST_POLL_FOR_S else interval


def _finished(s: Session) -> bool:
    return s.status in ("exited", "dead") or s.state in (State.TERMINATED, State.FAILED, State.EXPIRED)


def _holds_slot(dh: SessionHost, summary: dict[str, object]) -> bool:
    """Whether a container counts against the limit: up, or created and not failed to start."""
    status = summary.get("State")
    if status != "created":
        return status in ACTIVE_STATUSES
    try:
        return not (dh.inspect(str(summary.get("Id"))).get("State") or {}).get("Error")
    except NotFound:
        return False


def with_port(plan: ContainerPlan, port: int) -> ContainerPlan:
    """The plan publishing its port on `port` instead."""
    return replace(plan, ports={name: (address, port) for name, (address, _) in plan.ports.items()})
