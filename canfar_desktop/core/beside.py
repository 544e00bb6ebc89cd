"""A call run on its own thread while the caller goes on; `join` waits for it and raises what it raised.

For two waits that need not follow each other (an engine request beside a ledger write, a settings
save beside a session's start): the slower one sets the time, and a failure still reaches the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Beside:
    def __init__(self, fn: Callable[..., object], *args: object, name: str = "beside") -> None:
        self._failed: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(fn, *args), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., object], *args: object) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - raised by join, in the caller's thread
            self._failed.append(exc)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        self._thread.join()
        if self._failed:
            raise self._failed[0]
