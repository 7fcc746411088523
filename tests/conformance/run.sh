#!/usr/bin/env bash
# The Tailscale conformance suite (ctest conformance.tailscale): builds
# Tailscale's derper from the module go.mod pins and runs the Go tests in this
# folder against punchlab-node.
#
#   run.sh --bin-dir BUILD/sim --work-dir DIR
#
# Exit 77 (ctest: skipped, with the reason on stdout) when there is no Go
# toolchain or the Go module proxy cannot be reached; never a pass then.
# Builds are cached in Go's build cache (GOCACHE), so a warm run only links.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=""
work_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --work-dir) work_dir=$2; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$bin_dir" ] || [ -z "$work_dir" ]; then
  echo "usage: run.sh --bin-dir BUILD/sim --work-dir DIR" >&2
  exit 2
fi
mkdir -p "$work_dir"
bin_dir=$(cd "$bin_dir" && pwd) || exit 1
work_dir=$(cd "$work_dir" && pwd) || exit 1
node="$bin_dir/punchlab-node"
if [ ! -x "$node" ]; then
  echo "run.sh: $node is not built" >&2
  exit 1
fi

cd "$here" || exit 1
source "$here/../go-module-preamble.sh"

start=$(date +%s)
if ! "$go_bin" build -o "$work_dir/derper" tailscale.com/cmd/derper; then
  echo "run.sh: building derper failed"
  exit 1
fi
echo "derper built in $(( $(date +%s) - start )) s ($work_dir/derper)"

PUNCHLAB_NODE="$node" DERPER="$work_dir/derper" \
  exec "$go_bin" test -count=1 -timeout 600s -v . 2>&1
