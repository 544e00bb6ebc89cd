"""Reading the platform's request parameters and answering bad ones with the platform's 400 messages.

Parameters come from the query string and the form body alike (the client sends POST parameters
in the query string). The checks themselves are the core's (names, images, KEY=VALUE, resources
against the host); only the wording follows the platform where it has its own sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..core.errors import ValidationError
from ..core.host import HostInfo
from ..core.kinds import ALL_KINDS
from ..core.record import record
from ..core.settings import Resources
from ..core.validation import NAME_RE, validate_name
from .translate import PLATFORM_KINDS, core_options, gpu_options, ram_options

Params = Mapping[str, Sequence[str]]  # every value of each parameter, in order


class ApiError(Exception):
    """An answer other than success: the HTTP status and the one-line text body."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def bad(text: str) -> ApiError:
    return ApiError(400, text)


def first(params: Params, key: str) -> str | None:
    values = params.get(key) or ()
    return values[0] if values else None


@record
class CreateArgs:
    kind: str
    image: str  # as given; the caller resolves it against the host's images
    name: str
    resources: Resources
    command: tuple[str, ...] = ()
    env: tuple[str, ...] = ()


def session_kind(raw: str | None) -> str:
    """`type`: omitted means headless, as on the platform."""
    if raw is None or not raw.strip():
        return "headless"
    kind = raw.strip().lower()
    if kind == "desktop-app":
        raise bad("desktop-app sessions start inside a desktop session; launch the application from the desktop")
    if kind not in ALL_KINDS:
        raise bad(f"Invalid session type: {raw}")
    return kind


def type_filter(raw: str | None) -> str | None:
    """`type=` of a listing or of images: one of the platform's kinds."""
    if raw is None or not raw.strip():
        return None
    if raw.strip().lower() not in PLATFORM_KINDS:
        raise bad(f"unknown type: {raw}")
    return raw.strip().lower()


def _choice(params: Params, key: str, options: list[int]) -> int | None:
    raw = first(params, key)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise bad(f"Invalid value for '{key}': {raw}") from None
    if value not in options:
        raise bad(f"Unavailable option for '{key}': {raw}")
    return value


def _name(params: Params) -> str:
    name = first(params, "name")
    if name is None or not name.strip():
        raise bad("Missing parameter 'name'")
    if not NAME_RE.fullmatch(name):
        raise bad("name can only contain alpha-numeric chars and '-'")
    try:
        return validate_name(name)
    except ValidationError as exc:
        raise bad(f"{exc.message}: {exc.hint}") from None


def parse_create(params: Params, info: HostInfo, defaults: Resources) -> CreateArgs:
    """Check a POST /session request in the platform's order; the first problem is the answer."""
    image = first(params, "image")
    if image is None or not image.strip():
        raise bad("Missing parameter 'image'")
    kind = session_kind(first(params, "type"))
    name = _name(params)
    cores = _choice(params, "cores", core_options(info))
    ram = _choice(params, "ram", ram_options(info))
    gpus = _choice(params, "gpus", gpu_options(info)) or 0
    if cores is None and ram is None:
        resources = Resources(mode="flexible", cores=defaults.cores, ram_gb=defaults.ram_gb, gpus=gpus)
    else:
        resources = Resources(mode="fixed", cores=cores if cores is not None else min(defaults.cores, info.cpus),
                              ram_gb=ram if ram is not None else min(defaults.ram_gb, info.memory_gb), gpus=gpus)
    command: tuple[str, ...] = ()
    if not ALL_KINDS[kind].interactive:  # interactive kinds start their own app, as on the platform
        cmd = (first(params, "cmd") or "").strip()
        args = [a for a in (first(params, "args") or "").split(" ") if a]  # split on spaces, as the platform does
        command = tuple([cmd, *args] if cmd else args)
    env = tuple(params.get("env") or ())
    return CreateArgs(kind=kind, image=image.strip(), name=name, resources=resources, command=command, env=env)
