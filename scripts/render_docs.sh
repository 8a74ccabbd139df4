#!/usr/bin/env bash
# Rebuild the README's pictures of the shipped forms (docs/*.png) from freshly generated PDFs.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fk=${FORMKIT:-.venv/bin/formkit}
for form in goal-card gas-followup k10 alliance-check wai-sr vas-4line; do
  $fk generate "$form" --placeholders --count 1 --seed 1 --out "$tmp/$form.pdf" >/dev/null
  dpi=60; [ "$form" = goal-card ] && dpi=110; [ "$form" = vas-4line ] && dpi=90
  pdftoppm -r "$dpi" -png "$tmp/$form.pdf" "docs/$form"
done
$fk generate goal-card --count 4 --seed 1 --sheet A4 --out "$tmp/sheet.pdf" >/dev/null
pdftoppm -r 40 -png -f 1 -l 1 "$tmp/sheet.pdf" docs/goal-cards-a4
ls docs
