"""User settings: a pydantic model with a schema version, saved atomically, never lost to a bad file.

Where things live comes from platformdirs; `CANFAR_DESKTOP_HOME` moves every folder under one
directory (tests and portable installs use it). Saving writes only what this process changed onto
the file as it is now, so the app and the CLI never revert each other's changes.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import SettingsError
from .files import move_aside, open_private, take_lock
from .files import write_atomic as write_atomic  # other modules write their files through settings
from .paths import AppPaths as AppPaths  # where settings live, with the settings
from .platform import is_root, unlock, user_ids

SCHEMA_VERSION = 1
DEFAULT_HOST = "local"
DEFAULT_API_PORT = 7654  # where `canfar-desktop api` and the app's background API listen by default
USER_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
# Accounts every Linux image has: a session user of that name would replace the image's own entry.
SYSTEM_USERS = frozenset({"root", "daemon", "bin", "sys", "sync", "nobody"})
# An app running as root gives sessions an id no account uses, above the range useradd hands out
# (UID_MAX 60000) and below systemd's dynamic users (61184 and up).
FREE_ID_FIRST, FREE_ID_LAST = 60001, 61183
MERGED_BY_ENTRY = ("last_choices",)  # dict settings saved entry by entry (one kind's choice at a time)


def _is_root() -> bool:
    return is_root()


def default_user() -> str:
    """The name sessions run under: the login name, or `canfar` when the app itself runs as root."""
    if _is_root():
        return "canfar"
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "canfar"
    return name if USER_RE.fullmatch(name) and name.lower() not in SYSTEM_USERS else "canfar"


def unused_id(table: Path, first: int = FREE_ID_FIRST, last: int = FREE_ID_LAST) -> int:
    """The lowest id from `first` that no line of an /etc/passwd- or /etc/group-style file uses."""
    taken: set[int] = set()
    try:
        for line in table.read_text(errors="replace").splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[2].isdigit():
                taken.add(int(fields[2]))
    except OSError:
        pass
    return next((n for n in range(first, last + 1) if n not in taken), last + 1)


def default_uid() -> int:
    """Sessions never run as root: an app running as root starts them as a uid no account has."""
    ids = user_ids()
    if ids is None:
        return 1000  # Windows: the Docker VM's first user
    if _is_root():
        return unused_id(Path("/etc/passwd"))
    return ids[0]


def default_gid() -> int:
    """The session's group: the person's own, else (as root) the uid's number when no group has it."""
    ids = user_ids()
    if ids is None:
        return 1000
    if not _is_root() and ids[1] != 0:
        return ids[1]
    uid = default_uid()
    groups = Path("/etc/group")
    return uid if unused_id(groups, uid, uid) == uid else unused_id(groups)


def validation_message(exc: ValidationError) -> str:
    """The first pydantic error in one line: the field, what is wrong, and the value given."""
    errors = exc.errors()
    if not errors:
        return str(exc).replace("\n", " ")
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ()))
    text = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    given = first.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) and len(repr(given)) <= 60 else ""
    more = f"; {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return f"{field + ': ' if field else ''}{text}{shown}{more}".replace("\n", " ")


def check_arc_root(value: str, paths: AppPaths | None = None) -> str:
    """The folder behind /arc as an absolute path; never `/`, never inside the app's own folders.

    Raises ValueError with a sentence saying what is wrong; "" (the default folder) passes.
    """
    text = value.strip()
    if not text:
        return ""
    expanded = os.path.expanduser(text)
    if expanded.startswith("~"):
        who = expanded[1:].split("/", 1)[0].split(os.sep, 1)[0]
        raise ValueError(f"there is no user {who!r} whose home folder '~{who}' could stand for")
    if not os.path.isabs(expanded):
        raise ValueError(f"{text!r} is not an absolute path; give the full path, e.g. /data/arc or ~/CANFAR/arc")
    folder = Path(os.path.normpath(expanded))
    if folder.parent == folder:
        raise ValueError(f"{text!r} is the root of the file system; choose a folder of its own, e.g. ~/CANFAR/arc")
    app = paths or AppPaths.default()
    real = folder.resolve()
    for own in (app.config_dir, app.data_dir, app.state_dir):
        mine = own.resolve()
        if real == mine or mine in real.parents:
            raise ValueError(f"{text!r} is inside the app's own folder {own}; choose a folder outside it")
        if any(mine == share or share in mine.parents for share in (real / "home", real / "projects")):
            raise ValueError(f"{text!r} would put the app's own folder {own} inside /arc; choose another folder")
    return str(folder)


