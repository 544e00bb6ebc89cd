"""Start at login: an XDG autostart entry on Linux (macOS and Windows are documented in the README).

Qt-free so it can be tested and used without a display. The entry runs the app minimised (to the
tray when there is one), which is what someone who asked for "start at login" expects.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .errors import SettingsError

DESKTOP_ID = "net.canfar.Desktop"
MINIMIZED_FLAG = "--minimized"


def autostart_file(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Where the XDG autostart entry goes: $XDG_CONFIG_HOME/autostart, else ~/.config/autostart."""
    environ = os.environ if env is None else env
    config = environ.get("XDG_CONFIG_HOME", "").strip()
    base = Path(config) if config and Path(config).is_absolute() else (home or Path.home()) / ".config"
    return base / "autostart" / f"{DESKTOP_ID}.desktop"


def launch_command() -> list[str]:
    """How to start this very installation: the frozen binary, the script installed beside this Python
    (not whichever `canfar-desktop` comes first on PATH), or the module."""
    if getattr(sys, "frozen", False):
        return [sys.executable, MINIMIZED_FLAG]
    script = Path(sys.executable).with_name("canfar-desktop")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script), MINIMIZED_FLAG]
    return [sys.executable, "-m", "canfar_desktop", MINIMIZED_FLAG]


def _quote(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry specification asks (reserved characters, `%`)."""
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'


def desktop_entry(command: list[str]) -> str:
    """The text of the autostart entry for `command`."""
    exec_line = " ".join(_quote(a) for a in command)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=CANFAR Desktop",
        "Comment=Interactive CANFAR sessions, started at login in the tray",
        f"Exec={exec_line}",
        "Icon=canfar-desktop",
        "Terminal=false",
        "Categories=Science;Education;",
        "X-GNOME-Autostart-enabled=true",
        "",
    ])


def is_enabled(path: Path | None = None) -> bool:
    return (path or autostart_file()).is_file()


def set_autostart(enabled: bool, path: Path | None = None, command: list[str] | None = None,
                  platform: str | None = None) -> Path | None:
    """Write or remove the autostart entry; returns the file on Linux, None where it is not automated.

    On macOS and Windows nothing is written (see the README's "Tray and start at login" section).
    """
    if (platform or sys.platform) in ("darwin", "win32"):
        return None
    target = path or autostart_file()
    try:
        if enabled:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(desktop_entry(command or launch_command()), encoding="utf-8")
            os.replace(tmp, target)
        else:
            target.unlink(missing_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"Could not {'write' if enabled else 'remove'} the start-at-login entry {target} ({exc.strerror or exc})",
            f"check that {target.parent} is writable",
        ) from exc
    return target
