"""Launch-to-ready of a notebook: `canfar-desktop create --wait` against plain `docker run` of the
same image and command followed by a readiness poll loop, measured alternately in the same run."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time

import docker
from common import CLI, NOTEBOOK, http_ok, isolated_home, machine, median, table, timed, verdict

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
TARGET = 1.05  # create --wait against docker run + poll


def plain_docker_run(client: docker.DockerClient, i: int) -> float:
    """What a person would type by hand: docker run, then poll until Jupyter answers."""
    name = f"bench-plain-{i}-{secrets.token_hex(3)}"
    started = time.perf_counter()
    token = secrets.token_hex(24)
    subprocess.run(["docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8888", "-e", f"JUPYTER_TOKEN={token}",
                    NOTEBOOK, "jupyter", "lab", "--ServerApp.ip=0.0.0.0", "--ServerApp.port=8888",
                    f"--ServerApp.base_url=/session/notebook/{name}/", "--ServerApp.root_dir=/", "--no-browser",
                    "--allow-root"], check=True, capture_output=True)
    port = int(subprocess.run(["docker", "port", name, "8888/tcp"], check=True, capture_output=True, text=True)
               .stdout.strip().rsplit(":", 1)[1])
    while not http_ok(port, f"/session/notebook/{name}/api"):
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    client.containers.get(name).remove(force=True)
    return elapsed


def canfar_create(env: dict[str, str], i: int) -> float:
    out: list[str] = []
    elapsed = timed(lambda: out.append(subprocess.run(
        [*CLI, "create", "notebook", NOTEBOOK, "-n", f"bench-{i}", "--wait"],
        env=env, check=True, capture_output=True, text=True).stdout.strip()))
    subprocess.run([*CLI, "delete", "-f", out[0]], env=env, check=True, capture_output=True)
    return elapsed


def main() -> None:
    client = docker.from_env()
    env = isolated_home("bench" + secrets.token_hex(3))
    plain, ours = [], []
    canfar_create(env, 99)  # warm the page cache for both
    for i in range(ROUNDS):
        plain.append(plain_docker_run(client, i))
        ours.append(canfar_create(env, i))
    p, o = median(plain), median(ours)
    table(f"Notebook launch to ready, median of {ROUNDS} ({machine()})", ["how", "median s", "all runs"], [
        ["docker run + poll", f"{p:.2f}", " ".join(f"{x:.2f}" for x in plain)],
        ["canfar-desktop create --wait", f"{o:.2f}", " ".join(f"{x:.2f}" for x in ours)],
        ["ratio", f"{o / p:.2f}x", f"overhead {100 * (o / p - 1):+.0f}% (target <= {TARGET:.2f}x: "
                                   f"{verdict(o / p, TARGET)})"],
    ])


if __name__ == "__main__":
    main()
