#!/usr/bin/env bash
# Sets up (apt, as root), builds and runs every test: unit, ns-3, real-peer.
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan + UBSan build in build-asan/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=$("$root/scripts/build.sh" "$@" | tail -n 1)
cd "$build_dir"
ctest --output-on-failure -j"$(nproc)"
