#!/usr/bin/env bash
# Configures and builds punchlab. Usage: scripts/build.sh [--sanitize]
# Build trees: build/ (default) and build-asan/ (ASan + UBSan).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  ""|--sanitize) ;;
  *) echo "usage: build.sh [--sanitize] (unknown option: $1)" >&2; exit 2 ;;
esac
build_dir="$root/build"
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir="$root/build-asan"
  extra+=(-DPUNCHLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S "$root" -B "$build_dir" -DPYTHON_EXECUTABLE=/usr/bin/python3 "${extra[@]}" >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
echo "$build_dir"
