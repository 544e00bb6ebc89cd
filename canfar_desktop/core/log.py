"""Loggers that import `logging` only when a message could be shown.

Until something configures logging (the app at start, `--debug`), debug and info messages go
nowhere, and `logging` costs a fresh `canfar-desktop ps` about a tenth of its time to import. So a
debug or info message is passed on only once `logging` is loaded; a warning or an error loads it,
and Python's last-resort handler prints it as it always would.
"""

from __future__ import annotations

import sys
from typing import Any


class Logger:
    __slots__ = ("_real", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._real: Any = None

    def _logger(self) -> Any:
        if self._real is None:
            import logging

            self._real = logging.getLogger(self.name)
        return self._real

    # stacklevel 2: the record names the caller's line, not this proxy's
    def debug(self, msg: str, *args: Any, **kw: Any) -> None:
        if "logging" in sys.modules:
            self._logger().debug(msg, *args, stacklevel=2, **kw)

    def info(self, msg: str, *args: Any, **kw: Any) -> None:
        if "logging" in sys.modules:
            self._logger().info(msg, *args, stacklevel=2, **kw)

    def warning(self, msg: str, *args: Any, **kw: Any) -> None:
        self._logger().warning(msg, *args, stacklevel=2, **kw)

    def error(self, msg: str, *args: Any, **kw: Any) -> None:
        self._logger().error(msg, *args, stacklevel=2, **kw)

    def exception(self, msg: str, *args: Any, **kw: Any) -> None:
        kw.setdefault("exc_info", True)
        self._logger().error(msg, *args, stacklevel=2, **kw)


def get_logger(name: str) -> Logger:
    return Logger(name)
