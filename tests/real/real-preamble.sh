# The shared start of tests/real's ctest runners (run-real-tests.sh,
# run-wireguard-interop.sh), sourced, not run:
#
#   source "$here/real-preamble.sh" "SENTENCE" "$@"
#
# reads the runner's flags (--bin-dir DIR: exported as PUNCHLAB_BIN_DIR) and
# exits 77 (ctest: skipped) printing "SKIPPED: SENTENCE" unless it runs as
# root; a wrong flag exits 2. skip_without TOOL:PACKAGE... then skips (77)
# when a tool the suite needs is missing, naming its Debian package.
runner=$(basename "$0")
root_reason="$1"
shift
bin_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift 2 ;;
    *) echo "$runner: unknown flag $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: $root_reason"
  exit 77
fi
export PUNCHLAB_BIN_DIR="$bin_dir"

skip_without() {
  local tool
  for tool in "$@"; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
      echo "SKIPPED: ${tool%%:*} is missing (Debian package ${tool##*:}; scripts/setup.sh installs it)"
      exit 77
    fi
  done
}
