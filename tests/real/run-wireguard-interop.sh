#!/usr/bin/env bash
# Runs test_wireguard_interop.py: protocol/wireguard against Debian's
# wireguard-go and wg in network namespaces. Exit 77 (ctest: skipped) with
# the reason when it cannot run here: it needs root, /dev/net/tun,
# wireguard-go, wg, tshark and ping (scripts/setup.sh installs them).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift 2 ;;
    *) echo "run-wireguard-interop.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: WireGuard interop needs root for network namespaces and a TUN device"
  exit 77
fi
if [ ! -c /dev/net/tun ]; then
  echo "SKIPPED: WireGuard interop needs /dev/net/tun for wireguard-go"
  exit 77
fi
for tool in wireguard-go:wireguard-go wg:wireguard-tools tshark:tshark ping:iputils-ping; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    echo "SKIPPED: ${tool%%:*} is missing (Debian package ${tool##*:}; scripts/setup.sh installs it)"
    exit 77
  fi
done
export PUNCHLAB_BIN_DIR="$bin_dir"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$here/test_wireguard_interop.py"
