"""The app's one way to run blocking work: asyncio tasks on the loop that drives Qt (qasync).

The core blocks (the Docker SDK does). `Runner.run` runs a blocking call on the app's one worker
pool, or awaits a coroutine, as an asyncio task; its callbacks run on the loop's thread, the GUI
thread. A request that a newer one supersedes is cancelled (`Latest`), so a late answer never lands
on a view that has moved on. Cancelling stops the waiting, not a call already running on a worker:
its result is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..core.errors import CanfarError

log = logging.getLogger(__name__)

T = TypeVar("T")
Done = Callable[[Any], None]
Failed = Callable[[CanfarError], None]
WORKERS = 8  # log followers hold one each while they follow; every other call is short


def as_canfar_error(exc: BaseException) -> CanfarError:
    """Any failure as a message with a hint; unexpected ones keep their type name for reports."""
    if isinstance(exc, CanfarError):
        return exc
    return CanfarError(f"Unexpected {type(exc).__name__}: {exc}", "retry; if it happens again, report it")


class Runner:
    """Runs work as asyncio tasks on one loop, blocking calls on one worker pool; callbacks on the loop's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, workers: int = WORKERS) -> None:
        self.loop = loop or asyncio.get_event_loop()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="canfar-ui")
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    async def in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Await a blocking call on the worker pool (for coroutines that wait and block in turns)."""
        return await self.loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def run(self, work: Callable[..., Any] | Awaitable[Any], *args: Any, on_done: Done | None = None,
            on_error: Failed | None = None, **kwargs: Any) -> asyncio.Task[None] | None:
        """Start `work` (a blocking callable, a coroutine function, or a coroutine) as a task.

        `on_done(result)` or `on_error(CanfarError)` runs on the GUI thread, unless the task is
        cancelled first. Returns the task (cancel it to drop the request), or None once shut down.
        """
        if self.closed:
            if inspect.iscoroutine(work):
                work.close()
            return None
        if inspect.isawaitable(work):
            assert not args and not kwargs, "pass the arguments to the coroutine itself"
            awaited: Awaitable[Any] = work
        elif inspect.iscoroutinefunction(work):
            awaited = work(*args, **kwargs)
        else:
            awaited = self.in_thread(work, *args, **kwargs)
        task = self.loop.create_task(self._deliver(awaited, on_done, on_error))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if inspect.iscoroutine(awaited):
            task.add_done_callback(lambda _t, c=awaited: _close_unstarted(c))
        return task

    @staticmethod
    async def _deliver(work: Awaitable[Any], on_done: Done | None, on_error: Failed | None) -> None:
        try:
            result = await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a CanfarError for the callback
            if not isinstance(exc, CanfarError):
                log.error("background task failed:\n%s", "".join(traceback.format_exception(exc)))
            _call(on_error, as_canfar_error(exc))
            return
        _call(on_done, result)

    def pending(self) -> int:
        """Tasks not finished yet (tests wait for quiet)."""
        return len(self._tasks)

    def shutdown(self) -> None:
        """Cancel every task and let the workers end with their current call; nothing is delivered after this."""
        if self.closed:
            return
        self.closed = True
        for task in list(self._tasks):
            task.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _close_unstarted(coro: Any) -> None:
    """A task cancelled before its first step never ran its coroutine: close it (else Python warns)."""
    if inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
        coro.close()


def _call(callback: Callable[[Any], None] | None, value: Any) -> None:
    """Run a callback as a Qt slot would run: a widget closed meanwhile is fine, other errors reach the excepthook."""
    if callback is None:
        return
    try:
        callback(value)
    except RuntimeError as exc:
        if "already deleted" not in str(exc):
            sys.excepthook(type(exc), exc, exc.__traceback__)
    except Exception as exc:  # noqa: BLE001 - shown by the app's excepthook, as an error in a slot would be
        sys.excepthook(type(exc), exc, exc.__traceback__)


class Latest:
    """At most one request of a kind in flight: starting one cancels the one it supersedes."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.task: asyncio.Task[None] | None = None

    def run(self, work: Callable[..., Any] | Awaitable[Any], *args: Any, on_done: Done | None = None,
            on_error: Failed | None = None, **kwargs: Any) -> asyncio.Task[None] | None:
        self.cancel()
        self.task = self.runner.run(work, *args, on_done=on_done, on_error=on_error, **kwargs)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()
