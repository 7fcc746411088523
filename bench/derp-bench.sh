#!/usr/bin/env bash
# The real DERP server on loopback under 1, 8 and 64 client pairs, beside
# Tailscale's derper and the machine's raw loopback TCP relay throughput
# measured in the same run: starts `punchlab-node derp-server`, derper (plain
# HTTP, when a binary is at hand) and `punchlab-node raw-relay` on 127.0.0.1,
# runs `punchlab-node derp-bench` against each (ours, derper, raw, per pair
# count, --repeat times) and prints the best packets/s and MB/s of each, the
# ratios, and each server's CPU time per relayed packet (from /proc/PID/stat),
# which other load on the machine disturbs far less than throughput. Ours,
# derper and raw run plain (the same footing); the last columns run ours
# and derper over TLS (the real world's default; ours with its self-signed
# certificate pinned, derper with the self-signed IP certificate its
# --certmode manual makes, pinned too) against ours plain.
# Prints numbers; it is not a test and judges nothing.
#
# derper: --derper PATH, else build/tests/conformance/derper (what ctest -R
# conformance builds from tailscale.com), else the column is left out.
#
# usage: bench/derp-bench.sh [--bin PUNCHLAB_NODE] [--derper DERPER] [--duration SECONDS]
#                            [--repeat N] [--size BYTES] [--pairs "1 8 64"] [--json FILE]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PUNCHLAB_NODE:-$here/../build/sim/punchlab-node}
duration=5
repeat=3
size=1200
pairs="1 8 64"
json_out=""
derper=$here/../build/tests/conformance/derper

while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --derper) derper=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "derp-bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "derp-bench.sh: no punchlab-node at '$bin' (build it, or pass --bin)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start NAME ARGS...: runs a server, waits (bounded) for its readiness line,
# sets $ready to that line and $started to its pid.
start() {
  local name=$1; shift
  "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  started=$!
  pids+=($started)
  for _ in $(seq 100); do
    ready=$(head -n1 "$work/$name.out")
    [ -n "$ready" ] && return 0
    sleep 0.05
  done
  echo "derp-bench.sh: $name did not start: $(cat "$work/$name.err")" >&2
  exit 4
}

# Plain HTTP for every column, so ours and derper compare on the same footing.
start derp derp-server --listen 127.0.0.1:0 --plain-http
derp_at=$(sed -E 's/^derp-server listening on ([^,]+),.*/\1/' <<<"$ready")
derp_pid=$started
# Ours over TLS (the real world's default), its self-signed certificate pinned.
start tls derp-server --listen 127.0.0.1:0
tls_at=$(sed -E 's/^derp-server listening on ([^,]+),.*/\1/' <<<"$ready")
tls_pin=$(sed -E 's/.*, cert (sha256-raw:[0-9a-f]+)$/\1/' <<<"$ready")
tls_pid=$started
start raw raw-relay --listen 127.0.0.1:0
raw_at=$(sed -E 's/^raw-relay listening on (.*)$/\1/' <<<"$ready")
raw_pid=$started

# derper on a free loopback port, plain HTTP, no STUN, its key in a config file.
modes="derp tls raw"
if [ -x "$derper" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo '{"PrivateKey":"privkey:'"$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')"'"}' >"$work/derper.json"
  "$derper" -a "127.0.0.1:$port" -http-port -1 -stun=false -c "$work/derper.json" \
    -certdir "$work" -home blank -mesh-psk-file "" >"$work/derper.out" 2>&1 &
  derper_pid=$!
  pids+=($derper_pid)
  derper_at=127.0.0.1:$port
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
    || { echo "derp-bench.sh: derper did not start: $(cat "$work/derper.out")" >&2; exit 4; }
  # derper over TLS: --certmode manual with an IP hostname makes its own
  # self-signed certificate in --certdir, which the load generator pins.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$work/derper-certs"
  "$derper" -a "127.0.0.1:$port" -http-port -1 -stun=false -c "$work/derper.json" \
    -certmode manual -certdir "$work/derper-certs" -hostname 127.0.0.1 -home blank \
    -mesh-psk-file "" >"$work/derper-tls.out" 2>&1 &
  derper_tls_pid=$!
  pids+=($derper_tls_pid)
  derper_tls_at=127.0.0.1:$port
  for _ in $(seq 200); do
    [ -s "$work/derper-certs/127.0.0.1.crt" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  [ -s "$work/derper-certs/127.0.0.1.crt" ] \
    || { echo "derp-bench.sh: derper (TLS) did not start: $(cat "$work/derper-tls.out")" >&2; exit 4; }
  derper_tls_pin=sha256-raw:$(openssl x509 -in "$work/derper-certs/127.0.0.1.crt" -outform DER \
    | sha256sum | cut -d' ' -f1)
  modes="derp tls derper derper_tls raw"
else
  echo "derper: none at '$derper' (ctest -R conformance builds it, or pass --derper): column left out"
fi

# CPU time (user + system, clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run MODE PAIRS REP: one derp-bench run, its JSON in $work, plus the server's
# CPU ticks during it.
run() {
  local mode=$1 n=$2 rep=$3 pid at flags=()
  case "$mode" in
    raw) pid=$raw_pid; at=$raw_at; flags=(--raw) ;;
    derper) pid=$derper_pid; at=$derper_at; flags=(--plain-http) ;;
    derper_tls) pid=$derper_tls_pid; at=$derper_tls_at; flags=(--cert-name "$derper_tls_pin") ;;
    tls) pid=$tls_pid; at=$tls_at; flags=(--cert-name "$tls_pin") ;;
    *) pid=$derp_pid; at=$derp_at; flags=(--plain-http) ;;
  esac
  local before; before=$(cpu_ticks "$pid")
  "$bin" derp-bench "${flags[@]}" --server "$at" --pairs "$n" --duration "$duration" \
    --size "$size" --json >"$work/$mode-$n-$rep.json" || true
  echo $(( $(cpu_ticks "$pid") - before )) >"$work/$mode-$n-$rep.ticks"
}

