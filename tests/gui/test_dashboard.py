"""The dashboard follows the engine: sessions made outside the window appear by themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import save_settings

from .conftest import card_named, screenshot, state_of

REPO = Path(__file__).resolve().parents[2]


def test_cli_session_appears_through_engine_events(make_window: Any, qtbot: Any, paths: Any,
                                                   session_images: dict[str, str]) -> None:
    window = make_window()
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    # Only the engine's event stream may bring the card: the slow reconcile timer is off.
    window.store.watcher.set_reconcile_interval(3600)
    save_settings(paths, window.service.settings)  # the CLI reads the same settings (same user)
    env = dict(os.environ, CANFAR_DESKTOP_HOME=str(paths.config_dir.parent))
    cli = subprocess.Popen(
        [sys.executable, "-m", "canfar_desktop", "create", "contributed", session_images["contributed"],
         "-n", "from-the-cli"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: card_named(window, "from-the-cli") is not None, timeout=30000)
        qtbot.waitUntil(lambda: state_of(window, "from-the-cli") == State.RUNNING, timeout=60000)
    finally:
        _out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err

    # A second session, made by the core directly, to show a dashboard with a few cards.
    svc = window.service
    req = svc.prepare_launch("notebook", session_images["notebook"], "galaxy-photometry")
    svc.launch(req)
    qtbot.waitUntil(lambda: state_of(window, "galaxy-photometry") == State.RUNNING, timeout=60000)
    card = card_named(window, "from-the-cli")
    assert card.open_button.isEnabled()
    assert "left" in card.meta.text() and "flexible" in card.meta.text()
    assert card.badge.text() == "Running"
    for c in window.dashboard.cards.values():
        assert c.accessibleName() and c.open_button.accessibleName() and c.delete_button.accessibleName()
    # A notebook kind on an image without JupyterLab fails, and its card says why.
    broken = svc.prepare_launch("notebook", session_images["contributed"], "broken-notebook")
    svc.launch(broken)
    qtbot.waitUntil(lambda: state_of(window, "broken-notebook") == State.FAILED, timeout=60000)
    failed = card_named(window, "broken-notebook")
    assert "exited with code" in failed.reason.full_text()
    assert not failed.open_button.isEnabled()
    # Opened once and closed again: Suspended.
    window.open_session(card.session.id, card.session.host)
    qtbot.waitUntil(lambda: len(window.session_tabs) == 1, timeout=20000)
    qtbot.waitUntil(lambda: window.store.find(card.session.id) is not None, timeout=5000)
    window.close_current_tab()
    qtbot.waitUntil(lambda: state_of(window, "from-the-cli") == State.SUSPENDED and not window.session_tabs,
                    timeout=30000)
    screenshot(window, "dashboard.png")

    # Logs and events of the failed session, one click from its card, without blocking the window.
    qtbot.mouseClick(failed.logs_button, Qt.MouseButton.LeftButton)
    logs = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Logs of broken-notebook")
    qtbot.waitUntil(lambda: "jupyter" in logs.text.toPlainText(), timeout=15000)
    assert svc.get(failed.session.id).secret not in logs.text.toPlainText()
    # The same tools as the troubleshooting panel's log: search (every match counted), wrap, copy.
    logs.view.search.setText("jupyter")
    assert "match" in logs.view.matches.text() and logs.view.matches.text() != "no match"
    logs.view.wrap.setChecked(True)
    assert logs.text.lineWrapMode() == logs.text.LineWrapMode.WidgetWidth
    qtbot.mouseClick(logs.view.copy_button, Qt.MouseButton.LeftButton)
    assert "jupyter" in QApplication.clipboard().text()
    screenshot(logs, "logs-dialog.png")
    logs.close()
    qtbot.mouseClick(failed.events_button, Qt.MouseButton.LeftButton)
    events = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Events of broken-notebook")
    qtbot.waitUntil(lambda: "die" in events.text.toPlainText(), timeout=15000)
    assert "create" in events.text.toPlainText() and "exit code 127" in events.text.toPlainText()
    events.close()


def test_cards_reflow_with_width(make_window: Any, qtbot: Any) -> None:
    window = make_window()
    grid = window.dashboard.grid
    assert grid.columns_for(340) == 1
    assert grid.columns_for(1400) >= 3
    window.resize(700, 700)
    qtbot.waitUntil(lambda: grid.columns <= 2, timeout=5000)
