"""User settings: a pydantic model with a schema version, saved atomically, never lost to a bad file.

Where things live comes from platformdirs; `CANFAR_DESKTOP_HOME` moves every folder under one
directory (tests and portable installs use it).
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import SettingsError

SCHEMA_VERSION = 1
APP_NAME = "canfar-desktop"
DEFAULT_HOST = "local"


@dataclass(frozen=True)
class AppPaths:
    """The folders the app writes to; one object so tests can redirect all of them at once."""

    config_dir: Path
    data_dir: Path
    state_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        home = os.environ.get("CANFAR_DESKTOP_HOME")
        if home:
            root = Path(home)
            return cls(root / "config", root / "data", root / "state")
        return cls(
            platformdirs.user_config_path(APP_NAME),
            platformdirs.user_data_path(APP_NAME),
            platformdirs.user_state_path(APP_NAME),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def profiles_dir(self) -> Path:
        """Browser profiles, one per session, so cookies never leak between sessions."""
        return self.data_dir / "profiles"

    @property
    def scratch_dir(self) -> Path:
        return self.state_dir / "scratch"

    @property
    def ledger_file(self) -> Path:
        return self.state_dir / "ledger.json"


def _is_root() -> bool:
    from .platform import is_root

    return is_root()


def default_user() -> str:
    """The name sessions run under: the login name, or `canfar` when the app itself runs as root."""
    if _is_root():
        return "canfar"
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "canfar"
    return name if name.replace("-", "").replace("_", "").isalnum() else "canfar"


def default_uid() -> int:
    """Sessions never run as root: an app running as root starts them as uid 1000."""
    return 1000 if _is_root() or not hasattr(os, "getuid") else os.getuid()


def default_gid() -> int:
    return 1000 if _is_root() or not hasattr(os, "getgid") else os.getgid()


class Resources(BaseModel):
    """Resources a session asks for: flexible (burstable) or fixed cores and RAM, plus GPUs."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["flexible", "fixed"] = "flexible"
    cores: float = Field(default=2, gt=0, le=256)
    ram_gb: float = Field(default=16, gt=0, le=4096)
    gpus: int = Field(default=0, ge=0, le=28)


class LaunchChoice(BaseModel):
    """The last choices made for a kind, offered again by the launch dialog and the tray."""

    model_config = ConfigDict(extra="ignore")

    image: str = ""
    resources: Resources = Field(default_factory=Resources)
    host: str = DEFAULT_HOST


class HostConfig(BaseModel):
    """A Docker host sessions can run on: the local engine, ssh://user@host[:port] or tcp:// with TLS."""

    model_config = ConfigDict(extra="forbid")

    name: str = DEFAULT_HOST
    url: str = ""  # empty: DOCKER_HOST, then the current Docker context, then the default socket
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    ssh_tunnel: str = ""  # for tcp:// hosts: ssh://user@host used to forward session ports
    arc_path: str = ""  # the folder behind /arc on that host; empty: local default or named volumes

    @field_validator("name")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_." for c in value):
            raise ValueError("host names use letters, digits, '-', '_' and '.'")
        return value


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SCHEMA_VERSION
    hosts: list[HostConfig] = Field(default_factory=lambda: [HostConfig()])
    default_host: str = DEFAULT_HOST
    arc_root: str = ""  # local folder behind /arc; empty: ~/CANFAR/arc
    user: str = Field(default_factory=default_user)
    uid: int = Field(default_factory=default_uid, ge=1)
    gid: int = Field(default_factory=default_gid, ge=0)
    session_limit: int = Field(default=3, ge=1, le=100)
    session_lifetime_hours: float = Field(default=96.0, gt=0, le=24 * 365)
    default_resources: Resources = Field(default_factory=Resources)
    theme: Literal["system", "light", "dark"] = "system"
    last_choices: dict[str, LaunchChoice] = Field(default_factory=dict)
    warn_before_minutes: list[int] = Field(default_factory=lambda: [60, 10])
    close_to_tray: bool = True
    start_minimized: bool = False
    start_at_login: bool = False

    @field_validator("user")
    @classmethod
    def _user_ok(cls, value: str) -> str:
        if not value or not value[0].isalpha() or not all(c.isalnum() or c in "-_" for c in value):
            raise ValueError("the user name starts with a letter and uses letters, digits, '-' and '_'")
        return value[:32]

    def arc_folder(self) -> Path:
        return Path(self.arc_root).expanduser() if self.arc_root else Path.home() / "CANFAR" / "arc"

    def host(self, name: str | None = None) -> HostConfig:
        wanted = name or self.default_host
        for host in self.hosts:
            if host.name == wanted:
                return host
        known = ", ".join(h.name for h in self.hosts)
        raise SettingsError(f"No Docker host named {wanted!r}", f"use one of: {known}")


def load_settings(paths: AppPaths) -> tuple[Settings, str | None]:
    """Read the settings; a corrupt file is moved aside and reported, defaults are used instead."""
    path = paths.settings_file
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        return Settings(), f"Could not read {path} ({exc.strerror}); using default settings"
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return Settings.model_validate(_migrate(data)), None
    except (ValueError, ValidationError) as exc:
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.replace(aside)
            where = f"it was moved to {aside}"
        except OSError:
            where = "it could not be moved aside"
        first = str(exc).splitlines()[0]
        return Settings(), f"The settings file was unreadable ({first}); {where} and defaults are in use"


def _migrate(data: dict[str, object]) -> dict[str, object]:
    """Bring an older schema up to date; version 1 is the first, so there is nothing to do yet."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"unknown schema_version {version!r}")
    data["schema_version"] = SCHEMA_VERSION
    return data


def save_settings(paths: AppPaths, settings: Settings) -> None:
    """Write atomically (temporary file, fsync, rename) so a crash never leaves half a file."""
    write_atomic(paths.settings_file, settings.model_dump_json(indent=2))


def write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SettingsError(
            f"Could not save {path} ({exc.strerror or exc})",
            "check that the folder exists and is writable, or set CANFAR_DESKTOP_HOME to a writable folder",
        ) from exc
