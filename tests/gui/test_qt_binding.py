"""The Qt binding itself must be sound: a release that gets reference counts wrong crashes the app after hours.

PySide6 6.12.0 drops a reference to None on every void call (pyproject excludes it). Counting None's
references shows that only before Python 3.12: from 3.12 on None is immortal (PEP 683), its count is
pinned, so that bug can neither free it nor be seen. The same mistake on an ordinary object can crash
any Python, and the app hands its own objects to Qt all the time (dynamic properties, signals carrying
sessions), so the second test counts the references of such an object through those paths on every
version.
"""

from __future__ import annotations

import sys

ROUNDS = 2000
IMMORTAL = 2**30  # a count this high is CPython's pinned value for immortal objects, not a real count


def test_void_qt_calls_do_not_lose_references_to_none() -> None:
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    if sys.version_info >= (3, 12):
        assert before >= IMMORTAL, "None is immortal from Python 3.12, so a lost reference cannot free it"
        return
    for _ in range(ROUNDS):
        obj.setObjectName("probe")  # returns None
    after = sys.getrefcount(None)
    assert abs(after - before) < 100, (
        f"PySide6 changed None's reference count by {after - before} over {ROUNDS} calls; "
        "this release would crash the app (pyproject excludes known bad releases)")


def test_objects_handed_to_qt_keep_their_references() -> None:
    from PySide6.QtCore import QObject, Signal

    class Probe:
        """An ordinary (mortal) object: losing a reference to it frees it while still in use."""

    class Emitter(QObject):
        sent = Signal(object)

    probe = Probe()
    holder = QObject()
    emitter = Emitter()
    delivered: list[bool] = []
    emitter.sent.connect(lambda value: delivered.append(value is probe))
    holder.setProperty("probe", probe)
    before = sys.getrefcount(probe)
    for _ in range(ROUNDS):
        holder.setProperty("probe", probe)
        assert holder.property("probe") is probe
        emitter.sent.emit(probe)
    after = sys.getrefcount(probe)
    assert len(delivered) == ROUNDS and all(delivered)
    assert after == before, (
        f"PySide6 changed an object's reference count by {after - before} over {ROUNDS} round trips "
        "(a property set and read, a signal emitted); this release would leak or crash the app")
