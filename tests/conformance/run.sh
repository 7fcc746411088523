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

go_bin=$(command -v go || true)
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
if [ -z "$go_bin" ]; then
  echo "SKIPPED: no Go toolchain (go is not on PATH and /usr/local/go/bin/go is missing)"
  exit 77
fi
# Never download another toolchain: go.mod's version must be the machine's.
export GOTOOLCHAIN=local
want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$here/go.mod")
have=$("$go_bin" env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" != "$want" ]; then
  echo "SKIPPED: $go_bin is go $have, go.mod needs go $want"
  exit 77
fi

cd "$here" || exit 1
mkdir -p "$work_dir"
# Modules come from the proxy (go.sum is committed and checked).
if ! out=$(timeout 300 "$go_bin" mod download 2>&1); then
  if grep -qi "checksum mismatch\|SECURITY ERROR\|verifying" <<<"$out"; then
    echo "$out"
    echo "run.sh: module checksums do not match go.sum"
    exit 1
  fi
  echo "$out" | tail -3
  echo "SKIPPED: the Go module proxy is unreachable ($("$go_bin" env GOPROXY))"
  exit 77
fi

start=$(date +%s)
if ! "$go_bin" build -o "$work_dir/derper" tailscale.com/cmd/derper; then
  echo "run.sh: building derper failed"
  exit 1
fi
echo "derper built in $(( $(date +%s) - start )) s ($work_dir/derper)"

PUNCHLAB_NODE="$node" DERPER="$work_dir/derper" \
  exec "$go_bin" test -count=1 -timeout 600s -v . 2>&1