class Resources(BaseModel):
    """Resources a session asks for: flexible (burstable) or fixed cores and RAM, plus GPUs."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    mode: Literal["flexible", "fixed"] = "flexible"
    cores: float = Field(default=2, gt=0, le=256)
    ram_gb: float = Field(default=16, gt=0, le=4096)
    gpus: int = Field(default=0, ge=0, le=28)


class LaunchChoice(BaseModel):
    """The last choices made for a kind, offered again by the launch dialog and the tray."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    image: str = ""
    resources: Resources = Field(default_factory=Resources)
    host: str = DEFAULT_HOST


class RecentLaunch(BaseModel):
    """A launch as it can be made again in one click (core/recent.py): a recent one, or a pinned preset."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    kind: str
    image: str = ""
    resources: Resources = Field(default_factory=Resources)
    host: str = DEFAULT_HOST
    name_pattern: str = ""  # "": a generated name; "fit-{n}": numbered; else this name (numbered when taken)
    title: str = ""  # a preset's own name


class HostConfig(BaseModel):
    """A Docker host sessions can run on: the local engine, ssh://user@host[:port] or tcp:// with TLS."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

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
        if not value or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in value):
            raise ValueError("host names use letters, digits, '-', '_' and '.'")
        return value


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True, defer_build=True)

    schema_version: int = SCHEMA_VERSION
    hosts: list[HostConfig] = Field(default_factory=lambda: [HostConfig()])
    default_host: str = DEFAULT_HOST
    arc_root: str = ""  # local folder behind /arc; empty: ~/CANFAR/arc
    user: str = Field(default_factory=default_user)
    uid: int = Field(default_factory=default_uid, ge=1, le=2**31 - 1)
    gid: int = Field(default_factory=default_gid, ge=1, le=2**31 - 1)
    session_limit: int = Field(default=3, ge=1, le=100)
    session_lifetime_hours: float = Field(default=96.0, gt=0, le=24 * 365)
    default_resources: Resources = Field(default_factory=Resources)
    theme: Literal["system", "light", "dark"] = "system"
    last_choices: dict[str, LaunchChoice] = Field(default_factory=dict)
    recent_launches: list[RecentLaunch] = Field(default_factory=list)  # newest first, at most ten (core/recent.py)
    presets: list[RecentLaunch] = Field(default_factory=list)  # launches pinned from the recent ones
    warn_before_minutes: list[int] = Field(default_factory=lambda: [60, 10])
    close_to_tray: bool = True
    start_minimized: bool = False
    start_at_login: bool = False
    api_background: bool = False  # the app serves the CANFAR session API (for the canfar client) while it runs
    api_port: int = Field(default=DEFAULT_API_PORT, ge=1024, le=65535)  # on 127.0.0.1 only

    # What these settings were when read from (or last written to) the file: saving writes the difference.
    _synced: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("user")
    @classmethod
    def _user_ok(cls, value: str) -> str:
        if not USER_RE.fullmatch(value):
            raise ValueError("the user name starts with a letter and uses at most 32 ASCII letters, digits, "
                             "'-' and '_'")
        if value.lower() in SYSTEM_USERS:
            raise ValueError(f"{value!r} is a system account in every image; choose your own name")
        return value

    @field_validator("arc_root")
    @classmethod
    def _arc_root_ok(cls, value: str) -> str:
        return check_arc_root(value)

    @model_validator(mode="after")
    def _default_host_known(self) -> Settings:
        names = [h.name for h in self.hosts]
        if len(set(names)) != len(names):
            raise ValueError("two Docker hosts have the same name")
        if self.default_host not in names:
            raise ValueError(f"default_host {self.default_host!r} is not a configured host "
                             f"(configured: {', '.join(names) or 'none'})")
        return self

    def arc_folder(self) -> Path:
        return Path(self.arc_root) if self.arc_root else Path.home() / "CANFAR" / "arc"

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
        return _synced(Settings()), None
    except OSError as exc:
        return Settings(), f"Could not read {path} ({exc.strerror}); using default settings"
    try:
        return _synced(_parse(raw)), None
    except (ValueError, ValidationError) as exc:
        problem = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
        with _settings_lock(paths):
            try:
                still = path.read_bytes() == raw  # another process may have repaired it meanwhile
            except OSError:
                still = False
            if not still:
                return load_settings(paths)
            try:
                where = f"it was moved to {move_aside(path)}"
            except OSError:
                where = "it could not be moved aside"
        return Settings(), f"The settings file was unreadable ({problem}); {where} and defaults are in use"


