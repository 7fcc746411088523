#!/usr/bin/env bash
# Runs the real-peer pytest suites. Exit 77 (ctest: skipped) with the reason
# when they cannot run here: they need root for network namespaces.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/real-preamble.sh" "real-peer tests need root to create network namespaces" "$@"
# The WireGuard interop suite is its own ctest (real.wireguard), skipped on its own.
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$here" --ignore="$here/test_wireguard_interop.py"
