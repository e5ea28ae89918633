#!/bin/sh
# Render the demo report in headless Chromium: it must load without a single
# console message (no script errors, no blocked fetches: the report's
# Content-Security-Policy turns any attempt to load something into one) and
# every chart must be in the DOM.
#
# usage: check_report.sh [CUSTSCORE_CLI [DATA_DIR]]
#   CUSTSCORE_CLI defaults to $CUSTSCORE_CLI, DATA_DIR (the bundled data) to
#   ../../data next to this script.
# Exit status: 0 pass, 1 fail, 77 skip (Chromium absent and not installable).
set -u

# The valgrind test setup wraps every test program, this shell included;
# dash's own exit-time allocations would count as leaks. Re-exec at once:
# valgrind does not follow the new image (nor chromium, nor the CLI).
if [ -z "${CUSTSCORE_REPORT_CHECK_INNER:-}" ]; then
    CUSTSCORE_REPORT_CHECK_INNER=1 exec /bin/sh "$0" "$@"
fi

CLI=${1:-${CUSTSCORE_CLI:-}}
DATA=${2:-$(dirname "$0")/../../data}
case $CLI in /*) ;; ?*) CLI=$(pwd)/$CLI ;; esac
CHARTS="whale pyramid segments clv value-matrix churn churn-top ipm loyalty changes retention"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ -n "$CLI" ] && [ -x "$CLI" ] || fail "custscore CLI not found (give its path or set CUSTSCORE_CLI)"

find_chromium() {
    for c in chromium chromium-browser google-chrome; do
        if command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

CHROMIUM=$(find_chromium)
if [ -z "$CHROMIUM" ]; then
    # `make deps` installs Debian's chromium; try the same here when we may.
    if [ -z "${CUSTSCORE_NO_INSTALL:-}" ] && command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            SUDO=
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            SUDO="sudo -n"
        else
            SUDO=none
        fi
        if [ "$SUDO" != none ]; then
            echo "chromium not found: installing Debian's chromium package" >&2
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 ||
                { $SUDO apt-get update -qq >/dev/null 2>&1 &&
                  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; }
        fi
    fi
    CHROMIUM=$(find_chromium)
fi
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium is not installed and could not be installed (make deps installs it)" >&2
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/custscore-report-XXXXXX") || fail "mktemp"
trap 'rm -rf "$TMP"' EXIT INT TERM

# Headless Chromium as the issue says: no sandbox (tests may run as root), no
# GPU, nothing in the background, a fresh profile each time; console messages
# go to stderr (--enable-logging=stderr --v=0), where they appear as
# "INFO:CONSOLE" lines whatever their level.
render() { # URL PROFILE_DIR DOM_OUT LOG_OUT [extra args]
    url=$1 profile=$2 dom=$3 log=$4
    shift 4
    timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
        --enable-logging=stderr --v=0 "$@" --dump-dom "$url" >"$dom" 2>"$log"
}

console_messages() { # LOG
    grep -E ':CONSOLE[(:]|Uncaught|ERROR:CONSOLE' "$1"
}

# 1. The detector works: a page with a script error must be caught (else the
#    check below would pass whatever the report does).
cat >"$TMP/bad.html" <<'EOF'
<!DOCTYPE html><html><head><title>bad</title></head><body><p>bad</p>
<script>console.error("custscore-selftest"); no_such_function();</script></body></html>
EOF
render "file://$TMP/bad.html" "$TMP/profile-selftest" "$TMP/bad.dom" "$TMP/bad.log" ||
    fail "chromium did not run (see below)
$(tail -20 "$TMP/bad.log")"
console_messages "$TMP/bad.log" | grep -q "no_such_function" ||
    fail "the console check does not see a script error on a test page; chromium log:
$(tail -20 "$TMP/bad.log")"

# 2. The demo store and its report.
(cd "$TMP" && "$CLI" --db "$TMP/demo.db" demo >"$TMP/demo.out" 2>"$TMP/demo.err") ||
    fail "custscore demo failed:
$(cat "$TMP/demo.err")"
REPORT="$TMP/custscore-report.html"
[ -s "$REPORT" ] || fail "the demo wrote no report ($REPORT)"
grep -q "Report: .*/custscore-report.html" "$TMP/demo.out" || fail "the demo does not say where the report is"

# 3. Render it; also take a screenshot, so layout and SVG are actually drawn.
render "file://$REPORT" "$TMP/profile" "$TMP/report.dom" "$TMP/report.log" \
    --hide-scrollbars --window-size=1280,2000 --screenshot="$TMP/report.png" ||
    fail "chromium failed on the report:
$(tail -20 "$TMP/report.log")"
if console_messages "$TMP/report.log" >"$TMP/console.txt"; then
    fail "console messages while loading the report:
$(cat "$TMP/console.txt")"
fi
[ -s "$TMP/report.png" ] || fail "no screenshot"

# 4. Every chart in the DOM, drawn (an <svg>) or explained (a note); no scripts.
grep -q "</html>" "$TMP/report.dom" || fail "no DOM dumped"
for c in $CHARTS; do
    n=$(grep -o "data-chart=\"$c\"" "$TMP/report.dom" | wc -l)
    [ "$n" -eq 1 ] || fail "chart '$c' appears $n times in the DOM"
done
missing=$(grep -o 'class="chart missing[^"]*" data-chart="[a-z-]*"' "$TMP/report.dom" || true)
[ -z "$missing" ] || fail "the demo report has parts without data:
$missing"
svgs=$(grep -o "<svg" "$TMP/report.dom" | wc -l)
[ "$svgs" -ge 9 ] || fail "only $svgs SVG charts in the DOM"
if grep -qi "<script" "$TMP/report.dom"; then
    fail "the report has a script"
fi

# 5. A store without models: the notes are there instead of charts, still
#    without console messages.
"$CLI" --db "$TMP/orders.db" import orders "$DATA/cdnow_sample.txt" \
    --delimiter whitespace --no-header --map customer=2,ts=3,revenue=5 >/dev/null 2>"$TMP/import.err" ||
    fail "import failed: $(cat "$TMP/import.err")"
"$CLI" --db "$TMP/orders.db" report --as-of 1997-09-30 --out "$TMP/orders.html" >"$TMP/orders.out" ||
    fail "custscore report failed"
grep -q "report written to .*/orders.html" "$TMP/orders.out" || fail "report does not say where it is"
render "file://$TMP/orders.html" "$TMP/profile-orders" "$TMP/orders.dom" "$TMP/orders.log" ||
    fail "chromium failed on the orders-only report"
if console_messages "$TMP/orders.log" >"$TMP/console.txt"; then
    fail "console messages while loading the orders-only report:
$(cat "$TMP/console.txt")"
fi
for c in $CHARTS; do
    grep -q "data-chart=\"$c\"" "$TMP/orders.dom" || fail "chart '$c' missing from the orders-only DOM"
done
grep -q "custscore churn train --as-of 1997-09-30" "$TMP/orders.dom" ||
    fail "the orders-only report does not say how to train the churn model"

echo "ok: report renders in $("$CHROMIUM" --version 2>/dev/null | head -1) with no console messages; $svgs charts"
