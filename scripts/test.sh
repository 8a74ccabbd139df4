#!/usr/bin/env bash
# Set up (see setup.sh) and run the linter and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check formkit scanner tests benchmarks scripts
rc=0
# The tests' temporary files (pytest's tmp_path, the PostgreSQL cluster, tempfile) go to a folder of the run's own
# on the RAM disk, when there is one with room and TMPDIR is not set: on a disk, each SQLite commit waits for an
# fsync and each file removed for a discard, milliseconds each and seconds a run, and pytest ended each run by
# removing an older run's folders (it keeps three). The folder goes when the run passes; a failed run's is kept.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
   [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')" -gt 2000000 ] 2>/dev/null; then
  TMPDIR=$(mktemp -d /dev/shm/formkit-tests.XXXXXX)
  chmod 1777 "$TMPDIR"  # as /tmp is: tests run commands as another user (nobody) in folders of their own there
  export TMPDIR
  trap 'if [ "$rc" -eq 0 ]; then rm -rf "$TMPDIR"; else echo "The failed run'"'"'s temporary files: $TMPDIR"; fi' EXIT
fi
# one test process per core (pytest-xdist): the suite is CPU-bound. Each process has its core, so no library
# may start threads of its own; a module's shared pages are built on one process (--dist loadgroup).
export OPENCV_FOR_THREADS_NUM=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
.venv/bin/python -m pytest -q -n auto --dist loadgroup "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests"; rc=0
fi
exit "$rc"
