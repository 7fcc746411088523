#!/usr/bin/env bash
# Real Tailscale behind the lab's NATs (ctest real.tailscaled): builds
# tailscaled, tailscale and testcontrol-lab from the module go.mod pins (Go's
# build cache makes a warm run link only), runs the NAT matrix of the given
# presets twice — simulated (punchlab's core) and in the real lab with both
# peers running scenarios/programs/tailscale/tailscaled.run and Tailscale's
# test control server as a service node — and fails unless every cell's
# path agrees (agree.py prints both times to direct side by side).
#
#   run.sh --bin-dir BUILD/sim --work-dir DIR [--nats A,B,...] [--duration D]
#   run.sh --work-dir DIR --build-only    # prints the directory of the binaries
#
# Exit 77 (ctest: skipped, with the reason on stdout) without root (network
# namespaces), without a Go toolchain as new as go.mod's, or when the Go
# module proxy cannot be reached; never a pass then.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=""
work_dir=""
nats="full-cone,port-restricted-cone,symmetric"
duration="20s"
build_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    --nats) nats=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$work_dir" ] || { [ -z "$bin_dir" ] && [ -z "$build_only" ]; }; then
  echo "usage: run.sh --bin-dir BUILD/sim --work-dir DIR [--nats A,B,...] [--duration D]" >&2
  echo "       run.sh --work-dir DIR --build-only" >&2
  exit 2
fi
mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd) || exit 1
if [ -n "$bin_dir" ]; then
  bin_dir=$(cd "$bin_dir" && pwd) || exit 1
  if [ ! -x "$bin_dir/punchlab" ]; then
    echo "run.sh: $bin_dir/punchlab is not built" >&2
    exit 1
  fi
fi

if [ -z "$build_only" ] && [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: tailscaled in the lab needs root to create network namespaces"
  exit 77
fi
cd "$here" || exit 1
source "$here/../go-module-preamble.sh"
start=$(date +%s)
mkdir -p "$work_dir/bin"
if ! "$go_bin" build -o "$work_dir/bin/" tailscale.com/cmd/tailscaled tailscale.com/cmd/tailscale \
    ./testcontrol-lab; then
  echo "run.sh: building tailscaled, tailscale and testcontrol-lab failed"
  exit 1
fi
echo "tailscaled, tailscale, testcontrol-lab built in $(( $(date +%s) - start )) s ($work_dir/bin)" >&2
if [ -n "$build_only" ]; then
  echo "$work_dir/bin"
  exit 0
fi
for tool in ip nft; do
  if ! command -v "$tool" > /dev/null; then
    echo "SKIPPED: $tool is not installed (bash scripts/setup.sh)"
    exit 77
  fi
done

programs="$root/scenarios/programs/tailscale"
rm -rf "$work_dir/sim" "$work_dir/real"
"$bin_dir/punchlab" matrix --nats "$nats" --out "$work_dir/sim" > "$work_dir/sim.txt" || {
  cat "$work_dir/sim.txt"; echo "run.sh: the simulated matrix failed"; exit 1; }
start=$(date +%s)
PATH="$work_dir/bin:$PATH" "$bin_dir/punchlab" matrix --real --nats "$nats" --duration "$duration" \
  --program "$programs/tailscaled.run" --service "control=$programs/testcontrol.run" \
  --out "$work_dir/real"
code=$?
echo "real matrix: exit $code in $(( $(date +%s) - start )) s"
/usr/bin/python3 "$here/agree.py" "$work_dir/sim" "$work_dir/real" --markdown "$work_dir/agree.md" \
  || exit 1
[ "$code" -eq 0 ] || exit 1
# Nothing stays behind: the programs' working directories are gone with their labs.
source "$here/../lab-leftovers.sh"
left=$(program_dirs_left_behind)
if [ -n "$left" ]; then
  echo "left behind: $left"
  exit 1
fi
