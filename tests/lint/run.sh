#!/usr/bin/env bash
# Static checks of the library and the CLI (`make lint`, part of `make check`;
# docs/reliability.md, "Hardening"): cppcheck and clang-tidy from Debian.
# Any finding not in the explained suppression lists fails.
#
# usage: tests/lint/run.sh BUILD_DIR [--deep]
#   BUILD_DIR  a configured build (its compile_commands.json is used)
#   --deep     also run clang-tidy's static analyzer (clang-analyzer-*; a
#              few minutes; `make lint-deep`), reported but not failing
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:?usage: run.sh BUILD_DIR [--deep]}
DEEP=${2:-}
JOBS=$(nproc 2>/dev/null || echo 2)
SOURCES=$(ls src/*.c src/cli/*.c)
status=0

echo "cppcheck $(cppcheck --version | awk '{print $2}'): $(echo "$SOURCES" | wc -l) files"
# -D__GNUC__: the one configuration we build (the GCC/clang branches of the
# header macros); warning/portability/performance findings, not style.
if ! cppcheck --quiet --std=c11 -D__GNUC__ -Iinclude -Isrc -j "$JOBS" \
    --enable=warning,portability,performance --inline-suppr \
    --suppress=missingIncludeSystem --suppressions-list=tests/lint/cppcheck.supp \
    --error-exitcode=1 --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    $SOURCES; then
  echo "cppcheck: findings above (fix them, or add an explained entry to tests/lint/cppcheck.supp)"
  status=1
fi

checks_file=tests/lint/clang-tidy.yaml
echo "clang-tidy $(clang-tidy --version | grep -oE 'version [0-9.]+' | head -1): $(echo "$SOURCES" | wc -l) files"
out=$(mktemp)
echo "$SOURCES" | xargs -P "$JOBS" -n 4 clang-tidy -p "$BUILD" --quiet --extra-arg=-Wno-error \
  --config-file="$checks_file" 2>/dev/null > "$out"
# Keep the findings (file:line:col: warning: ... [check]) not suppressed.
findings=$(grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): .*\[[a-z0-9.,-]+\]$' "$out" |
  sed -E "s|^$(pwd)/||; s|^(\.\./)+||; s|^$BUILD/\.\./||" | sort -u |
  while IFS= read -r line; do
    file=${line%%:*}
    check=$(echo "$line" | grep -oE '\[[a-z0-9.,-]+\]$' | tr -d '[]')
    if grep -qxF "$file:$check" <(grep -vE '^\s*(#|$)' tests/lint/clang-tidy.supp); then
      continue
    fi
    echo "$line"
  done)
rm -f "$out"
if [ -n "$findings" ]; then
  echo "$findings"
  echo "clang-tidy: $(echo "$findings" | wc -l) findings (fix them, or add an explained FILE:CHECK to tests/lint/clang-tidy.supp)"
  status=1
fi

if [ "$DEEP" = "--deep" ]; then
  echo "clang-tidy static analyzer (report only)"
  echo "$SOURCES" | xargs -P "$JOBS" -n 4 clang-tidy -p "$BUILD" --quiet --extra-arg=-Wno-error \
    --checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling' \
    2>/dev/null | grep -E ': (warning|error): ' | sort -u
fi

[ $status -eq 0 ] && echo "lint: no findings"
exit $status
