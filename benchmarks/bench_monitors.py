"""What live monitors cost the app: its own CPU % and RSS over ~20 s, with five busy sessions
monitored (card sparklines on, troubleshooting panel shown), with the same sessions but the window
minimised (monitors paused), and with no sessions at all.

Each case runs the real window (app.build_app, offscreen Qt) in a child process that reads its
own /proc/self/stat and prints one JSON line.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from common import CLI, CONTRIBUTED, ROOT, isolated_home, machine, table, verdict

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else 20.0
SESSIONS = 5


def cpu_seconds() -> float:
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(case: str, seconds: float) -> None:
    """Runs in the child: build the app's window, set the case up, measure, print JSON."""
    from PySide6.QtCore import QTimer

    from canfar_desktop.core.service import SessionService
    from canfar_desktop.core.settings import AppPaths, load_settings
    from canfar_desktop.ui.app import build_app, install_event_loop
    from canfar_desktop.ui.start import prepare_qt

    app = prepare_qt()
    install_event_loop(app, running=True)  # app.exec() below drives it
    paths = AppPaths.default()
    settings, _ = load_settings(paths)
    parts = build_app(SessionService(settings, paths), paths)
    window = parts.window
    window.resize(1400, 900)
    if case == "paused":
        window.showMinimized()
    else:
        window.show()
    ts = parts.troubleshooting
    result: dict[str, float] = {}

    def setup() -> None:
        if case == "monitored":
            sessions = window.store.all()
            ts.show_session(sessions[0] if sessions else None)

    def start() -> None:
        result["cpu0"], result["t0"] = cpu_seconds(), time.monotonic()
        result["streams0"] = len(ts.hub.streaming())

    def stop() -> None:
        elapsed = time.monotonic() - result["t0"]
        out = {"case": case, "cpu_percent": 100 * (cpu_seconds() - result["cpu0"]) / elapsed, "rss_mb": rss_mb(),
               "streams": len(ts.hub.streaming()), "points": sum(len(ts.hub.history((s.host, s.id)))
                                                                 for s in window.store.all())}
        print(json.dumps(out), flush=True)
        parts.monitors.close()
        window.close()
        app.quit()

    QTimer.singleShot(3000, setup)
    QTimer.singleShot(6000, start)  # after the first listing, checks and stream start-up
    QTimer.singleShot(int(6000 + seconds * 1000), stop)
    app.exec()


def run_case(case: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", case, str(SECONDS)], env=env, capture_output=True,
                          text=True, timeout=SECONDS + 120, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        print(f"case {case} printed nothing: {done.stderr[-800:]}", file=sys.stderr)
        return {}
    return dict(json.loads(lines[-1]))


def main() -> None:
    env = {**isolated_home("bench" + secrets.token_hex(3)), "QT_QPA_PLATFORM": "offscreen"}
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    rows = []
    rows.append(("no sessions", run_case("empty", env), None))
    ids = []
    try:
        for i in range(SESSIONS):
            out = subprocess.run([*CLI, "create", "contributed", CONTRIBUTED, "-n", f"busy-{i}", "-c", "0.2", "-m", "1",
                                  "--", "python3", "-c", "while True: pass"], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                print(f"could not launch a session: {out.stderr.strip()}", file=sys.stderr)
                break
            ids.append(out.stdout.strip().splitlines()[-1])
        rows.append((f"{len(ids)} sessions, window minimised (paused)", run_case("paused", env), 1.0))
        rows.append((f"{len(ids)} sessions, sparklines on", run_case("cards", env), 2.0))
        rows.append((f"{len(ids)} sessions, sparklines + panel", run_case("monitored", env), 3.0))
    finally:
        for sid in ids:
            subprocess.run([*CLI, "delete", "-f", sid], env=env, capture_output=True)
    table(f"App's own cost over {SECONDS:.0f} s ({machine()})",
          ["case", "CPU %", "RSS MB", "streams", "points", "target"],
          [[name, f"{r.get('cpu_percent', float('nan')):.1f}", f"{r.get('rss_mb', float('nan')):.0f}",
            str(r.get("streams", "?")), str(r.get("points", "?")),
            "" if target is None else f"<= {target:g}: {verdict(r.get('cpu_percent', float('nan')), target)}"]
           for name, r, target in rows])


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        child(sys.argv[2], float(sys.argv[3]))
    else:
        main()
