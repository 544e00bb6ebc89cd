"""Tokens a person saved for a platform host, kept out of the settings file.

The system keyring holds them when the `keyring` package is importable and has a working backend
(the macOS Keychain, Windows Credential Manager, the Secret Service on Linux); otherwise a file only
its owner can read (0600, in the 0700 state folder). Tokens are keyed by the service's address, so
renaming a host keeps its login.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import SettingsError
from .files import private_dir, write_atomic
from .settings import AppPaths

KEYRING_SERVICE = "canfar-desktop"
FILE_NAME = "platform-tokens.json"


def token_file(paths: AppPaths) -> Path:
    return paths.state_dir / FILE_NAME


def _keyring() -> Any | None:
    """The keyring module when it can be used here, else None (it is optional)."""
    try:
        import keyring
        import keyring.errors
        from keyring.backends import fail, null
    except Exception:  # noqa: BLE001 - not installed, or broken on import: the file is used instead
        return None
    try:
        if isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring)):  # they store nothing
            return None
    except Exception:  # noqa: BLE001 - no backend on this system
        return None
    return keyring


def _read_file(paths: AppPaths) -> dict[str, str]:
    path = token_file(paths)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SettingsError(f"Could not read the saved platform tokens in {path} ({exc})",
                            "remove the file and save the token again (canfar-desktop hosts login NAME)") from None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_file(paths: AppPaths, tokens: dict[str, str]) -> None:
    path = token_file(paths)
    if not tokens:
        path.unlink(missing_ok=True)
        return
    private_dir(path.parent)
    write_atomic(path, json.dumps(tokens, indent=2) + "\n")  # made 0600 by mkstemp, renamed into place
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass


def load_token(paths: AppPaths, site: str) -> tuple[str, str] | None:
    """The token saved for a service address and where it was found, or None."""
    ring = _keyring()
    if ring is not None:
        try:
            value = ring.get_password(KEYRING_SERVICE, site)
        except Exception:  # noqa: BLE001 - a locked or broken keyring: look in the file
            value = None
        if value:
            return value, "the system keyring"
    value = _read_file(paths).get(site)
    return (value, str(token_file(paths))) if value else None


def save_token(paths: AppPaths, site: str, token: str) -> str:
    """Keep a token for a service address; returns where it went (for the person to read)."""
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(KEYRING_SERVICE, site, token)
        except Exception:  # noqa: BLE001 - a keyring that refuses: fall back to the private file
            pass
        else:
            tokens = _read_file(paths)
            if tokens.pop(site, None) is not None:
                _write_file(paths, tokens)
            return "the system keyring"
    tokens = _read_file(paths)
    tokens[site] = token
    _write_file(paths, tokens)
    return f"{token_file(paths)} (readable by you only)"


def forget_token(paths: AppPaths, site: str) -> bool:
    """Remove a saved token from the keyring and the file; True when one was there."""
    found = False
    ring = _keyring()
    if ring is not None:
        try:
            if ring.get_password(KEYRING_SERVICE, site):
                ring.delete_password(KEYRING_SERVICE, site)
                found = True
        except Exception:  # noqa: BLE001 - nothing to remove there
            pass
    tokens = _read_file(paths)
    if tokens.pop(site, None) is not None:
        _write_file(paths, tokens)
        found = True
    return found
