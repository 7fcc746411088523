#!/usr/bin/env bash
# Runs test_wireguard_interop.py: protocol/wireguard against Debian's
# wireguard-go and wg in network namespaces. Exit 77 (ctest: skipped) with
# the reason when it cannot run here: it needs root, /dev/net/tun,
# wireguard-go, wg, tshark and ping (scripts/setup.sh installs them).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/real-preamble.sh" \
  "WireGuard interop needs root for network namespaces and a TUN device" "$@"
if [ ! -c /dev/net/tun ]; then
  echo "SKIPPED: WireGuard interop needs /dev/net/tun for wireguard-go"
  exit 77
fi
skip_without wireguard-go:wireguard-go wg:wireguard-tools tshark:tshark ping:iputils-ping
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$here/test_wireguard_interop.py"
