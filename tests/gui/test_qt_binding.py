"""The Qt binding itself must be sound: a release that leaks references would crash the app after hours."""

from __future__ import annotations

import sys


def test_void_qt_calls_do_not_leak_none_references() -> None:
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(2000):
        obj.setObjectName("probe")  # returns None
    after = sys.getrefcount(None)
    assert abs(after - before) < 100, (
        f"PySide6 changed None's reference count by {after - before} over 2000 calls; "
        "this release would crash the app (pyproject excludes known bad releases)")
