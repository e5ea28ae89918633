#!/bin/sh
# Save docs/report.png: the demo report (custscore demo on the bundled data)
# as headless Chromium draws it, 1280 px wide, the top of the page (headline
# figures, customer value, lifetime value) so it reads at a glance.
#
# usage: tools/report_screenshot.sh [CUSTSCORE_CLI [OUT.png [HEIGHT]]]
#   CUSTSCORE_CLI  default build/src/cli/custscore (`make build` first)
#   OUT.png        default docs/report.png
#   HEIGHT         pixels of the page to keep, default 2450
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=${1:-$ROOT/build/src/cli/custscore}
OUT=${2:-$ROOT/docs/report.png}
HEIGHT=${3:-2450}
case $CLI in /*) ;; ?*) CLI=$(pwd)/$CLI ;; esac

[ -x "$CLI" ] || { echo "report_screenshot: $CLI not found (make build, or give the CLI's path)" >&2; exit 1; }
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "report_screenshot: chromium not found (make deps installs it)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/custscore-shot-XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

(cd "$TMP" && "$CLI" --db "$TMP/demo.db" demo >"$TMP/demo.out")
REPORT="$TMP/custscore-report.html"
[ -s "$REPORT" ] || { echo "report_screenshot: the demo wrote no report" >&2; exit 1; }

timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$TMP/profile" \
    --hide-scrollbars --force-device-scale-factor=1 --window-size="1280,$HEIGHT" \
    --screenshot="$TMP/report.png" "file://$REPORT" >"$TMP/chromium.log" 2>&1 || {
    tail -20 "$TMP/chromium.log" >&2
    exit 1
}
[ -s "$TMP/report.png" ] || { echo "report_screenshot: no screenshot" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
cp "$TMP/report.png" "$OUT"
echo "saved $OUT ($(wc -c <"$OUT") bytes, 1280x$HEIGHT)"
