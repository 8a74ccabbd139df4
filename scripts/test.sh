#!/usr/bin/env bash
# Set up (see setup.sh) and run the linter and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check formkit scanner tests benchmarks scripts
rc=0
# one test process per core (pytest-xdist): the suite is CPU-bound. Each process has its core, so no library
# may start threads of its own; a module's shared pages are built on one process (--dist loadgroup).
export OPENCV_FOR_THREADS_NUM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
.venv/bin/python -m pytest -q -n auto --dist loadgroup "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests"; rc=0
fi
exit "$rc"
