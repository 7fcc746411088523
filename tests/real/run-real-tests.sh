#!/usr/bin/env bash
# Runs the real-peer pytest suites. Exit 77 (ctest: skipped) with the reason
# when they cannot run here: they need root for network namespaces.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift 2 ;;
    *) echo "run-real-tests.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: real-peer tests need root to create network namespaces"
  exit 77
fi
export PUNCHLAB_BIN_DIR="$bin_dir"
# The WireGuard interop suite is its own ctest (real.wireguard), skipped on its own.
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$here" --ignore="$here/test_wireguard_interop.py"
