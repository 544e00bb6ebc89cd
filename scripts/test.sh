#!/usr/bin/env bash
# Lint, type-check and run every test (unit, integration on the real engine, GUI under Xvfb).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

status=0
echo "==> ruff"; ruff check canfar_desktop tests benchmarks scripts || status=1
echo "==> mypy (core)"; mypy || status=1

echo "==> pytest"
mkdir -p artifacts
xvfb-run -a -s "-screen 0 1600x1000x24" pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  rc=1
fi
[ $rc -ne 0 ] && status=$rc
exit $status
