"""User settings: checked records (core/record.py) with a schema version, saved atomically, never lost to a bad file.

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
from typing import Any, ClassVar, Literal

from .errors import SettingsError
from .files import move_aside, open_private, take_lock
from .files import write_atomic as write_atomic  # other modules write their files through settings
from .paths import AppPaths as AppPaths  # where settings live, with the settings
from .plain import from_plain, to_plain
from .platform import is_root, unlock, user_ids
from .record import field, record, replace
from .settings_copy import checked_copy, keep_checked_copy

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


def _within(name: str, value: float, low: float, high: float, low_open: bool = False) -> None:
    """One value rule, said as the field and its allowed range (the message pydantic passes on as is)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: a number is needed, got {value!r}")
    if value != value or (value <= low if low_open else value < low) or value > high:  # NaN is never within
        low_text = f"more than {_number(low)}" if low_open else f"at least {_number(low)}"
        raise ValueError(f"{name}: must be {low_text} and at most {_number(high)} (got {_number(value)})")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name}: must be one of {', '.join(allowed)} (got {value!r})")


# The settings are records, so reading them costs no validation library. Their value rules
# live in __post_init__ and run on every construction; settings read from a file someone may have
# edited are also type-checked by pydantic (core/settings_check.py). `__pydantic_config__` tells
# pydantic what to do with unknown keys.

@record(frozen=False)
class Resources:
    """Resources a session asks for: flexible (burstable) or fixed cores and RAM, plus GPUs."""

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}

    mode: Literal["flexible", "fixed"] = "flexible"
    cores: float = 2.0
    ram_gb: float = 16.0
    gpus: int = 0

    def __post_init__(self) -> None:
        _one_of("mode", self.mode, ("flexible", "fixed"))
        _within("cores", self.cores, 0, 256, low_open=True)
        _within("ram_gb", self.ram_gb, 0, 4096, low_open=True)
        _within("gpus", self.gpus, 0, 28)
        if not isinstance(self.gpus, int):
            raise ValueError(f"gpus: a whole number is needed, got {self.gpus!r}")


@record(frozen=False)
class LaunchChoice:
    """The last choices made for a kind, offered again by the launch dialog and the tray."""

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "ignore"}

    image: str = ""
    resources: Resources = field(default_factory=Resources)
    host: str = DEFAULT_HOST


@record(frozen=False)
class RecentLaunch:
    """A launch as it can be made again in one click (core/recent.py): a recent one, or a pinned preset."""

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "ignore"}

    kind: str
    image: str = ""
    resources: Resources = field(default_factory=Resources)
    host: str = DEFAULT_HOST
    name_pattern: str = ""  # "": a generated name; "fit-{n}": numbered; else this name (numbered when taken)
    title: str = ""  # a preset's own name


@record(frozen=False)
class HostConfig:
    """A Docker host sessions can run on: the local engine, ssh://user@host[:port] or tcp:// with TLS."""

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}

    name: str = DEFAULT_HOST
    url: str = ""  # empty: DOCKER_HOST, then the current Docker context, then the default socket
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    ssh_tunnel: str = ""  # for tcp:// hosts: ssh://user@host used to forward session ports
    arc_path: str = ""  # the folder behind /arc on that host; empty: local default or named volumes

    def __post_init__(self) -> None:
        name = self.name
        if not name or not isinstance(name, str) or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in name):
            raise ValueError("name: host names use letters, digits, '-', '_' and '.'")


