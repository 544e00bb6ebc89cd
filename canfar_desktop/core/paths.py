"""Where the app keeps its files: settings, state, browser profiles, scratch folders.

Kept apart from the settings model so that starting the app or talking to a running one
costs only this small module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .record import record

APP_NAME = "canfar-desktop"


@record
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
        if sys.platform.startswith("linux"):
            return cls(_xdg("XDG_CONFIG_HOME", ".config"), _xdg("XDG_DATA_HOME", ".local/share"),
                       _xdg("XDG_STATE_HOME", ".local/state"))
        import platformdirs

        return cls(
            platformdirs.user_config_path(APP_NAME),
            platformdirs.user_data_path(APP_NAME),
            platformdirs.user_state_path(APP_NAME),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def checked_settings_file(self) -> Path:
        """The settings as last type-checked, with the hash of the file they came from (core/settings_copy.py)."""
        return self.state_dir / "settings-checked.json"

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


def _xdg(variable: str, default: str) -> Path:
    """The XDG base directory rule, as platformdirs applies it on Linux (without its import, which
    every command would pay)."""
    base = os.environ.get(variable, "")
    return Path(base if base.strip() else os.path.expanduser(f"~/{default}")) / APP_NAME
