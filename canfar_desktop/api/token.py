"""The API's bearer token: 256 random bits in a file only its owner can read, shown and rotated on request.

The server re-reads the file when it changes, so `canfar-desktop api --rotate-token` (or the
Settings button) takes effect at once for a server that is already running.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from pathlib import Path

from ..core.errors import SettingsError
from ..core.files import private_dir, write_atomic
from ..core.settings import AppPaths

TOKEN_BYTES = 32  # 256 bits; the brief minimum is 128


def token_file(paths: AppPaths) -> Path:
    return paths.state_dir / "api-token"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class TokenStore:
    """The token on disk, cached and re-read only when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int], str] | None = None  # ((inode, mtime_ns), token)

    @classmethod
    def for_paths(cls, paths: AppPaths) -> TokenStore:
        return cls(token_file(paths))

    def get(self) -> str:
        """The current token, made (and saved) the first time it is asked for."""
        with self._lock:
            try:
                info = self.path.stat()
                stamp = (info.st_ino, info.st_mtime_ns)
            except FileNotFoundError:
                return self._write(new_token())
            except OSError as exc:
                raise SettingsError(f"Could not read the API token {self.path} ({exc.strerror})",
                                    "check the state folder's permissions") from None
            if self._cached is not None and self._cached[0] == stamp:
                return self._cached[1]
            try:
                text = self.path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(f"Could not read the API token {self.path} ({exc.strerror})",
                                    "check the state folder's permissions") from None
            if len(text) < 22:  # shorter than 128 bits of url-safe base64: not one of ours
                return self._write(new_token())
            self._cached = (stamp, text)
            return text

    def rotate(self) -> str:
        """A new token; the old one stops working at once."""
        with self._lock:
            return self._write(new_token())

    def matches(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.get().encode())

    def _write(self, token: str) -> str:
        private_dir(self.path.parent)
        write_atomic(self.path, token + "\n")  # a temporary file made 0600, renamed into place
        try:
            os.chmod(self.path, 0o600)
        except OSError:
            pass
        info = self.path.stat()
        self._cached = ((info.st_ino, info.st_mtime_ns), token)
        return token
