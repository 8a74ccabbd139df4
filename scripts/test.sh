#!/usr/bin/env bash
# Set up (see setup.sh) and run the linter and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check formkit scanner tests benchmarks scripts
rc=0
# one test process per core (pytest-xdist): the suite is CPU-bound
.venv/bin/python -m pytest -q -n auto "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests"; rc=0
fi
exit "$rc"
