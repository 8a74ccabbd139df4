#!/usr/bin/env bash
# Set up (see setup.sh) and run the main job on the shipped templates: print every form to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=demo-out
mkdir -p "$out"
fk=.venv/bin/formkit
$fk templates
for form in goal-card gas-followup k10 alliance-check wai-sr vas-4line; do
  $fk generate "$form" --count 2 --out "$out/$form.pdf" --manifest "$out/$form-manifest.csv"
done
$fk generate goal-card --roster samples/roster.csv --sheet A4 --out "$out/goal-cards-a4.pdf" \
  --manifest "$out/goal-cards-a4-manifest.csv"
$fk generate k10 --large-print --count 1 --out "$out/k10-large-print.pdf"
echo "Printed forms are in $out/"
