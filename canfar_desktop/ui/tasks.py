"""Run blocking core calls on worker threads and deliver results on the Qt thread.

The core blocks (the Docker SDK does). Results come back through a queued signal rather than
asyncio, so they arrive both under the app's qasync loop and under pytest-qt's event processing.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.errors import CanfarError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[CanfarError], None]


def as_canfar_error(exc: BaseException) -> CanfarError:
    """Any failure as a message with a hint; unexpected ones keep their type name for reports."""
    if isinstance(exc, CanfarError):
        return exc
    return CanfarError(f"Unexpected {type(exc).__name__}: {exc}", "retry; if it happens again, report it")


class Tasks(QObject):
    """A small thread pool whose callbacks run on the thread that owns this object (the GUI thread)."""

    _finished = Signal(object, object, object, object)  # on_done, on_error, result, error

    def __init__(self, parent: QObject | None = None, workers: int = 6) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="canfar-ui")
        self._closed = False
        self._finished.connect(self._deliver)

    def run(self, fn: Callable[..., Any], *args: Any, on_done: Done | None = None,
            on_error: Failed | None = None, **kwargs: Any) -> Future[Any] | None:
        if self._closed:
            return None
        future = self._pool.submit(fn, *args, **kwargs)

        def finished(f: Future[Any]) -> None:
            if self._closed or f.cancelled():
                return
            exc = f.exception()
            if exc is not None and not isinstance(exc, CanfarError):
                log.error("background task failed:\n%s", "".join(traceback.format_exception(exc)))
            try:
                self._finished.emit(on_done, on_error, None if exc else f.result(),
                                    as_canfar_error(exc) if exc else None)
            except RuntimeError:  # this object was deleted while the task ran
                pass

        future.add_done_callback(finished)
        return future

    def _deliver(self, on_done: Done | None, on_error: Failed | None, result: Any, error: CanfarError | None) -> None:
        try:
            if error is not None:
                if on_error is not None:
                    on_error(error)
            elif on_done is not None:
                on_done(result)
        except RuntimeError as exc:  # a widget the callback touches was closed meanwhile
            if "already deleted" not in str(exc):
                raise

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
