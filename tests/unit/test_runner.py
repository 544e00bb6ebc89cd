"""The app's one way to run blocking work (ui/tasks.py), on a plain asyncio loop: it needs no Qt."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from canfar_desktop.core.errors import CanfarError, StateError
from canfar_desktop.ui.tasks import Latest, Runner

DEADLINE_S = 10.0


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def settle(loop: asyncio.AbstractEventLoop, runner: Runner) -> None:
    """Run the loop until the runner has nothing left (or fail at the deadline)."""
    async def quiet() -> None:
        while runner.pending():
            await asyncio.sleep(0.005)

    loop.run_until_complete(asyncio.wait_for(quiet(), DEADLINE_S))


def test_blocking_call_runs_on_a_worker_and_answers_on_the_loop_thread(loop: asyncio.AbstractEventLoop) -> None:
    runner = Runner(loop)
    seen: dict[str, Any] = {}

    def work(a: int, b: int = 0) -> int:
        seen["worker"] = threading.current_thread().name
        return a + b

    def done(result: int) -> None:
        seen["result"], seen["caller"] = result, threading.current_thread()

    task = runner.run(work, 2, b=3, on_done=done)
    assert task is not None
    settle(loop, runner)
    assert seen["result"] == 5 and seen["caller"] is threading.main_thread()
    assert seen["worker"].startswith("canfar-ui")
    runner.shutdown()


def test_failures_arrive_as_canfar_errors(loop: asyncio.AbstractEventLoop) -> None:
    runner = Runner(loop)
    errors: list[CanfarError] = []

    def known() -> None:
        raise StateError("Session x is Failed", "see its logs")

    def unexpected() -> None:
        raise KeyError("boom")

    runner.run(known, on_error=errors.append)
    runner.run(unexpected, on_error=errors.append)
    settle(loop, runner)
    assert isinstance(errors[0], StateError) and errors[0].hint == "see its logs"
    assert type(errors[1]) is CanfarError and "Unexpected KeyError" in errors[1].message and errors[1].hint
    runner.shutdown()


def test_coroutines_run_too(loop: asyncio.AbstractEventLoop) -> None:
    runner = Runner(loop)
    results: list[int] = []

    async def steps(n: int) -> int:
        first = await runner.in_thread(lambda: n * 2)
        return first + 1

    runner.run(steps, 20, on_done=results.append)  # a coroutine function
    runner.run(steps(1), on_done=results.append)  # a coroutine
    settle(loop, runner)
    assert sorted(results) == [3, 41]
    runner.shutdown()


def test_a_superseded_request_is_cancelled_and_never_answers(loop: asyncio.AbstractEventLoop) -> None:
    runner = Runner(loop)
    latest = Latest(runner)
    release = threading.Event()
    answers: list[str] = []

    def slow(name: str) -> str:
        release.wait(DEADLINE_S)
        return name

    first = latest.run(slow, "first", on_done=answers.append)
    second = latest.run(slow, "second", on_done=answers.append)
    release.set()
    settle(loop, runner)
    assert first is not None and first.cancelled()
    assert second is not None and not second.cancelled() and answers == ["second"]
    runner.shutdown()


def test_after_shutdown_nothing_runs_or_answers(loop: asyncio.AbstractEventLoop) -> None:
    runner = Runner(loop)
    release = threading.Event()
    answers: list[object] = []
    running = runner.run(lambda: release.wait(DEADLINE_S), on_done=answers.append)
    runner.shutdown()
    release.set()

    async def coroutine() -> int:
        return 1

    assert runner.run(lambda: 1, on_done=answers.append) is None
    assert runner.run(coroutine(), on_done=answers.append) is None  # closed, so Python does not warn
    loop.run_until_complete(asyncio.sleep(0.05))
    assert running is not None and running.cancelled() and answers == []


def test_an_error_in_a_callback_reaches_the_excepthook(loop: asyncio.AbstractEventLoop,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    runner = Runner(loop)
    hooked: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: hooked.append(kind))

    def broken(_result: object) -> None:
        raise ValueError("a bug in a slot")

    runner.run(lambda: 1, on_done=broken)
    settle(loop, runner)
    assert hooked == [ValueError]
    runner.shutdown()
