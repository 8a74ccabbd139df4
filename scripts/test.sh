#!/usr/bin/env bash
# Set up (see setup.sh) and run the linter and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check formkit scanner tests benchmarks scripts
rc=0
.venv/bin/python -m pytest -q "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests"; rc=0
fi
exit "$rc"
