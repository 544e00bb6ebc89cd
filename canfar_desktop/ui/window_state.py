"""The main window's place between runs: its size and position, and how wide the session list is.

Kept in the state folder as a small JSON file of this app (not in the settings, which the CLI
shares and a person edits); a missing or unreadable file means the defaults.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QMainWindow

from ..core.errors import CanfarError
from ..core.files import write_atomic
from ..core.record import record
from ..core.settings import AppPaths

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 820)
DEFAULT_LIST_WIDTH = 380


@record(frozen=False)
class WindowState:
    geometry: bytes = b""
    list_width: int = DEFAULT_LIST_WIDTH
    list_hidden: bool = False


def state_file(paths: AppPaths) -> Path:
    return Path(paths.state_dir) / "window.json"


def load(paths: AppPaths) -> WindowState:
    try:
        raw = json.loads(state_file(paths).read_text(encoding="utf-8"))
        return WindowState(base64.b64decode(str(raw.get("geometry", ""))),
                           max(120, int(raw.get("list_width", DEFAULT_LIST_WIDTH))),
                           bool(raw.get("list_hidden", False)))
    except (OSError, ValueError, TypeError, AttributeError):
        return WindowState()


def save(paths: AppPaths, state: WindowState) -> None:
    data = {"geometry": base64.b64encode(state.geometry).decode(), "list_width": state.list_width,
            "list_hidden": state.list_hidden}
    try:
        write_atomic(state_file(paths), json.dumps(data))
    except (OSError, CanfarError) as exc:
        log.info("the window's place was not saved: %s", exc)


def restore(window: QMainWindow, state: WindowState) -> None:
    """The saved size and position (Qt keeps it on a screen that is there now), else the default size."""
    if not state.geometry or not window.restoreGeometry(QByteArray(state.geometry)):
        window.resize(*DEFAULT_SIZE)


def geometry_of(window: QMainWindow) -> bytes:
    return bytes(window.saveGeometry().data())
