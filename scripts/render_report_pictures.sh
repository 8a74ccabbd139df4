#!/usr/bin/env bash
# Rebuild the README's pictures of the reports (docs/report-person.png, docs/report-service.png): scan the
# shipped samples (samples/scans/) into a fresh store, link their forms to two made-up person codes, and
# render the first page of a person report and of the service report.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the source tree's formkit (python -m from the repository root), as the tests run it
fk=${FORMKIT:-".venv/bin/python -m formkit_cli"}
# The samples' serials (samples/make_samples.py prints them with fixed seeds) and a code for each form.
cat > "$tmp/codes.csv" <<'CODES'
serial,code
9R6E-7NME,C-1001
NUJC-7N3Q,C-1001
466H-AYW4,C-1001
DRQ9-HTN4,C-1001
DF7Y-JN9U,C-1001
TEYH-XYU6,C-1002
663J-QF4E,C-1002
CODES
$fk scan samples/scans --db "$tmp/samples.sqlite" --jobs 2 >/dev/null 2>&1
$fk report person --db "$tmp/samples.sqlite" --codes "$tmp/codes.csv" --person C-1001 --out "$tmp/person.pdf" >/dev/null
$fk report service --db "$tmp/samples.sqlite" --codes "$tmp/codes.csv" --out "$tmp/service.pdf" >/dev/null
pdftoppm -r 70 -png -f 1 -l 1 -singlefile "$tmp/person.pdf" docs/report-person
pdftoppm -r 70 -png -f 1 -l 1 -singlefile "$tmp/service.pdf" docs/report-service
ls -l docs/report-person.png docs/report-service.png
