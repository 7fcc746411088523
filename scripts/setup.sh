#!/usr/bin/env bash
# Installs every system dependency punchlab needs from Debian 12's archive.
# Idempotent: packages already installed are not fetched again. Needs root.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config ccache
  # ns-3 3.37 (its CMake config needs gsl, sqlite3 and libxml2 too)
  libns3-dev ns3 libgsl-dev libsqlite3-dev libxml2-dev
  # protocol core and tools
  libsodium-dev zlib1g-dev nlohmann-json3-dev libyaml-cpp-dev libboost-program-options-dev
  # control messages are read with simdjson (protocol/src/control/message-reader.h)
  libsimdjson-dev
  # the control server zstd-compresses what it sends (protocol/.../control/compression.h)
  libzstd-dev
  # WireGuard's BLAKE2s (libsodium has none): OpenSSL's libcrypto
  libssl-dev
  # tests; clang and its runtime (libFuzzer, sanitizers) for the fuzz targets
  libgtest-dev libgmock-dev python3-pytest clang libclang-rt-14-dev
  # the README's GitHub Actions example is parsed by a test
  python3-yaml
  # Python bindings and plots
  pybind11-dev python3-dev python3-matplotlib
  # sweeps: scenario text, tables, a Dask cluster (punchlab.sweep)
  python3-yaml python3-pandas python3-distributed
  # the real lab: namespaces, NAT rules, captures; conntrack flushes a NAT's
  # mappings when a scenario reboots it
  iproute2 nftables tshark conntrack
  # the report test renders report.html headless
  chromium
  # validation peers nobody here wrote
  stun-client stun-server coturn
  # WireGuard interop (the Go reference implementation, wg(8), ping across the
  # tunnel) and program nodes in the lab (scenarios/programs/)
  wireguard-go wireguard-tools iputils-ping
  # port mapping in the lab: miniupnpd (NAT-PMP, PCP, UPnP IGD) on lab routers,
  # natpmpc and upnpc as clients nobody here wrote (tests/portmap-real/)
  miniupnpd-nftables natpmpc miniupnpc
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: must run as root to install packages (try: sudo $0)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y --no-install-recommends "${missing[@]}"
# coturn and stund install services; punchlab starts its own instances in namespaces.
# (miniupnpd-nftables installs no service; its configuration package
# "miniupnpd" is only recommended, and not installed.)
for svc in coturn stund stun-server; do
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
done