def _parse(raw: bytes) -> Settings:
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return Settings.model_validate(_migrate(data))


def _synced(settings: Settings) -> Settings:
    settings._synced = settings.model_dump(mode="json")
    return settings


def _migrate(data: dict[str, object]) -> dict[str, object]:
    """Bring an older schema up to date; version 1 is the first, so there is nothing to do yet."""
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ValueError(f"unknown schema_version {version!r}")
    data["schema_version"] = SCHEMA_VERSION
    return data


def save_settings(paths: AppPaths, settings: Settings, base: Settings | None = None) -> Settings:
    """Write what changed in `settings` (since it was read, or against `base`) onto the file as it is now.

    Another process (the CLI, a second app) may have changed other settings meanwhile; those are
    kept. Settings never read from the file and given no base are written whole. Returns the
    settings now in the file. The write is atomic and the folder is synced.
    """
    path = paths.settings_file
    new = settings.model_dump(mode="json")
    origin = base.model_dump(mode="json") if base is not None else settings._synced
    with _settings_lock(paths):
        merged = new if origin is None else _merge(_current(path), new, origin)
        merged["schema_version"] = SCHEMA_VERSION
        try:
            result = Settings.model_validate(merged)
        except ValidationError as exc:
            raise SettingsError(f"The settings were not saved: {validation_message(exc)}",
                                "another program changed them at the same time; check them and try again") from None
        write_atomic(path, result.model_dump_json(indent=2))
    settings._synced = new
    result._synced = result.model_dump(mode="json")
    return result


def _current(path: Path) -> dict[str, Any]:
    """The file's settings as they are now; a corrupt file is moved aside (and its values not kept)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"Could not read {path} ({exc.strerror}) to save the settings",
                            "check the file's permissions") from None
    try:
        return _parse(raw).model_dump(mode="json")
    except (ValueError, ValidationError):
        try:
            move_aside(path)
        except OSError:
            pass  # the atomic write replaces it; nothing readable was in it
        return {}


def _merge(current: dict[str, Any], new: dict[str, Any], origin: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current) if current else dict(origin)
    for key, value in new.items():
        before = origin.get(key)
        if value == before:
            continue
        if key in MERGED_BY_ENTRY and isinstance(value, dict) and isinstance(before, dict):
            entries = dict(merged.get(key) or {})
            for name in set(value) | set(before):
                if name not in value:
                    entries.pop(name, None)
                elif value[name] != before.get(name):
                    entries[name] = value[name]
            merged[key] = entries
        else:
            merged[key] = value
    return merged


@contextlib.contextmanager
def _settings_lock(paths: AppPaths) -> Iterator[None]:
    """Serialise read-change-write of the settings file between processes (unlocked on a read-only disk)."""
    path = paths.config_dir / ".settings.lock"
    try:
        handle = open_private(path)
    except OSError:
        yield  # the folder is not writable: the write itself will say so
        return
    with handle:
        take_lock(handle, path)
        try:
            yield
        finally:
            unlock(handle)
