"""The desktop app: start to first paint and to a filled dashboard, idle CPU and memory, card latency.

1. Start the real app process (`python -m canfar_desktop`, QT_QPA_PLATFORM=offscreen unless a display
   is set) with 10 sessions on the engine; the app prints `canfar-timing` markers when
   CANFAR_DESKTOP_TIMING=1 (ui/app.py). Baseline in the same run: a bare PySide6 window to its first
   paint, started the same way.
2. Idle CPU (share of one core) and resident memory of that process with the 10 sessions listed:
   window minimised (monitors paused, the app's quietest state) and shown (every on-screen card
   streams its CPU/memory sparkline; benchmarks/bench_monitors.py measures monitors in detail).
3. Card update latency, in-process with the real window: `docker kill` a session's container and time
   until its card leaves Running; also the time until the engine's event reached the app.

BENCH_ONLY=shown (or any of start, minimised, shown, latency, comma-separated) runs only those parts;
BENCH_IDLE_S sets the length of each idle window. Measures and prints; never fails a build.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docker
from common import CLI, CONTRIBUTED, ROOT, isolated_home, machine, median, table, verdict

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
SESSIONS = 10
IDLE_WINDOW_S = float(os.environ.get("BENCH_IDLE_S", "20"))
IDLE_WINDOWS = 3
# BENCH_ONLY=start,minimised,shown,latency (any of them) runs only those parts; unset: all of them
PARTS = {"start", "minimised", "shown", "latency"}
ONLY = {p.strip() for p in os.environ.get("BENCH_ONLY", "").split(",") if p.strip()} or PARTS
KILLS = 7
BARE_QT = """
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv)
class First(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Paint:
            print(f"canfar-timing paint {time.time():.4f}", flush=True)
            app.quit()
        return False
w = QLabel("bare"); f = First(); w.installEventFilter(f); w.resize(1200, 800); w.show(); app.exec()
"""


class AppRun:
    """One app process; collects its `canfar-timing` markers as (wall time, fields)."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.t0 = time.time()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.marks: list[tuple[str, float, str]] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("canfar-timing "):
                parts = line.rstrip("\n").split(" ", 3)
                with self.cond:
                    self.marks.append((parts[1], float(parts[2]), parts[3] if len(parts) > 3 else ""))
                    self.cond.notify_all()

    def wait_mark(self, test: Any, timeout: float = 120.0) -> float | None:
        """Seconds from process start to the first marker satisfying test(kind, rest)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for kind, when, rest in self.marks:
                    if test(kind, rest):
                        return when - self.t0
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 0.5))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def filled(kind: str, rest: str) -> bool:
    if kind != "sessions":
        return False
    states = json.loads(rest)
    return len(states) >= SESSIONS and all(v == "Running" for v in states.values())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def idle(app: AppRun) -> tuple[list[float], float]:
    """CPU share of one core over a few windows (the app left alone), and RSS at the end."""
    shares: list[float] = []
    pid = app.proc.pid
    try:
        for _ in range(IDLE_WINDOWS):
            c0, t0 = cpu_seconds(pid), time.monotonic()
            time.sleep(IDLE_WINDOW_S)  # measuring an idle process over a window, not synchronising
            if app.proc.poll() is not None:
                raise OSError("exited")
            shares.append((cpu_seconds(pid) - c0) / (time.monotonic() - t0) * 100)
        return shares, rss_mb(pid)
    except OSError:  # the app exited while measured: say so rather than print a made-up figure
        print(f"  (the app exited during the idle measurement, code {app.proc.poll()})")
        return shares or [float("nan")], float("nan")


def card_latency(env: dict[str, str], client: docker.DockerClient) -> tuple[list[float], list[float], list[float]]:
    """In-process: the real window; docker kill, then time until the card leaves Running."""
    os.environ["CANFAR_DESKTOP_HOME"] = env["CANFAR_DESKTOP_HOME"]
    if not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEventLoop, QTimer

    from canfar_desktop.core.lifecycle import State
    from canfar_desktop.core.service import SessionService
    from canfar_desktop.core.settings import AppPaths, load_settings
    from canfar_desktop.ui.app import build_app, install_event_loop
    from canfar_desktop.ui.start import prepare_qt

    install_event_loop(prepare_qt(), running=True)  # the QEventLoops below drive it
    paths = AppPaths.default()
    settings, _warning = load_settings(paths)
    window = build_app(SessionService(settings, paths), paths).window
    window.resize(1400, 880)
    window.show()

    def spin(cond: Any, timeout: float) -> bool:
        loop = QEventLoop()
        deadline = time.monotonic() + timeout
        timer = QTimer(interval=2)
        timer.timeout.connect(lambda: (cond() or time.monotonic() > deadline) and loop.quit())
        timer.start()
        loop.exec()
        timer.stop()
        return bool(cond())

    def card_state(name: str) -> Any:
        for card in window.dashboard.cards.values():
            if card.session is not None and card.session.name == name:
                return card.state
        return None

    store = window.store
    spin(lambda: sum(1 for c in window.dashboard.cards.values() if c.state == State.RUNNING) >= SESSIONS, 120)
    running = [s for s in store.all() if s.state == State.RUNNING][:KILLS]
    to_card: list[float] = []
    to_event: list[float] = []
    event_to_card: list[float] = []
    for s in running:
        marks: dict[str, float] = {}

        def on_event(_host: str, event: Any, s: Any = s, marks: dict[str, float] = marks) -> None:
            if getattr(event, "container_id", "") == s.container_id and getattr(event, "action", "") == "die":
                marks["event"] = time.perf_counter()

        def on_changed(s: Any = s, marks: dict[str, float] = marks) -> None:
            if "card" not in marks and card_state(s.name) not in (State.RUNNING, None):
                marks["card"] = time.perf_counter()

        store.engine_event.connect(on_event)
        store.changed.connect(on_changed)
        started = time.perf_counter()
        threading.Thread(target=lambda cid=s.container_id: client.api.kill(cid), daemon=True).start()
        spin(lambda marks=marks: "card" in marks, 30)
        store.engine_event.disconnect(on_event)
        store.changed.disconnect(on_changed)
        if "card" in marks:
            to_card.append(marks["card"] - started)
        if "event" in marks:
            to_event.append(marks["event"] - started)
        if "event" in marks and "card" in marks:
            event_to_card.append(marks["card"] - marks["event"])
    window.close()
    return to_card, to_event, event_to_card


def main() -> None:
    client = docker.from_env()
    user = "bench" + secrets.token_hex(3)
    env = isolated_home(user)
    app_env = {**env, "CANFAR_DESKTOP_TIMING": "1"}
    if not app_env.get("DISPLAY"):
        app_env["QT_QPA_PLATFORM"] = "offscreen"
    platform = app_env.get("QT_QPA_PLATFORM", "xcb")
    made: list[str] = []
    try:
        for i in range(SESSIONS):
            made.append(subprocess.run([*CLI, "create", "contributed", CONTRIBUTED, "-n", f"app-{i}", "--wait"],
                                       env=env, check=True, capture_output=True, text=True).stdout.strip())
        bare: list[float] = []
        paint: list[float] = []
        full: list[float] = []
        for _ in range(ROUNDS if "start" in ONLY else 0):
            run = AppRun([sys.executable, "-c", BARE_QT], app_env)
            bare.append(run.wait_mark(lambda k, _r: k == "paint") or float("nan"))
            run.stop()
            run = AppRun([*CLI], app_env)
            paint.append(run.wait_mark(lambda k, _r: k == "paint") or float("nan"))
            full.append(run.wait_mark(filled) or float("nan"))
            run.stop()
        base = median(bare)
        if "start" in ONLY:
            table(f"App start, median of {ROUNDS} ({machine()}, QT_QPA_PLATFORM={platform})",
                  ["measure", "seconds", "ratio to bare", "target"],
                  [["bare PySide6 window: start to first paint (baseline)", f"{base:.2f}", "1.00x", ""],
                   ["canfar-desktop: start to first window paint", f"{median(paint):.2f}", f"{median(paint) / base:.2f}x",
                    f"<= 2x: {verdict(median(paint) / base, 2)}"],
                   [f"canfar-desktop: start to dashboard with {SESSIONS} Running sessions", f"{median(full):.2f}",
                    f"{median(full) / base:.2f}x", f"<= 3x: {verdict(median(full) / base, 3)}"]])

        rows = []
        for part, label, args, target in (("minimised", "window minimised: card monitors paused", ["--minimized"], 0.2),
                                          ("shown", "window shown: card sparklines live", [], 0.3)):
            if part not in ONLY:
                continue
            run = AppRun([*CLI, *args], app_env)
            run.wait_mark(filled)
            shares, rss = idle(run)
            run.stop()
            rows.append([label, f"{median(shares):.2f}", " ".join(f"{s:.2f}" for s in shares), f"{rss:.0f}",
                         f"<= {target}: {verdict(median(shares), target)}"])
        if rows:
            table(f"App idle with {SESSIONS} Running sessions ({IDLE_WINDOWS} windows of {IDLE_WINDOW_S:.0f} s each)",
                  ["case", "CPU % of a core (median)", "per window", "RSS MB", "target"], rows)
        if "latency" not in ONLY:
            return
        to_card, to_event, event_to_card = card_latency(env, client)
        table(f"docker kill to card update, in-process, median of {len(to_card)} kills",
              ["measure", "ms", "target"],
              [["kill to the engine's die event in the app", f"{median(to_event) * 1000:.0f}", ""],
               ["die event to the card showing the new state", f"{median(event_to_card) * 1000:.0f}",
                f"<= 30: {verdict(median(event_to_card) * 1000, 30)}"],
               ["kill to the card showing the new state", f"{median(to_card) * 1000:.0f}",
                f"<= 100: {verdict(median(to_card) * 1000, 100)}"],
               ["each kill to card", " ".join(f"{v * 1000:.0f}" for v in to_card), ""]])
    finally:
        for sid in made:
            subprocess.run([*CLI, "delete", "-f", sid], env=env, capture_output=True)
        client.close()


if __name__ == "__main__":
    main()
