#!/bin/sh
# Install into a temporary root and build docs/examples/quickstart.c with
# `pkg-config --cflags --libs custscore`; run it on a small CSV.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --quiet >/dev/null
pc=$(find "$tmp" -name custscore.pc | head -n 1)
[ -n "$pc" ] || { echo "custscore.pc not installed"; exit 1; }
[ -n "$(find "$tmp" -name custscore.h)" ] || { echo "custscore.h not installed"; exit 1; }
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$tmp pkg-config --cflags --libs custscore)
echo "pkg-config: $flags"
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/quickstart" "$src/docs/examples/quickstart.c" $flags
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -o "$tmp/nightly" "$src/docs/examples/nightly.c" $flags
libdir=$(dirname "$(find "$tmp" -name 'libcustscore.so.0' | head -n 1)")
printf 'customer,order,ts,revenue\nA,1,2025-01-02,10\nA,2,2025-02-01,20\nB,3,2025-03-01,5\n' > "$tmp/orders.csv"
out=$(LD_LIBRARY_PATH=$libdir "$tmp/quickstart" "$tmp/orders.csv")
echo "$out"
echo "$out" | grep -q '^A x=1 ' || { echo "unexpected output"; exit 1; }
# The installed library exports only custscore_* symbols.
bad=$(nm -D --defined-only "$libdir/libcustscore.so.0" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^custscore_' | grep -v '^CUSTSCORE_' || true)
[ -z "$bad" ] || { echo "unexpected exported symbols: $bad"; exit 1; }
echo "install check ok"
