"""`canfar-desktop ps` with 0, 10 and 50 sessions against `docker ps --filter label=…`, same run."""

from __future__ import annotations

import secrets
import subprocess
import sys

import docker
from common import CLI, CONTRIBUTED, isolated_home, machine, median, table, timed, verdict

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
RUNS = max(ROUNDS, 11)  # a listing takes milliseconds: more runs cost nothing and steady the median
LABEL = "net.canfar.desktop.session"
TARGET = 6.0  # against docker ps at every size


def main() -> None:
    client = docker.from_env()
    user = "bench" + secrets.token_hex(3)
    env = isolated_home(user)
    rows = []
    made: list[str] = []
    try:
        for count in (0, 10, 50):
            while len(made) < count:
                made.append(subprocess.run([*CLI, "create", "contributed", CONTRIBUTED, "-n", f"ps-{len(made)}"],
                                           env=env, check=True, capture_output=True, text=True).stdout.strip())
            subprocess.run([*CLI, "ps"], env=env, check=True, capture_output=True)  # readiness probed once
            ours, plain = [], []
            for _ in range(RUNS):  # alternately, so both meet the same moments of the machine
                ours.append(timed(lambda: subprocess.run([*CLI, "ps"], env=env, check=True, capture_output=True)))
                plain.append(timed(lambda: subprocess.run(["docker", "ps", "--filter", f"label={LABEL}"],
                                                          check=True, capture_output=True)))
            o, p = median(ours), median(plain)
            rows.append([str(count), f"{p * 1000:.0f}", f"{o * 1000:.0f}", f"{o / p:.2f}x",
                         f"<= {TARGET:g}x: {verdict(o / p, TARGET)}"])
    finally:
        for sid in made:
            subprocess.run([*CLI, "delete", "-f", sid], env=env, capture_output=True)
        del client
    table(f"Listing sessions, median of {RUNS}, alternating ({machine()})",
          ["sessions", "docker ps ms", "canfar-desktop ps ms", "ratio", "target"], rows)


if __name__ == "__main__":
    main()