@record(frozen=False)
class Settings:
    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "ignore"}

    schema_version: int = SCHEMA_VERSION
    hosts: list[HostConfig] = field(default_factory=lambda: [HostConfig()])
    default_host: str = DEFAULT_HOST
    arc_root: str = ""  # local folder behind /arc; empty: ~/CANFAR/arc
    user: str = field(default_factory=default_user)
    uid: int = field(default_factory=default_uid)
    gid: int = field(default_factory=default_gid)
    session_limit: int = 3
    session_lifetime_hours: float = 96.0
    default_resources: Resources = field(default_factory=Resources)
    theme: Literal["system", "light", "dark"] = "system"
    last_choices: dict[str, LaunchChoice] = field(default_factory=dict)
    recent_launches: list[RecentLaunch] = field(default_factory=list)  # newest first, at most ten (core/recent.py)
    presets: list[RecentLaunch] = field(default_factory=list)  # launches pinned from the recent ones
    warn_before_minutes: list[int] = field(default_factory=lambda: [60, 10])
    close_to_tray: bool = True
    start_minimized: bool = False
    start_at_login: bool = False
    api_background: bool = False  # the app serves the CANFAR session API (for the canfar client) while it runs
    api_port: int = DEFAULT_API_PORT  # on 127.0.0.1 only

    # What these settings were when read from (or last written to) the file: saving writes the difference.
    synced: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False,
                                          internal=True)

    def __post_init__(self) -> None:
        user = self.user
        if not isinstance(user, str) or not USER_RE.fullmatch(user):
            raise ValueError("user: the user name starts with a letter and uses at most 32 ASCII letters, digits, "
                             "'-' and '_'")
        if user.lower() in SYSTEM_USERS:
            raise ValueError(f"user: {user!r} is a system account in every image; choose your own name")
        try:
            self.arc_root = check_arc_root(self.arc_root)
        except ValueError as exc:
            raise ValueError(f"arc_root: {exc}") from None
        for name in ("uid", "gid"):
            _within(name, getattr(self, name), 1, 2**31 - 1)
        _within("session_limit", self.session_limit, 1, 100)
        _within("session_lifetime_hours", self.session_lifetime_hours, 0, 24 * 365, low_open=True)
        _within("api_port", self.api_port, 1024, 65535)
        _one_of("theme", self.theme, ("system", "light", "dark"))
        names = [h.name for h in self.hosts]
        if len(set(names)) != len(names):
            raise ValueError("two Docker hosts have the same name")
        if self.default_host not in names:
            raise ValueError(f"default_host {self.default_host!r} is not a configured host "
                             f"(configured: {', '.join(names) or 'none'})")

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
        return _synced(_parse(raw, paths)), None
    except ValueError as exc:
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
        return Settings(), f"The settings file was unreadable ({exc}); {where} and defaults are in use"


def _parse(raw: bytes, paths: AppPaths) -> Settings:
    """The file's settings: from the copy kept when these exact bytes were last checked, else checked now.

    Raises ValueError with one line saying what is wrong.
    """
    known = checked_copy(paths, raw, _version())
    if known is not None:
        try:
            return from_plain(Settings, known)
        except (TypeError, ValueError, KeyError, AttributeError):
            pass  # a copy this version cannot read: check the file again
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    settings = _checked(_migrate(data))
    keep_checked_copy(paths, raw, _version(), settings)
    return settings


def _checked(data: dict[str, Any]) -> Settings:
    from .settings_check import ValidationError, check, validation_message

    try:
        return check(Settings, data)
    except ValidationError as exc:
        raise ValueError(validation_message(exc)) from None


def _version() -> str:
    from .. import __version__

    return f"{__version__}/{SCHEMA_VERSION}"


def _synced(settings: Settings) -> Settings:
    settings.synced = to_plain(settings)
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
    new = to_plain(settings)
    origin = to_plain(base) if base is not None else settings.synced
    with _settings_lock(paths):
        merged = new if origin is None else _merge(_current(path, paths), new, origin)
        merged["schema_version"] = SCHEMA_VERSION
        try:  # every value was checked: read from the file, or set in a Settings, whose rules run again here
            result = from_plain(Settings, merged)
        except (ValueError, TypeError) as exc:
            raise SettingsError(f"The settings were not saved: {exc}",
                                "another program changed them at the same time; check them and try again") from None
        text = json.dumps(to_plain(result), indent=2)
        write_atomic(path, text)
        keep_checked_copy(paths, text.encode("utf-8"), _version(), result)
    settings.synced = new
    return _synced(result)


def with_changes(settings: Settings, **changes: Any) -> Settings:
    """A copy with some fields changed, its rules checked again; it remembers what the original was read as."""
    copy = replace(settings, **changes)
    copy.synced = settings.synced
    return copy


def _current(path: Path, paths: AppPaths) -> dict[str, Any]:
    """The file's settings as they are now; a corrupt file is moved aside (and its values not kept)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"Could not read {path} ({exc.strerror}) to save the settings",
                            "check the file's permissions") from None
    try:
        current: dict[str, Any] = to_plain(_parse(raw, paths))
        return current
    except ValueError:
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
