#!/usr/bin/env bash
# Run every benchmark once, print the figures and keep a copy in artifacts/benchmarks.txt.
# Benchmarks measure and print; a benchmark that breaks is reported here and never fails the build.
# Usage: ./benchmarks/run.sh [ROUNDS]   (make bench)
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=$(command -v python3)
ROUNDS=${1:-5}
OUT="$ROOT/artifacts/benchmarks.txt"
mkdir -p "$ROOT/artifacts"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
[ "$(id -u)" = 0 ] && export QTWEBENGINE_DISABLE_SANDBOX=1

{
  echo "canfar-desktop benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2 " GB RAM"}'), $(. /etc/os-release && echo "$PRETTY_NAME"), Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 'not answering')"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews the figures)"
  if ! docker info >/dev/null 2>&1; then
    echo "No Docker engine answers: start it (./scripts/setup.sh) and run again. Nothing measured."
    exit 0
  fi
  for bench in bench_launch.py bench_ps.py bench_app.py bench_monitors.py; do
    [ -f "benchmarks/$bench" ] || { echo; echo "== $bench: not present, skipped"; continue; }
    echo
    echo "== $bench (load $(cut -d' ' -f1 /proc/loadavg))"
    started=$(date +%s)
    if [ "$bench" = bench_monitors.py ]; then args=(); else args=("$ROUNDS"); fi
    (cd benchmarks && "$PY" "$bench" "${args[@]}") 2>&1 | grep --line-buffered -v 'does not support propagateSizeHints'
    status=${PIPESTATUS[0]}
    [ "$status" = 0 ] || echo "!! $bench failed (exit $status); the other benchmarks still ran"
    echo "   ($bench took $(( $(date +%s) - started )) s)"
  done
  echo
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$OUT"
echo "written to $OUT"
exit 0
