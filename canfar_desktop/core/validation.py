"""Checks of everything a person types: names, image references, resources, KEY=VALUE entries."""

from __future__ import annotations

import re
from typing import Any

from .errors import ValidationError
from .settings import Resources

NAME_MAX = 32
NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")  # a hostname label: no '-' at either end
ENV_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The Docker reference grammar (distribution/reference), kept to what a person can type.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# A first part is a registry when it is localhost, has a dot, or has a port (as Docker decides).
_DOMAIN_PORT = rf"(?:localhost(?::[0-9]+)?|{_LABEL}(?:\.{_LABEL})+(?::[0-9]+)?|{_LABEL}:[0-9]+)"
IMAGE_RE = re.compile(
    rf"(?P<name>(?:{_DOMAIN_PORT}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)
CANFAR_REGISTRY = "images.canfar.net"


def validate_name(name: str) -> str:
    """Session names follow CANFAR: letters, digits and '-', at most NAME_MAX characters."""
    if not name:
        raise ValidationError("The session name is empty", "give a name such as galaxy-photometry")
    if len(name) > NAME_MAX:
        raise ValidationError(
            f"The session name is {len(name)} characters long", f"use at most {NAME_MAX} characters"
        )
    if not NAME_RE.fullmatch(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "-"))})
        if not bad:
            raise ValidationError(
                f"The session name {name!r} starts or ends with '-'",
                "start and end it with a letter or digit (for example alma-reduction)",
            )
        shown = " ".join(repr(c) for c in bad[:5])
        raise ValidationError(
            f"The session name {name!r} contains {shown}",
            "use only letters, digits and '-' (for example alma-reduction)",
        )
    return name


def make_resources(**fields: Any) -> Resources:
    """Resources from what a person typed; out-of-range values are one clear error naming the field."""
    try:
        return Resources(**fields)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"Invalid resources: {exc}",
            "cores above 0 and at most 256, memory in GB up to 4096, GPUs from 0 to 28",
        ) from None


def normalize_image(ref: str) -> str:
    """Expand the canfar client's shorthand (`skaha/x` → images.canfar.net/skaha/x:latest) and check."""
    ref = ref.strip()
    if not ref:
        raise ValidationError("No image was given", "name an image such as skaha/astroml or quay.io/jupyter/scipy-notebook")
    if ref.startswith("skaha/"):
        ref = f"{CANFAR_REGISTRY}/{ref}"
    match = IMAGE_RE.fullmatch(ref)
    if not match or len(match.group("name")) > 255:
        raise ValidationError(
            f"{ref!r} is not a valid image reference",
            "write it as [registry/]repository[:tag], in lower case, e.g. images.canfar.net/skaha/astroml:latest",
        )
    if not match.group("tag") and not match.group("digest"):
        ref = f"{ref}:latest"
    return ref


def parse_env(entries: list[str], reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """Turn `KEY=VALUE` entries into a dict; keys that carry the session secret are refused."""
    env: dict[str, str] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep:
            raise ValidationError(f"{entry!r} is not KEY=VALUE", "write environment entries as -e KEY=VALUE")
        if not ENV_KEY_RE.fullmatch(key):
            raise ValidationError(
                f"{key!r} is not a valid variable name",
                "start with a letter or '_' and use letters, digits and '_'",
            )
        if "\0" in value:
            raise ValidationError(f"The value of {key} contains a NUL character", "remove it")
        if key in reserved:
            raise ValidationError(
                f"{key} is set by canfar-desktop to the session secret", "leave it out; the secret is generated for you"
            )
        env[key] = value
    return env


def validate_resources(res: Resources, host_cpus: int, host_ram_gb: float, host_gpus: int | None) -> Resources:
    """Refuse what the host cannot give before anything is created."""
    if res.mode == "fixed":
        if res.cores > host_cpus:
            raise ValidationError(
                f"{res.cores:g} cores were asked for but this host has {host_cpus}",
                f"choose at most {host_cpus} cores, or a flexible session",
            )
        if res.ram_gb > host_ram_gb:
            raise ValidationError(
                f"{res.ram_gb:g} GB of RAM was asked for but this host has {host_ram_gb:.1f} GB",
                f"choose at most {int(host_ram_gb)} GB, or a flexible session",
            )
        if res.ram_gb < 0.125:
            raise ValidationError(f"{res.ram_gb:g} GB of RAM is too little to start a session", "choose at least 0.125 GB")
    if res.gpus and host_gpus is not None and res.gpus > host_gpus:
        raise ValidationError(
            f"{res.gpus} GPU(s) were asked for but this host has {host_gpus}",
            "choose fewer GPUs or a host with GPUs",
        )
    return res


def parse_size_gb(text: str) -> float:
    """Read RAM as GB: `16`, `16G`, `512M`, `0.5`."""
    raw = text.strip().upper().removesuffix("B")
    scale = 1.0
    if raw.endswith("G"):
        raw = raw[:-1]
    elif raw.endswith("M"):
        raw, scale = raw[:-1], 1 / 1024
    elif raw.endswith("T"):
        raw, scale = raw[:-1], 1024.0
    try:
        value = float(raw) * scale
    except ValueError:
        raise ValidationError(f"{text!r} is not an amount of memory", "write it in GB, e.g. 16 or 512M") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValidationError(f"{text!r} is not a positive amount of memory", "write it in GB, e.g. 16 or 512M")
    return value
