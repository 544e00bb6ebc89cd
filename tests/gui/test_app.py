"""Start-up: the core stays Qt-free, QtWebEngine loads late, one instance, and the packaged self-test."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from canfar_desktop.core.instance import send_to_running_app

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_core_and_cli_never_import_qt() -> None:
    result = run_python(
        "import sys, canfar_desktop.core.service, canfar_desktop.core.diagnostics, canfar_desktop.cli\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'qasync'))]\n"
        "assert not bad, bad")
    assert result.returncode == 0, result.stderr


def test_app_module_does_not_load_webengine() -> None:
    result = run_python(
        "import sys, canfar_desktop.ui.app\n"
        "assert 'PySide6.QtWidgets' in sys.modules\n"
        "bad = [m for m in sys.modules if 'WebEngine' in m]\n"
        "assert not bad, bad")
    assert result.returncode == 0, result.stderr


def test_version_flag() -> None:
    result = subprocess.run([sys.executable, "-m", "canfar_desktop", "--version"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("canfar-desktop ")


def test_self_test_offscreen(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CANFAR_DESKTOP_HOME=str(tmp_path / "home"))
    result = subprocess.run([sys.executable, "-m", "canfar_desktop", "--self-test"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "self-test ok" in result.stdout


def test_single_instance_hand_over(make_window: Any, qtbot: Any, paths: Any) -> None:
    from canfar_desktop.ui.app import handle_message
    from canfar_desktop.ui.single_instance import InstanceServer

    window = make_window()
    window.showMinimized()
    received: list[dict[str, Any]] = []

    def handler(message: dict[str, Any]) -> None:
        received.append(message)
        handle_message(window, message)

    server = InstanceServer(paths, handler, window)
    stale = paths.state_dir / "app.sock"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("")  # a stale file from a crashed run must not block listening
    assert server.listen()
    with ThreadPoolExecutor(1) as pool:
        answered = pool.submit(send_to_running_app, paths, {"raise": True})
        qtbot.waitUntil(answered.done, timeout=10000)
        assert answered.result() is True
        qtbot.waitUntil(lambda: not window.isMinimized(), timeout=5000)
        opened = pool.submit(send_to_running_app, paths, {"open": "nosuchid", "host": "local"})
        qtbot.waitUntil(opened.done, timeout=10000)
        assert opened.result() is True
    assert received == [{"raise": True}, {"open": "nosuchid", "host": "local"}]
    # The unknown session is reported in the window, not as a crash.
    qtbot.waitUntil(lambda: any("nosuchid" in t.text for t in window.messages.toasts), timeout=15000)
    server.close()


def test_unexpected_error_becomes_a_message(make_window: Any, qtbot: Any, monkeypatch: Any) -> None:
    from canfar_desktop.ui.app import install_excepthook

    window = make_window()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_excepthook(window)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    assert any("boom" in t.text and t.level == "error" for t in window.messages.toasts)
