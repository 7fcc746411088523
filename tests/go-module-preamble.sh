# The shared Go start of the suites that build Tailscale's code from a go.mod
# pinned in their folder (tests/conformance/run.sh, tests/tailscaled/run.sh),
# sourced, not run, after the caller changed into that folder:
#
#   source "$root/tests/go-module-preamble.sh"    # sets go_bin
#
# Exits 77 (ctest: skipped, the reason on stdout) when there is no Go
# toolchain, when it is older than go.mod's `go` line, or when the module
# proxy cannot be reached; exits 1 when the downloaded modules do not match
# the committed go.sum (a security failure is never a skip).
go_bin=$(command -v go || true)
[ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
if [ -z "$go_bin" ]; then
  echo "SKIPPED: no Go toolchain (go is not on PATH and /usr/local/go/bin/go is missing)"
  exit 77
fi
# Never download another toolchain: go.mod's version must be the machine's.
export GOTOOLCHAIN=local
go_want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)
go_have=$("$go_bin" env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$go_want" "$go_have" | sort -V | head -1)" != "$go_want" ]; then
  echo "SKIPPED: $go_bin is go $go_have, go.mod needs go $go_want"
  exit 77
fi
# Modules come from the proxy (go.sum is committed and checked).
if ! go_out=$(timeout 300 "$go_bin" mod download 2>&1); then
  if grep -qi "checksum mismatch\|SECURITY ERROR\|verifying" <<<"$go_out"; then
    echo "$go_out"
    echo "$(basename "$0"): module checksums do not match go.sum"
    exit 1
  fi
  echo "$go_out" | tail -3
  echo "SKIPPED: the Go module proxy is unreachable ($("$go_bin" env GOPROXY))"
  exit 77
fi
