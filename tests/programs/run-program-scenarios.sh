#!/usr/bin/env bash
# Runs every scenario in a folder of program scenarios (scenarios/programs/)
# in the real lab with `punchlab run --real`; fails when any expectation of
# any of them fails. Then, for each --agree SCENARIO (a library scenario
# with punchlab's own nodes), checks that the wire's view and the nodes' own
# path events agree (wire_agrees.py); that misbehaving programs are
# reported and hang nothing (check_misbehaving.py); and that no program's
# daemon outlives the lab (check_escapees.py). Exit 77 (ctest: skipped) with the reason when they
# cannot run here: they need root (network namespaces) and the programs
# they run (Debian's wireguard-go, wireguard-tools and coturn).
set -uo pipefail
bin_dir=""
out=""
folder=""
agree=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --agree) agree+=("$2"); shift 2 ;;
    -*) echo "run-program-scenarios.sh: unknown flag $1" >&2; exit 2 ;;
    *) folder="$1"; shift ;;
  esac
done
if [ -z "$bin_dir" ] || [ -z "$out" ] || [ -z "$folder" ]; then
  echo "usage: run-program-scenarios.sh --bin-dir DIR --out DIR FOLDER" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: program scenarios need root to create network namespaces"
  exit 77
fi
missing=""
for program in wireguard-go wg turnserver turnutils_uclient turnutils_peer prlimit; do
  command -v "$program" > /dev/null || missing="$missing $program"
done
if [ -n "$missing" ]; then
  echo "SKIPPED: not installed:$missing (bash scripts/setup.sh installs wireguard-go, wireguard-tools and coturn)"
  exit 77
fi
if [ ! -c /dev/net/tun ]; then
  echo "SKIPPED: /dev/net/tun is missing (wireguard-go and the lab's wire need it)"
  exit 77
fi
rm -rf "$out"
failed=""
for scenario in "$folder"/*.yaml; do
  start=$(date +%s)
  "$bin_dir/punchlab" run --real --out "$out" "$scenario"
  code=$?
  echo "$(basename "$scenario"): exit $code in $(( $(date +%s) - start ))s"
  [ "$code" -eq 0 ] && continue
  failed="$failed $(basename "$scenario")"
  # The next run of this script empties $out: keep the programs' own logs in
  # the test's output (ctest --output-on-failure), where a CI failure stays.
  name=$(sed -n 's/^name: *//p' "$scenario" | head -n 1)
  for log in "$out/$name"/lab-logs/node-*.out "$out/$name"/lab-logs/node-*.err; do
    [ -s "$log" ] || continue
    echo "--- $log (its last 100 lines)"
    tail -n 100 "$log"
  done
done
# Programs that exit early, never start, flood their output or the network:
# each reported as such, the run never hung.
/usr/bin/python3 "$(dirname "$0")/check_misbehaving.py" "$bin_dir/punchlab" "$out/misbehaving" \
  || failed="$failed misbehaving"
# Daemons that leave their program's process group (double fork, setsid)
# and resist SIGTERM: none outlives the lab, ended normally, by a failure
# or by kill -9 of the runner.
/usr/bin/python3 "$(dirname "$0")/check_escapees.py" "$bin_dir/punchlab" "$out/escapees" \
  || failed="$failed escapees"
# WireGuard peers that start together: crossed initiations, then silence
# (why the WireGuard scenarios start bob 1 s after alice).
/usr/bin/python3 "$(dirname "$0")/check_collision.py" "$bin_dir/punchlab" "$out/collision" \
  || failed="$failed collision"
if [ ${#agree[@]} -gt 0 ]; then
  start=$(date +%s)
  /usr/bin/python3 "$(dirname "$0")/wire_agrees.py" "$bin_dir/punchlab" "$out/agree" "${agree[@]}" \
    || failed="$failed wire-agrees"
  echo "wire_agrees.py: $(( $(date +%s) - start ))s"
fi
# Nothing stays behind: the programs' working directories are gone with their labs.
source "$(dirname "$0")/../lab-leftovers.sh"
left=$(program_dirs_left_behind)
if [ -n "$left" ]; then
  echo "left behind: $left"
  failed="$failed leftovers"
fi
if [ -n "$failed" ]; then
  echo "failed:$failed (results in $out)"
  exit 1
fi
