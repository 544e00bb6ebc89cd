"""Runs the real app entry point (`python -m canfar_desktop …`) and reports on stdout what tests watch for.

Nothing of the app is replaced: the entry point, argument parsing, settings, start-up and event loop
are the app's own. Two things are observed and printed as `canfar-test {json}` lines:

- each session launch the app makes (the core facade's `launch`) and how it ended (an id or the error);
- once the event loop runs (the window is shown or minimised): the main window's state, messages and cards.

Usage: python tests/app_driver.py [app arguments]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's canfar_desktop, as `-m` would

from canfar_desktop.__main__ import main
from canfar_desktop.core.service import SessionService

LOOK_WITHIN_S = 30.0


def report(event: str, **fields: Any) -> None:
    """One line, written at once and on a line of its own: the app prints from other threads too."""
    sys.stdout.write("\ncanfar-test " + json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def observe_launches() -> None:
    real = SessionService.launch

    def launch(self: SessionService, req: Any, *args: Any, **kwargs: Any) -> Any:
        report("launching", name=req.name)
        try:
            session = real(self, req, *args, **kwargs)
        except Exception as exc:
            report("launched", name=req.name, error=str(exc))
            raise
        report("launched", name=req.name, id=session.id)
        return session

    SessionService.launch = launch  # type: ignore[method-assign]


def observe_window() -> None:
    """Once the QApplication exists, queue a look at the main window for when the event loop runs."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from canfar_desktop.ui import start as ui_start

    real = ui_start.prepare_qt

    deadline = time.monotonic() + LOOK_WITHIN_S

    def look() -> None:
        windows: list[Any] = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"]
        if not (windows and windows[0].isVisible()) and time.monotonic() < deadline:
            QTimer.singleShot(50, look)  # start-up has not shown it yet
            return
        if not windows:
            report("window", found=False)
            return
        w = windows[0]
        report("window", found=True, visible=w.isVisible(), minimized=w.isMinimized(),
               messages=[{"text": t.text, "hint": t.hint, "level": t.level} for t in w.messages.toasts],
               cards=w.dashboard.card_states())

    def prepare() -> Any:
        qapp = real()
        QTimer.singleShot(0, look)
        return qapp

    ui_start.prepare_qt = prepare


if __name__ == "__main__":
    observe_launches()
    if not any(a in ("-h", "--help", "--version") for a in sys.argv[1:]):
        observe_window()
    sys.exit(main(sys.argv[1:]))
