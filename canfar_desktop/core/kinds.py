"""The session kinds as data: how each one starts, where it listens, how to open it, when it is ready.

Every value here follows the upstream conventions (skaha and the images CANFAR runs), so an image
built for CANFAR works unchanged; see REFERENCE section 1 in the README's architecture notes.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from .record import field, record

KIND_LABEL = "net.canfar.desktop.kinds"  # on an image: the kinds it serves, comma-separated


@record
class LaunchContext:
    """What a kind needs to know to start one session."""

    session_id: str
    user: str
    secret: str
    threads: int

    @property
    def home(self) -> str:
        return f"/arc/home/{self.user}"


@record
class Probe:
    """An HTTP GET that answers with one of `ok` statuses once the app inside is ready."""

    path: str
    ok: tuple[int, ...] = (200,)


@record
class Kind:
    name: str
    title: str
    description: str
    default_image: str
    port: int
    url: Callable[[LaunchContext], str]
    probe: Callable[[LaunchContext], Probe]
    command: Callable[[LaunchContext], list[str] | None] = lambda ctx: None
    env: Callable[[LaunchContext], dict[str, str]] = lambda ctx: {}
    secret_env: tuple[str, ...] = ()  # variables that carry the secret: the user may not set them
    flexible_ram_limit_gb: float | None = None  # a memory limit even when flexible (JVM sizing)
    in_app_auth: bool = True  # False: the app has no login; a gate asks for the secret (core/gate.py)
    icon: str = field(default="")
    interactive: bool = True  # False: a batch job that runs its command to the end (no port, no URL)
    default_env: dict[str, str] = field(default_factory=dict)  # set unless the request sets them


def _prefix(kind: str, ctx: LaunchContext) -> str:
    return f"/session/{kind}/{ctx.session_id}"


NOTEBOOK = Kind(
    name="notebook",
    title="Notebook",
    description="JupyterLab for analysis, code and documentation",
    default_image="images.canfar.net/skaha/astroml:latest",
    port=8888,
    command=lambda ctx: [
        "jupyter", "lab",
        "--ServerApp.ip=0.0.0.0",
        "--ServerApp.port=8888",
        f"--ServerApp.base_url={_prefix('notebook', ctx)}/",
        "--ServerApp.root_dir=/",
        "--no-browser",
    ],
    env=lambda ctx: {
        "JUPYTER_TOKEN": ctx.secret,
        "NB_USER": ctx.user,
        "JUPYTER_CONFIG_DIR": f"{ctx.home}/.jupyter",
        "PYTHONUSERBASE": f"{ctx.home}/.local",  # `pip install --user` persists in /arc/home
    },
    secret_env=("JUPYTER_TOKEN",),
    url=lambda ctx: f"{_prefix('notebook', ctx)}/lab/tree/arc/home/{ctx.user}?token={ctx.secret}",
    probe=lambda ctx: Probe(f"{_prefix('notebook', ctx)}/api"),
    icon="notebook",
)

DESKTOP = Kind(
    name="desktop",
    title="Desktop",
    description="A Linux desktop in the browser (noVNC) for GUI software such as DS9, TOPCAT or CASA",
    default_image="images.canfar.net/skaha/desktop:latest",
    port=6901,
    env=lambda ctx: {"CANFAR_SECRET": ctx.secret, "VNC_PW": ctx.secret},
    secret_env=("CANFAR_SECRET", "VNC_PW"),
    # The websocket path carries the secret as a websockify token; images that run websockify
    # without tokens ignore it and authenticate with VNC_PW, which noVNC sends as `password`.
    url=lambda ctx: (
        "/vnc.html?autoconnect=1&resize=remote&reconnect=1&show_dot=1"
        f"&path={quote('websockify?token=' + ctx.secret, safe='')}&password={ctx.secret}"
    ),
    probe=lambda ctx: Probe("/vnc.html"),
    icon="desktop",
)

CARTA_IDLE_TIMEOUT_S = 100000  # CANFAR's: a little over a day before CARTA closes an unattended session

CARTA = Kind(
    name="carta",
    title="CARTA",
    description="The CARTA viewer for FITS and HDF5 images and cubes (radio astronomy)",
    default_image="images.canfar.net/skaha/carta:5.1.0",
    port=3002,
    # The command replaces the image's entrypoint (cartavis/carta's is `carta` itself), as on CANFAR.
    command=lambda ctx: [
        "carta", "--no_browser",
        "--host=0.0.0.0",
        "--port=3002",
        "--top_level_folder=/arc",
        f"--http_url_prefix={_prefix('carta', ctx)}",
        "--enable_scripting",
        f"--idle_timeout={CARTA_IDLE_TIMEOUT_S}",
        "/arc/projects",
    ],
    env=lambda ctx: {"CARTA_AUTH_TOKEN": ctx.secret, "UWS_HTTP_MAX_HEADERS_SIZE": "32768"},
    secret_env=("CARTA_AUTH_TOKEN",),
    url=lambda ctx: f"{_prefix('carta', ctx)}/?token={ctx.secret}",
    probe=lambda ctx: Probe(f"{_prefix('carta', ctx)}/"),
    icon="carta",
)

FIREFLY = Kind(
    name="firefly",
    title="Firefly",
    description="The Firefly viewer for optical images, catalogues and cutouts",
    default_image="images.canfar.net/skaha/firefly:2025.2",  # CANFAR tags Firefly by upstream version
    port=8080,
    env=lambda ctx: {"ADMIN_PASSWORD": ctx.secret},
    secret_env=("ADMIN_PASSWORD",),
    url=lambda ctx: "/firefly/",
    probe=lambda ctx: Probe("/firefly/healthz"),
    flexible_ram_limit_gb=4.0,
    in_app_auth=False,
    icon="firefly",
)

CONTRIBUTED = Kind(
    name="contributed",
    title="Contributed",
    description="A community web application (marimo, VS Code, …) serving on port 5000",
    default_image="",
    port=5000,
    url=lambda ctx: "/",
    probe=lambda ctx: Probe("/", ok=tuple(range(200, 500))),
    env=lambda ctx: {"CANFAR_SESSION_SECRET": ctx.secret},  # what its gate asks for (core/gate.py)
    secret_env=("CANFAR_SESSION_SECRET",),
    in_app_auth=False,
    icon="contributed",
)

# A batch job as CANFAR's headless sessions: the image's command (or the one given) runs with the same
# /arc and /scratch as any session, then stops; Running until it exits, then Terminated or Failed with its
# exit code, its output kept until it is deleted. It does not count against the active-session limit.
HEADLESS = Kind(
    name="headless",
    title="Headless",
    description="A batch job: runs a command to the end with /arc and /scratch, no web app",
    default_image="",
    port=0,
    url=lambda ctx: "",
    probe=lambda ctx: Probe(""),
    default_env={"REPLICA_ID": "1", "REPLICA_COUNT": "1"},
    in_app_auth=False,
    interactive=False,
    icon="contributed",
)

# An application started from a desktop session's Astro Software menu (core/desktop_apps.py): the
# image's own command in a container that joins the desktop's network namespace, so it reaches the
# desktop's X server (display :1) and nothing else does. No port, no page; it ends when the app closes.
DESKTOP_APP = Kind(
    name="desktop-app",
    title="Desktop app",
    description="An application on a desktop session's display, started from its Astro Software menu",
    default_image="",
    port=0,
    url=lambda ctx: "",
    probe=lambda ctx: Probe(""),
    env=lambda ctx: {"DISPLAY": ":1", "SHELL": "/bin/bash"},
    in_app_auth=False,
    interactive=False,
    icon="desktop",
)

# The interactive kinds: what the launch dialog, the tray and `create` offer.
KINDS: dict[str, Kind] = {k.name: k for k in (NOTEBOOK, DESKTOP, CARTA, FIREFLY, CONTRIBUTED)}
# Every kind a session can be created as, batch jobs included.
ALL_KINDS: dict[str, Kind] = {**KINDS, HEADLESS.name: HEADLESS}
# Kinds only ever started from inside another session (never on their own, so not in ALL_KINDS).
ATTACHED_KINDS: dict[str, Kind] = {DESKTOP_APP.name: DESKTOP_APP}


def get_kind(name: str) -> Kind:
    """A kind a session can be created as (a desktop's applications start from the desktop instead)."""
    from .errors import ValidationError

    try:
        return ALL_KINDS[name.lower()]
    except KeyError:
        raise ValidationError(
            f"Unknown session kind {name!r}", f"choose one of: {', '.join(ALL_KINDS)}"
        ) from None


def is_batch(kind: str) -> bool:
    """No app to wait for (a batch job, a desktop's application), and no slot of the session limit."""
    found = ALL_KINDS.get(kind) or ATTACHED_KINDS.get(kind)
    return found is not None and not found.interactive


def image_kinds(labels: dict[str, str] | None) -> set[str]:
    """The kinds an image declares it serves through its label."""
    value = (labels or {}).get(KIND_LABEL, "")
    return {part.strip().lower() for part in value.split(",") if part.strip()}
