"""Launch-to-ready of a notebook: `canfar-desktop create --wait` against plain `docker run` of the
same image and command followed by a readiness poll loop, measured alternately in the same run.

Jupyter's own start (1.3-2 s, varying with the machine's load) dominates both and blurs the ratio,
so each launch is also split at the engine's start time and at Jupyter's "Use Control-C" log line:
before the app starts, the app's own start, and after it answered. The first and last are what a
launcher adds, and compare with much less noise.

A third arm runs the same `docker run` on a network like the sessions' own (a bridge with
inter-container traffic off): its difference from the plain one is what that isolation costs every
container start, and its ratio with `create --wait` is what the launcher itself adds.
"""

from __future__ import annotations

import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import docker
from common import CLI, NOTEBOOK, http_ok, isolated_home, machine, median, table, timed, verdict

ROUNDS = max(int(sys.argv[1]) if len(sys.argv) > 1 else 15, 15)  # fewer leave the ratio to Jupyter's noise
TARGET = 1.05  # create --wait against docker run + poll
ISOLATED = "canfar-bench-isolated"  # made and removed here, as the app makes canfar-sessions


Split = tuple[float, float, float]  # before the app starts, its own start, after it answered (s)


def _when(text: str) -> float:
    """The engine's RFC 3339 time (nanoseconds) as a Unix time."""
    return datetime.fromisoformat(text[:26].rstrip("Z")).replace(tzinfo=UTC).timestamp()


def split(container: Any, began: float, ended: float) -> Split | None:
    """A launch cut at the container's start and at Jupyter's "Use Control-C" line (None: not found)."""
    container.reload()
    logs = container.logs(timestamps=True).decode(errors="replace").splitlines()
    line = next((entry for entry in logs if "Use Control-C" in entry), None)
    if line is None:
        return None
    started, listening = _when(container.attrs["State"]["StartedAt"]), _when(line.split()[0])
    return started - began, listening - started, ended - listening


def plain_docker_run(client: docker.DockerClient, i: int, splits: list[Split] | None = None,
                     network: str | None = None) -> float:
    """What a person would type by hand: docker run, then poll until Jupyter answers."""
    name = f"bench-plain-{i}-{secrets.token_hex(3)}"
    began = time.time()
    started = time.perf_counter()
    token = secrets.token_hex(24)
    on = ["--network", network] if network else []
    subprocess.run(["docker", "run", "-d", "--name", name, *on, "-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}",
                    NOTEBOOK, "jupyter", "lab", "--ServerApp.ip=0.0.0.0", "--ServerApp.port=8888",
                    f"--ServerApp.base_url=/session/notebook/{name}/", "--ServerApp.root_dir=/", "--no-browser",
                    "--allow-root"], check=True, capture_output=True)
    port = int(subprocess.run(["docker", "port", name, "8888/tcp"], check=True, capture_output=True, text=True)
               .stdout.strip().rsplit(":", 1)[1])
    while not http_ok(port, f"/session/notebook/{name}/api"):
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    container = client.containers.get(name)
    _keep(splits, split(container, began, began + elapsed))
    container.remove(force=True)
    return elapsed


def canfar_create(env: dict[str, str], i: int, client: docker.DockerClient | None = None,
                  splits: list[Split] | None = None) -> float:
    out: list[str] = []
    began = time.time()
    elapsed = timed(lambda: out.append(subprocess.run(
        [*CLI, "create", "notebook", NOTEBOOK, "-n", f"bench-{i}", "--wait"],
        env=env, check=True, capture_output=True, text=True).stdout.strip()))
    if client is not None:
        found = client.containers.list(all=True, filters={"label": f"net.canfar.desktop.session={out[0]}"})
        _keep(splits, split(found[0], began, began + elapsed) if found else None)
    subprocess.run([*CLI, "delete", "-f", out[0]], env=env, check=True, capture_output=True)
    return elapsed


def _keep(splits: list[Split] | None, found: Split | None) -> None:
    if splits is not None and found is not None:
        splits.append(found)


def split_row(how: str, splits: list[Split]) -> list[str]:
    if not splits:
        return [how, "-", "-", "-", "-"]
    before, app, after = (statistics.median(s[k] for s in splits) for k in range(3))
    added = statistics.median(s[0] + s[2] for s in splits)
    return [how, f"{before * 1000:.0f}", f"{app * 1000:.0f}", f"{after * 1000:.0f}", f"{added * 1000:.0f}"]


def main() -> None:
    client = docker.from_env()
    env = isolated_home("bench" + secrets.token_hex(3))
    for stale in client.networks.list(names=[ISOLATED]):  # left by an interrupted run
        stale.remove()
    network = client.networks.create(ISOLATED, driver="bridge",
                                     options={"com.docker.network.bridge.enable_icc": "false"})
    try:
        measure(client, env)
    finally:
        network.remove()


def measure(client: docker.DockerClient, env: dict[str, str]) -> None:
    plain, isolated, ours = [], [], []
    plain_splits: list[Split] = []
    isolated_splits: list[Split] = []
    our_splits: list[Split] = []
    canfar_create(env, 99)  # warm the page cache for all three
    for i in range(ROUNDS):
        plain.append(plain_docker_run(client, i, plain_splits))
        ours.append(canfar_create(env, i, client, our_splits))
        isolated.append(plain_docker_run(client, i, isolated_splits, ISOLATED))
    p, n, o = median(plain), median(isolated), median(ours)
    table(f"Notebook launch to ready, median of {ROUNDS} ({machine()})", ["how", "median s", "all runs"], [
        ["docker run + poll", f"{p:.2f}", " ".join(f"{x:.2f}" for x in plain)],
        ["canfar-desktop create --wait", f"{o:.2f}", " ".join(f"{x:.2f}" for x in ours)],
        ["ratio", f"{o / p:.2f}x", f"overhead {100 * (o / p - 1):+.0f}% (target <= {TARGET:.2f}x: "
                                   f"{verdict(o / p, TARGET)})"],
        ["docker run --network isolated", f"{n:.2f}", " ".join(f"{x:.2f}" for x in isolated)],
        ["ratio to that", f"{o / n:.2f}x", "what the launcher adds on a network like the sessions'"],
    ])
    table("Where the time goes, median ms: before Jupyter starts / its own start / after it listens",
          ["how", "before", "Jupyter", "after", "added (before + after)"],
          [split_row("docker run + poll", plain_splits), split_row("canfar-desktop create --wait", our_splits),
           split_row("docker run --network isolated", isolated_splits)])
    if plain_splits and our_splits and isolated_splits:
        # Jupyter's own start is the same program in all three and varies by hundreds of milliseconds from
        # one launch to the next: with it taken as the median over every launch, a ratio is what each adds.
        jupyter = statistics.median(s[1] for s in (*plain_splits, *our_splits, *isolated_splits))
        ours_added, plain_added, isolated_added = (statistics.median(s[0] + s[2] for s in splits)
                                                   for splits in (our_splits, plain_splits, isolated_splits))
        shared = (jupyter + ours_added) / (jupyter + plain_added)
        print(f"ratio with Jupyter's own start the same for all ({jupyter * 1000:.0f} ms): {shared:.3f}x "
              f"(target <= {TARGET:.2f}x: {verdict(shared, TARGET)}); the isolated network's own cost "
              f"{(isolated_added - plain_added) * 1000:+.0f} ms, the launcher's beyond it "
              f"{(ours_added - isolated_added) * 1000:+.0f} ms "
              f"({(jupyter + ours_added) / (jupyter + isolated_added):.3f}x)")


if __name__ == "__main__":
    main()
