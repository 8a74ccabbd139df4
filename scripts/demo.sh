#!/usr/bin/env bash
# Set up (see setup.sh) and run the main job: print every shipped form, scan the shipped samples
# (samples/scans/: a flatbed PDF, a copier TIFF, phone photos, a foreign page, a corrupt file),
# export CSV. Everything goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=demo-out
rm -rf "$out"
mkdir -p "$out/print"
fk=.venv/bin/formkit
echo "== print"
for form in goal-card gas-followup k10 alliance-check wai-sr vas-4line; do
  $fk generate "$form" --placeholders --count 2 --out "$out/print/$form.pdf" --manifest "$out/print/$form-manifest.csv"
done
$fk generate goal-card --roster samples/roster.csv --sheet A4 --out "$out/print/goal-cards-a4.pdf" \
  --manifest "$out/print/goal-cards-a4-manifest.csv"
$fk generate k10 --large-print --count 1 --out "$out/print/k10-large-print.pdf"
echo "== scan"
$fk scan samples/scans --db "$out/formkit.sqlite"
$fk status --db "$out/formkit.sqlite"
echo "== export"
$fk export --db "$out/formkit.sqlite" --out "$out/csv"
echo "To check what was flagged: $fk review --db $out/formkit.sqlite"
echo "Printed forms: $out/print/   Store: $out/formkit.sqlite   CSV: $out/csv/"