echo "machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "packets of $size bytes, ${duration}s per run, best of $repeat runs, both directions of every pair"
for n in $pairs; do
  for rep in $(seq "$repeat"); do
    for mode in $modes; do run "$mode" "$n" "$rep"; done
  done
done

python3 - "$work" "$json_out" "$repeat" "$(getconf CLK_TCK)" $pairs <<'PY'
import json, sys
work, json_out, repeat, tck, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]

def runs(mode, n):
    out = []
    for rep in range(1, repeat + 1):
        try:
            j = json.load(open("%s/%s-%s-%d.json" % (work, mode, n, rep)))
        except (OSError, ValueError):
            continue
        ticks = int(open("%s/%s-%s-%d.ticks" % (work, mode, n, rep)).read())
        j["server_cpu_us_per_packet"] = (
            1e6 * ticks / tck / j["packets_delivered"] if j["packets_delivered"] else None)
        out.append(j)
    return out

rows = []
tls_cpus = []
with_derper = any(runs("derper", n) for n in pairs)
print()
head = "%5s | %10s %9s" % ("pairs", "ours pkt/s", "ours MB/s")
if with_derper:
    head += " | %12s %11s | %11s" % ("derper pkt/s", "derper MB/s", "ours/derper")
head += " | %10s %9s | %8s | %-22s | %4s %12s" % (
    "raw pkt/s", "raw MB/s", "ours/raw", "server us/packet", "lost", "misdelivered")
head += " | %13s %9s" % ("ours TLS pkt/s", "TLS/plain")
if with_derper:
    head += " | %16s %15s" % ("derper TLS pkt/s", "ours/derper TLS")
print(head)
print("%s | %-22s |" % (" " * (len(head.split(" | server")[0])), "  ours  derper    raw" if with_derper else "  ours    raw"))
print("-" * len(head))
for n in pairs:
    d_runs, t_runs, r_runs = runs("derp", n), runs("derper", n), runs("raw", n)
    if not d_runs or not r_runs or (with_derper and not t_runs):
        print("%5s | run failed (see derp-bench's output above)" % n)
        continue
    best = lambda rs: max(rs, key=lambda j: j["mbytes_per_s"])
    d, r = best(d_runs), best(r_runs)
    ratio = lambda x, y: x["pps"] / y["pps"] if y["pps"] else float("nan")
    cpu = lambda rs: min(j["server_cpu_us_per_packet"] or float("inf") for j in rs)
    line = "%5s | %10.0f %9.1f" % (n, d["pps"], d["mbytes_per_s"])
    cpus = "%6.2f" % cpu(d_runs)
    s_runs = runs("tls", n)
    row = {"pairs": int(n), "derp_runs": d_runs, "raw_runs": r_runs, "tls_runs": s_runs,
           "best_derp_over_raw": d["mbytes_per_s"] / r["mbytes_per_s"] if r["mbytes_per_s"] else None}
    if with_derper:
        t = best(t_runs)
        line += " | %12.0f %11.1f | %10.2fx" % (t["pps"], t["mbytes_per_s"], ratio(d, t))
        cpus += " %7.2f" % cpu(t_runs)
        row["derper_runs"] = t_runs
        row["best_ours_over_derper_pps"] = ratio(d, t)
    cpus += " %6.2f" % cpu(r_runs)
    line += " | %10.0f %9.1f | %7.0f%% | %-22s | %4d %12d" % (
        r["pps"], r["mbytes_per_s"], 100 * ratio(d, r), cpus,
        sum(j["packets_lost"] for j in d_runs), sum(j["misdelivered"] for m in ("derp", "tls", "derper", "derper_tls", "raw")
            for j in runs(m, n)))
    if s_runs:
        s = best(s_runs)
        line += " | %14.0f %8.0f%%" % (s["pps"], 100 * ratio(s, d))
        row["best_tls_over_plain_pps"] = ratio(s, d)
        row["tls_server_cpu_us_per_packet"] = cpu(s_runs)
    else:
        line += " | %14s %9s" % ("failed", "")
    if with_derper:
        u_runs = runs("derper_tls", n)
        row["derper_tls_runs"] = u_runs
        if u_runs and s_runs:
            u = best(u_runs)
            line += " | %16.0f %14.2fx" % (u["pps"], ratio(s, u))
            row["best_ours_tls_over_derper_tls_pps"] = ratio(s, u)
            row["derper_tls_server_cpu_us_per_packet"] = cpu(u_runs)
            tls_cpus.append("%5s pairs: ours TLS %.2f, derper TLS %.2f" % (n, cpu(s_runs), cpu(u_runs)))
        else:
            line += " | %16s %15s" % ("failed", "")
    print(line)
    rows.append(row)
if tls_cpus:
    print("\nserver CPU us/packet over TLS:")
    for line in tls_cpus:
        print(line)
if json_out:
    json.dump(rows, open(json_out, "w"), indent=1)
PY
