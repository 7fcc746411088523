#!/usr/bin/env bash
# Sets up (apt, as root), builds and runs every test: unit, ns-3, real-peer,
# then a short run of every fuzz target (scripts/fuzz.sh: clang, build-fuzz/).
# Usage: scripts/test.sh [--sanitize | --fuzz]
#   --sanitize: the tests in an ASan + UBSan build (build-asan/), no fuzzing
#   --fuzz:     only the fuzz targets' short run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  ""|--sanitize|--fuzz) ;;
  *) echo "usage: test.sh [--sanitize | --fuzz] (unknown option: $1)" >&2; exit 2 ;;
esac
"$root/scripts/setup.sh"
if [ "${1:-}" = "--fuzz" ]; then
  exec "$root/scripts/fuzz.sh"
fi
build_dir=$("$root/scripts/build.sh" "$@" | tail -n 1)
cd "$build_dir"
if [ "${1:-}" = "--sanitize" ]; then
  export ASAN_OPTIONS="abort_on_error=0:detect_stack_use_after_return=1"
  export LSAN_OPTIONS="suppressions=$root/cmake/lsan-suppressions.txt:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
ctest --output-on-failure -j"$(nproc)"
if [ -z "${1:-}" ]; then
  "$root/scripts/fuzz.sh"
fi
