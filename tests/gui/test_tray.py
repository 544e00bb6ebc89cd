"""Tray menu, notices, start at login, single instance and the no-tray fallback, against real sessions.

There is no system tray under bare Xvfb, so the tray's menu is rebuilt and its actions triggered
directly (the same QActions a click in the tray would trigger).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import docker
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.exceptions import TimeoutError as WaitTimeout

from canfar_desktop.core.kinds import KINDS
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.settings import LaunchChoice, Resources, load_settings, save_settings

from .conftest import press_in_modal, screenshot, state_of

REPO = Path(__file__).resolve().parents[2]


def launch(window: Any, image: str, name: str) -> Any:
    svc = window.service
    return svc.launch(svc.prepare_launch("contributed", image, name))


def cli(paths: Any, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, CANFAR_DESKTOP_HOME=str(paths.config_dir.parent))
    return subprocess.Popen([sys.executable, "-m", "canfar_desktop", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(qtbot: Any, proc: subprocess.Popen[str], timeout: int = 60000) -> tuple[str, str]:
    """Wait for a child process while the Qt loop keeps running (the app must answer it meanwhile)."""
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.communicate(timeout=10)


def notice_toast(window: Any, words: str) -> Any:
    return next((t for t in window.messages.toasts if words in t.text and t.isVisible()), None)


def test_tray_menu_entries_and_actions_on_real_sessions(make_app: Any, qtbot: Any, paths: Any,
                                                        session_images: dict[str, str]) -> None:
    from canfar_desktop.ui.app import attach_tray

    parts = make_app(session_lifetime_hours=1)
    window = parts.window
    quits: list[bool] = []
    tray = attach_tray(parts, quit_app=lambda: quits.append(True))
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    tray.rebuild()
    keys = [e.key for e in tray.entries()]
    assert [k for k in keys if k.startswith("launch/")] == [f"launch/{k}" for k in KINDS] + ["launch/dialog"]
    assert "sessions/none" in keys and "quit/delete" not in keys  # nothing to delete yet

    first = launch(window, session_images["contributed"], "tray-one")
    second = launch(window, session_images["contributed"], "tray-two")
    qtbot.waitUntil(lambda: state_of(window, "tray-one") == State.RUNNING
                    and state_of(window, "tray-two") == State.RUNNING, timeout=60000)
    # Quick-launch remembers: a fixed 1-core choice for contributed sessions shows in the menu.
    window.service.settings.last_choices["contributed"] = LaunchChoice(
        image=session_images["contributed"], resources=Resources(mode="fixed", cores=1, ram_gb=1))
    tray.menu.aboutToShow.emit()  # what opening the tray menu does: rebuilt from the store now
    for s in (first, second):
        sub = tray.action(f"session/local/{s.id}")
        assert sub is not None and sub.text().startswith(f"{s.name}\tRunning · ") and "left" in sub.text()
        for verb in ("open", "renew", "delete"):
            act = tray.action(f"session/local/{s.id}/{verb}")
            assert act is not None and act.isEnabled(), verb
    launcher = tray.action("launch/contributed")
    assert launcher is not None and launcher.text() == "Contributed\tcontributed:latest · 1 core · 1 GB"
    assert tray.action("window").text() == "Show window"  # no tray to hide into: never "Hide"
    assert tray.action("quit") is not None and tray.action("quit/delete") is not None
    assert tray.action("sessions/none") is None

    tray.menu.popup(QPoint(200, 120))
    qtbot.waitExposed(tray.menu)
    screenshot(tray.menu, "tray-menu.png")
    sub_menu = next(m for m in tray.menu.findChildren(type(tray.menu)) if m.objectName() == f"session/local/{first.id}")
    sub_menu.popup(QPoint(200 + tray.menu.width(), 300))
    qtbot.waitExposed(sub_menu)
    screenshot(sub_menu, "tray-session-menu.png")
    sub_menu.hide()
    tray.menu.hide()

    # Open: a tab opens for that session.
    tray.action(f"session/local/{first.id}/open").trigger()
    qtbot.waitUntil(lambda: ("local", first.id) in window.session_tabs, timeout=30000)

    # Renew: the expiry moves (now + the lifetime in force, 5 h instead of the 1 h it started with).
    old_expiry = window.store.find(second.id).expiry
    window.service.settings.session_lifetime_hours = 5
    tray.action(f"session/local/{second.id}/renew").trigger()
    qtbot.waitUntil(lambda: window.store.find(second.id).expiry > old_expiry + timedelta(hours=3), timeout=20000)

    # Delete asks first (the card's own confirmation), then the container is gone.
    tray.rebuild()
    seen = press_in_modal(qtbot, "Delete")
    tray.action(f"session/local/{second.id}/delete").trigger()
    assert seen["clicked"] and "tray-two" in seen["text"]
    client = docker.from_env()
    qtbot.waitUntil(lambda: not client.containers.list(all=True, sparse=True, filters={"id": second.container_id}), timeout=30000)
    qtbot.waitUntil(lambda: window.store.find(second.id) is None, timeout=15000)
    tray.rebuild()
    assert tray.action(f"session/local/{second.id}") is None

    # Quick-launch with the remembered choice runs the launch dialog's launch: a card, Running, a tab.
    tray.action("launch/contributed").trigger()
    qtbot.waitUntil(lambda: any(c.session is not None and c.session.name.startswith("contributed-")
                                and c.state == State.RUNNING for c in window.dashboard.cards.values()),
                    timeout=60000)
    quick = next(c.session for c in window.dashboard.cards.values()
                 if c.session is not None and c.session.name.startswith("contributed-"))
    assert quick.resources.mode == "fixed" and quick.resources.cores == 1 and quick.image == session_images["contributed"]
    qtbot.waitUntil(lambda: ("local", quick.id) in window.session_tabs, timeout=30000)
    saved, _warning = load_settings(paths)
    assert saved.last_choices["contributed"].resources.cores == 1  # remembered like the dialog does
    assert not quits  # nothing so far quits the app

    # Quit leaves sessions running (once the open tabs' pages agreed to close: nothing unsaved here).
    tray.quit()
    qtbot.waitUntil(lambda: quits == [True], timeout=15000)
    assert not window.isVisible() and not window.session_tabs
    assert client.containers.get(first.container_id).status == "running"

    # "Quit and delete all sessions…" asks, deletes this user's sessions, then quits.
    seen = press_in_modal(qtbot, "Delete and quit")
    tray.quit_and_delete()
    assert seen["clicked"] and "Delete 2 sessions and quit?" in seen["text"] and "/arc" in seen["text"]
    qtbot.waitUntil(lambda: len(quits) == 2, timeout=30000)
    for s in (first, quick):
        assert not client.containers.list(all=True, sparse=True, filters={"id": s.container_id})


def test_expiry_notices_with_renew_and_expired(make_app: Any, qtbot: Any, paths: Any,
                                               session_images: dict[str, str]) -> None:
    # A 30-second lifetime: the session is within the 10-minute warning from the start, then expires.
    parts = make_app(session_lifetime_hours=30 / 3600, warn_before_minutes=[60, 10])
    window = parts.window
    qtbot.waitUntil(lambda: window.store.loaded, timeout=15000)
    s = launch(window, session_images["contributed"], "short-lived")
    qtbot.waitUntil(lambda: notice_toast(window, "short-lived expires in") is not None, timeout=30000)
    toast = notice_toast(window, "short-lived expires in")
    keys = [n.key for n in parts.notifier.history if n.session_id == s.id]
    assert f"local/{s.id}/expiring-10" in keys and f"local/{s.id}/expiring-60" not in keys  # the nearest only
    assert toast.level == "warning" and [b.text() for b in toast.buttons] == ["Renew"]
    assert "stops in" in toast.hint and "renew" in toast.hint

    # The CLI's ps gives the same warning, from the same core rules.
    save_settings(paths, window.service.settings)
    _out, err = finish(qtbot, cli(paths, "ps"))
    assert f"warning: session {s.id} (short-lived) expires in" in err
    screenshot(window, "expiry-notice.png")

    # Renew from the notice: the expiry moves; the notice goes away and does not come back at once.
    old = window.store.find(s.id).expiry
    # expiries are whole seconds: a renewal within the launch's own second would not move it
    qtbot.waitUntil(lambda: window.service.clock().replace(microsecond=0) > s.created, timeout=5000)
    qtbot.mouseClick(toast.buttons[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.store.find(s.id).expiry > old, timeout=20000)
    assert notice_toast(window, "short-lived expires in") is None
    qtbot.waitUntil(lambda: any("short-lived renewed" in t.text for t in window.messages.toasts), timeout=10000)

    # It expires: stopped by the app, an "expired" notice with Renew; renewing restarts it.
    qtbot.waitUntil(lambda: notice_toast(window, "short-lived expired") is not None, timeout=90000)
    assert state_of(window, "short-lived") == State.EXPIRED
    expired = notice_toast(window, "short-lived expired")
    window.service.settings.session_lifetime_hours = 2
    qtbot.mouseClick(expired.buttons[0], Qt.MouseButton.LeftButton)
    try:
        qtbot.waitUntil(lambda: state_of(window, "short-lived") == State.RUNNING, timeout=60000)
    except WaitTimeout:
        s_now = window.store.find(s.id)
        raise AssertionError(f"not Running after renew: {s_now and (s_now.state, s_now.reason, s_now.expiry)}; "
                             f"messages: {[(t.text, t.hint) for t in window.messages.toasts]}") from None
    assert window.store.find(s.id).time_left(window.service.clock()) > 3600


def test_second_start_and_open_hand_over_to_the_running_app(make_app: Any, qtbot: Any, paths: Any,
                                                            session_images: dict[str, str]) -> None:
    from canfar_desktop.ui.app import attach_tray, handle_message
    from canfar_desktop.ui.single_instance import InstanceServer

    parts = make_app()
    window = parts.window
    attach_tray(parts, quit_app=lambda: None)
    server = InstanceServer(paths, lambda m: handle_message(window, m), window)
    assert server.listen()
    s = launch(window, session_images["contributed"], "hand-over")
    qtbot.waitUntil(lambda: state_of(window, "hand-over") == State.RUNNING, timeout=60000)
    save_settings(paths, window.service.settings)  # the second process reads the same settings (same user)

    # Starting the app again (a real second process) raises the running window and exits.
    window.hide()
    out, err = finish(qtbot, cli(paths))
    assert window.isVisible(), err
    assert out == "" and "Traceback" not in err

    # `canfar-desktop open ID` in a terminal opens the session's tab in the running app.
    out, err = finish(qtbot, cli(paths, "open", s.id))
    assert "Opened" in out and "running CANFAR Desktop app" in out, err
    qtbot.waitUntil(lambda: ("local", s.id) in window.session_tabs, timeout=30000)
    assert window.tabs.currentWidget() is window.session_tabs[("local", s.id)]
    server.close()


def test_start_at_login_written_and_removed_from_settings(make_window: Any, qtbot: Any, paths: Any,
                                                          tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "net.canfar.Desktop.desktop"
    window = make_window()
    dialog = window.open_settings()
    assert not dialog.start_at_login.isChecked() and dialog.close_to_tray.isChecked()
    dialog.start_at_login.setChecked(True)
    dialog.start_minimized.setChecked(True)
    dialog.close_to_tray.setChecked(False)
    dialog.save()
    text = entry.read_text()
    assert "[Desktop Entry]" in text
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    beside = Path(sys.executable).with_name("canfar-desktop")  # this installation's script, when it has one
    expected = [str(beside)] if beside.is_file() else [sys.executable, "-m", "canfar_desktop"]
    assert shlex.split(exec_line.removeprefix("Exec=")) == [*expected, "--minimized"], \
        "this installation, started minimised"
    saved, _ = load_settings(paths)
    assert saved.start_at_login and saved.start_minimized and not saved.close_to_tray
    qtbot.waitUntil(lambda: window.service.settings.start_at_login, timeout=5000)

    again = window.open_settings()
    assert again.start_at_login.isChecked() and again.start_minimized.isChecked()
    again.start_at_login.setChecked(False)
    again.save()
    assert not entry.exists()
    assert not load_settings(paths)[0].start_at_login


def test_without_a_tray_the_window_stays_and_closing_quits(make_app: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from canfar_desktop.ui.app import attach_tray

    assert not QSystemTrayIcon.isSystemTrayAvailable()  # bare Xvfb: the case this test is about
    parts = make_app()
    window = parts.window
    quits: list[bool] = []
    tray = attach_tray(parts, quit_app=lambda: quits.append(True))
    app = QApplication.instance()
    assert not tray.available and tray.icon is None
    assert app.quitOnLastWindowClosed()  # closing the window still ends the app
    tray.toggle_window()  # "Show window" must never hide it into nothing
    assert window.isVisible()
    assert not [t for t in window.messages.toasts if t.level in ("warning", "error")]  # nothing alarming
    window.close()
    assert not window.isVisible() and not tray.hides_on_close()
    assert not quits  # the app's own last-window-closed quit applies, not the tray's


def test_with_a_tray_close_hides_and_quit_quits(make_app: Any, qtbot: Any) -> None:
    from canfar_desktop.ui.app import attach_tray

    parts = make_app()
    window = parts.window
    quits: list[bool] = []
    app = QApplication.instance()
    try:
        tray = attach_tray(parts, quit_app=lambda: quits.append(True), available=True)  # as on a desktop with a tray
        assert not app.quitOnLastWindowClosed()
        window.close()  # the window's close button: hidden to the tray, the app goes on
        assert not window.isVisible() and not quits
        tray.rebuild()
        assert tray.action("window").text() == "Show window"
        tray.action("window").trigger()
        assert window.isVisible()
        tray.rebuild()
        assert tray.action("window").text() == "Hide window"
        window.quit_action.trigger()  # File > Quit really quits, sessions keep running
        assert quits == [True] and not window.isVisible()
    finally:
        app.setQuitOnLastWindowClosed(True)
