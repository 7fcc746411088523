#!/usr/bin/env bash
# Configures and builds punchlab. Usage: scripts/build.sh [--sanitize]
# Build trees: build/ (default) and build-asan/ (ASan + UBSan).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir="$root/build-asan"
  extra+=(-DPUNCHLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S "$root" -B "$build_dir" -DPYTHON_EXECUTABLE=/usr/bin/python3 "${extra[@]}" >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
echo "$build_dir"
