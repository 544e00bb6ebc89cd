"""The stream shapes a platform host answers with (core/host.py's Stream): it has no event or log stream of
its own, so these wait, poll or replay, and each ends when closed from another thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any


class IdleStream:
    """A stream with nothing in it that ends only when closed: the platform has no event stream, and
    a follower reading this waits quietly instead of reconnecting in a loop."""

    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        self._closed.wait()
        return iter(())

    def close(self) -> None:
        self._closed.set()


class PollStream:
    """Items from `poll()` every `every` seconds until closed, or until `poll` says it is done."""

    def __init__(self, poll: Callable[[], tuple[list[Any], bool]], every: float) -> None:
        self._poll = poll
        self._every = every
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        while not self._closed.is_set():
            items, done = self._poll()
            yield from items
            if done or self._closed.wait(self._every):
                return

    def close(self) -> None:
        self._closed.set()


class ListStream:
    """A finished list of records with the stream's shape (recorded events)."""

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def close(self) -> None:
        pass
