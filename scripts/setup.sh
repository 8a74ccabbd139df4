#!/usr/bin/env bash
# Set up formkit on a Debian/Ubuntu machine: system programs, then a virtual environment in .venv
# with the package (and, with --test, its test extras). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
command -v qpdf >/dev/null || need_apt+=(qpdf)
# the review page's browser test drives Debian's Chromium (never a browser downloaded by a test tool)
[ "${1:-}" = "--test" ] && { [ -x /usr/bin/chromium ] || need_apt+=(chromium); }
# the PostgreSQL store's tests start a throwaway cluster with Debian's initdb and pg_ctl
[ "${1:-}" = "--test" ] && { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql); }
if ((${#need_apt[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${need_apt[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" python3-venv >/dev/null
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=""
# the tests cover the scale extra too: PostgreSQL (psycopg) and Dask distributed
[ "${1:-}" = "--test" ] && extras="[test,scale]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
rm -rf build  # setuptools' build folder would carry modules deleted since into the install
.venv/bin/python -m pip install -q ".${extras}"
