#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang into build-fuzz/ —
# only the protocol libraries, the scenario loader and the targets, with
# -fsanitize=fuzzer,address,undefined — and runs them.
#
#   scripts/fuzz.sh                 every target for 20 s (ctest -L fuzz, two at a time);
#                                   what CI runs after the tests
#   scripts/fuzz.sh --seconds N     the same, N seconds each
#   scripts/fuzz.sh --runs N [NAME...]
#                                   the release run: each target (or the NAMEs) until N
#                                   executions, one at a time at the lowest priority;
#                                   prints executions, time and findings per target and
#                                   keeps the logs in build-fuzz/tests/fuzz/logs/; a target's
#                                   tests/fuzz/NAME.release-flags adds libFuzzer flags to its
#                                   release run (the file says why)
# A crash, leak, timeout or out-of-memory fails the run; the input is left in
# build-fuzz/tests/fuzz/artifacts/ (reproduce: build-fuzz/tests/fuzz/fuzz-NAME FILE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build-fuzz"
seconds=20
runs=""
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -*) echo "usage: fuzz.sh [--seconds N | --runs N [NAME...]] (unknown option: $1)" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done

cmake -S "$root" -B "$build_dir" -DPUNCHLAB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPUNCHLAB_FUZZ_SECONDS="$seconds" >&2
cmake --build "$build_dir" --target fuzz_targets -j"$(nproc)" >&2

fuzz_dir="$build_dir/tests/fuzz"
if [ -z "$runs" ]; then
  cd "$build_dir"
  exec ctest -L fuzz --output-on-failure -j"$(nproc)"
fi

if [ ${#names[@]} -eq 0 ]; then
  for bin in "$fuzz_dir"/fuzz-*; do names+=("${bin##*/fuzz-}"); done
fi
mkdir -p "$fuzz_dir/logs"
failed=0
printf '%-20s %12s %10s %10s  %s\n' target executions seconds exec/s findings
for name in "${names[@]}"; do
  log="$fuzz_dir/logs/$name.log"
  dict=()
  [ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")
  release_flags=()
  if [ -f "$root/tests/fuzz/$name.release-flags" ]; then
    # Every word of every line that is not a comment (none is fine too).
    release_flags=($(grep -v -e '^#' -e '^[[:space:]]*$' "$root/tests/fuzz/$name.release-flags" || true))
  fi
  mkdir -p "$fuzz_dir/corpus/$name"
  seed_dirs=("$root/tests/fuzz/corpus/$name")
  if [ -f "$root/tests/fuzz/$name.seed-dirs" ]; then
    while read -r dir; do seed_dirs+=("$root/$dir"); done < <(grep -v '^#' "$root/tests/fuzz/$name.seed-dirs")
  fi
  start=$(date +%s)
  status=0
  ASAN_OPTIONS=detect_leaks=1 nice -n 19 "$fuzz_dir/fuzz-$name" -runs="$runs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$fuzz_dir/artifacts/$name-" \
    "${release_flags[@]}" "${dict[@]}" "$fuzz_dir/corpus/$name" "${seed_dirs[@]}" >"$log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  if [ "$status" -eq 0 ]; then finding=0; else finding="exit $status, see $log"; failed=1; fi
  printf '%-20s %12s %10s %10s  %s\n' "$name" "${execs:-?}" "$elapsed" "${speed:-?}" "$finding"
done
exit "$failed"
