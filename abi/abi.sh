#!/usr/bin/env bash
# ABI baseline and check of libcustscore (docs/reliability.md, "ABI").
#
# usage: abi/abi.sh baseline|check BUILD_DIR
#   baseline  record the ABI of BUILD_DIR's library (a -g build, as meson's
#             default debugoptimized) in abi/libcustscore.abi, with the version
#             in abi/VERSION; done at each release (`make abi-baseline`)
#   check     compare BUILD_DIR's library with the baseline (`make abi-check`):
#             fail on an incompatible change (a removed function, a changed
#             signature, a public struct or enum that changed) unless
#             CUSTSCORE_VERSION_MAJOR was raised since the baseline; added
#             functions are compatible and pass
# Only what include/custscore.h declares counts (--headers-dir). Needs abidw
# and abidiff (Debian: abigail-tools).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: abi.sh baseline|check BUILD_DIR}
build=${2:?usage: abi.sh baseline|check BUILD_DIR}
lib=$(readlink -f "$build/libcustscore.so")
[ -f "$lib" ] || { echo "abi: no library in $build (build it first)"; exit 2; }
major=$(sed -n 's/^#define CUSTSCORE_VERSION_MAJOR \([0-9][0-9]*\).*/\1/p' include/custscore.h)
version=$(sed -n 's/^#define CUSTSCORE_VERSION_STRING "\(.*\)".*/\1/p' include/custscore.h)
baseline=abi/libcustscore.abi
supp=abi/abi.supp

case "$mode" in
baseline)
  abidw --no-corpus-path --headers-dir include --out-file "$baseline" "$lib" || exit 2
  printf 'version %s\nmajor %s\nlibrary %s\n' "$version" "$major" "$(basename "$lib")" > abi/VERSION
  echo "abi: baseline of $version written to $baseline ($(grep -c '<function-decl ' "$baseline") functions)"
  ;;
check)
  if [ ! -f "$baseline" ]; then
    echo "abi: no baseline ($baseline); record one at a release with 'make abi-baseline'"
    exit 2
  fi
  base_major=$(awk '$1 == "major" {print $2}' abi/VERSION)
  base_version=$(awk '$1 == "version" {print $2}' abi/VERSION)
  args=(--headers-dir2 include --no-added-syms)
  [ -f "$supp" ] && args+=(--suppressions "$supp")
  report=$(abidiff "${args[@]}" "$baseline" "$lib")
  rc=$?
  # abidiff's status is a bit mask: 1 error, 2 usage error, 4 ABI change,
  # 8 incompatible ABI change.
  if (( rc & 3 )); then
    echo "$report"
    echo "abi: abidiff failed (status $rc)"
    exit 2
  fi
  # Added functions and types are compatible (filtered by --no-added-syms);
  # whatever is left (a removed function, a changed signature, a struct
  # that changed size or layout) breaks programs built against the baseline.
  if (( rc & 12 )); then
    echo "$report"
    if [ "$major" -gt "$base_major" ]; then
      echo "abi: incompatible changes since $base_version, and the major version went from" \
           "$base_major to $major: allowed (record a new baseline with this release)"
      exit 0
    fi
    echo "abi: INCOMPATIBLE changes since $base_version without a major version bump" \
         "(CUSTSCORE_VERSION_MAJOR is still $major)"
    exit 1
  fi
  abidiff --headers-dir2 include "$baseline" "$lib" | grep -E '^(Functions|Variables) changes summary'
  echo "abi: compatible with the $base_version baseline ($version now)"
  ;;
*)
  echo "usage: abi.sh baseline|check BUILD_DIR"
  exit 2
  ;;
esac
