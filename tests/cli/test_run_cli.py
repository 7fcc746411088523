"""`punchlab run`, `matrix`, `bench` and `demo` as a user meets them: exit
codes, what lands in the results directory, and errors (no root needed: all
in ns-3).

Exit codes: 0 every expectation held, 1 one did not, 2 usage, 3 a broken
scenario file (nothing runs), 4 a run could not happen.
"""

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cli_run import BIN, PAIR, punchlab, write


def test_a_run_writes_results_latency_and_junit(tmp_path):
    scenario = write(tmp_path, "pair.yaml", PAIR)
    result = punchlab("run", scenario, "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result
    out = tmp_path / "out" / "pair"
    results = json.loads((out / "results.json").read_text())
    assert results["format"] == "punchlab-results/2"
    assert results["ok"] is True and results["mode"] == "simulation"
    assert [e["ok"] for e in results["expectations"]] == [True]
    rows = (out / "latency.csv").read_text().splitlines()
    assert rows[0] == "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms"
    assert len(rows) > 50
    suite = ET.parse(out / "junit.xml").getroot()
    assert suite.get("tests") == "1" and suite.get("failures") == "0"
    assert "pair (simulation, seed 1, 20s): all 1 expectations hold" in result.stdout


def test_a_broken_expectation_exits_1_and_says_where(tmp_path):
    scenario = write(tmp_path, "wrong.yaml", PAIR.replace("path: direct", "path: derp"))
    result = punchlab("run", "-q", scenario, "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result
    assert "FAIL wrong: 0/1 expectations held" in result.stdout
    assert f"{scenario}:11:5: alice-bob path derp by 10s: observed direct at 10s" in result.stdout
    failures = ET.parse(tmp_path / "out" / "wrong" / "junit.xml").getroot().iter("failure")
    assert [f.get("message") for f in failures] == ["direct at 10s (never derp after)"]


def test_one_broken_file_stops_everything_with_exit_3(tmp_path):
    good = write(tmp_path, "good.yaml", PAIR)
    bad = write(tmp_path, "bad.yaml", PAIR.replace("every: 200ms", "every: 200"))
    result = punchlab("run", good, bad, "--out", str(tmp_path / "out"))
    assert result.returncode == 3, result
    assert f"{bad}:9:35: every in traffic[0]: '200' has no unit" in result.stderr
    assert "nothing was run" in result.stderr
    assert not (tmp_path / "out").exists()


# yaml-cpp 0.7's LoadAll loops forever (memory growing) on a ',' that cannot
# start a value; the loader must answer at once with the position.
@pytest.mark.parametrize("text, position", [
    (",", "1:1"),
    ("---\n,", "2:1"),
    ("# c\n,", "2:1"),
    ("nodes: {}\n---\n,", "3:1"),
])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_stray_comma_is_a_positioned_error_at_once(tmp_path, command, text, position):
    bad = write(tmp_path, "comma.yaml", text)
    args = [command, bad] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    result = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=5)
    assert result.returncode == 3, result
    assert f"{bad}:{position}: malformed YAML: ',' outside [ ] or {{ }}" in result.stderr, result


def test_a_file_too_big_to_be_a_scenario_is_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (5 << 20) + "\nnodes: {a: {}}\n")
    result = punchlab("validate", str(big))
    assert result.returncode == 3, result
    assert "the most a scenario file may hold" in result.stderr, result


def test_usage_errors_exit_2_with_one_line(tmp_path):
    write(tmp_path, "peer.yaml", "command: [my-peer]\n")
    for args, fragment in [
        # A directory opens but does not read: said so (not "is empty", not
        # read as an empty run: map).
        (["matrix", "--real", "--program", "."], "--program: cannot read .: Is a directory"),
        (["matrix", "--real", "--program", "peer.yaml", "--service", "s=."],
         "--service: cannot read .: Is a directory"),
        (["matrix", "--real", "--program", "missing.yaml"],
         "--program: cannot read missing.yaml: No such file or directory"),
        (["run"], "give at least one scenario file"),
        (["run", "x.yaml", "--sed", "1"], "unrecognised option '--sed'"),
        (["matrix", "--nats", "full-cone,open"], "'open' is not a NAT preset"),
        (["matrix", "--nats", "full-cone,full-cone"], "'full-cone' is given twice"),
        (["matrix", "--duration", "60"], "is not a duration"),
        (["bench", "--only", "everything"], "'everything' is not a workload"),
        (["bench", "--nodes", "3"], "--nodes: must be from 4 to 100000"),
        (["bench", "--memory-limit", "-1"], "--memory-limit: must be at most 1073741824"),
        (["demo", "extra"], "punchlab demo:"),
    ]:
        result = punchlab(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], (args, result.stderr)


def test_matrix_writes_a_list_of_cells_that_each_ran(tmp_path):
    out = tmp_path / "m"
    result = punchlab("matrix", "--nats", "full-cone,symmetric", "--duration", "20s",
                      "--out", str(out), "--jobs", "2")
    assert result.returncode == 0, result
    cells = json.loads((out / "matrix.json").read_text())
    assert [(c["a"], c["b"]) for c in cells] == [
        ("full-cone", "full-cone"), ("full-cone", "symmetric"),
        ("symmetric", "full-cone"), ("symmetric", "symmetric")]
    by_pair = {(c["a"], c["b"]): c for c in cells}
    # Two symmetric NATs leave no hole to punch; a full cone lets anything in.
    assert by_pair[("symmetric", "symmetric")]["path"] == "derp"
    assert by_pair[("symmetric", "symmetric")]["time_to_direct_s"] is None
    assert by_pair[("full-cone", "symmetric")]["path"] == "direct"
    for c in cells:
        own = json.loads((out / c["results"] / "results.json").read_text())
        [pair] = own["pairs"]
        assert pair["final_path"] == c["path"]
        assert pair["time_to_direct_s"] == c["time_to_direct_s"]
    assert "| **symmetric** |" in (out / "matrix.md").read_text()
    assert "<table>" in (out / "matrix.html").read_text()
    # One junit.xml for the whole grid, a suite per cell with its wall time
    # (the cells ran side by side, none wrote its own run-level file).
    root = ET.parse(out / "junit.xml").getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [Path(c["results"]).name for c in cells]
    assert all(float(s.get("time")) > 0 and s.find("testcase").get("name") == "run"
               for s in suites)
    assert root.get("errors") == "0"
    assert not (out / "cells" / "junit.xml").exists()


def test_bench_prints_its_numbers_as_json():
    result = punchlab("bench", "--only", "matrix", "--json")
    assert result.returncode == 0, result
    [matrix] = json.loads(result.stdout)["benchmarks"]
    assert matrix["name"] == "matrix"
    assert matrix["simulated_s"] == 16 * 60
    assert matrix["events"] > 0 and matrix["wall_s"] > 0 and matrix["peak_rss_mib"] > 0
    assert matrix["cpu_s"] > 0  # the cells' CPU (the bench's own is not counted)
    assert matrix["outcome"].startswith("16 cells ran") and "0 failed" in matrix["outcome"]


def test_bench_measures_small_tailnets_and_crowds_in_children_and_stops_at_the_limit():
    result = punchlab("bench", "--only", "tailnet", "--tailnet", "8,12", "--json")
    assert result.returncode == 0, result
    out = json.loads(result.stdout)
    small, large = out["benchmarks"]
    assert (small["name"], small["nodes"], large["nodes"]) == ("tailnet-8", 8, 12)
    # Every pair of a small tailnet is listed (28 of 8 nodes), talking or
    # not (sim/results/README.md: beyond 10,000 possible pairs only the pairs
    # that talk or are checked are listed); the 4 that never talk (each node
    # sends to the next 3) are counted apart, not as pairs on DERP.
    assert small["outcome"].startswith("24 pairs with traffic: ") and not small["stopped"]
    assert small["outcome"].endswith("; 4 listed pairs without traffic")
    assert small["goal_wall_s"] == 20 and small["goal_rss_mib"] == 1024
    assert small["peak_rss_mib"] > 0 and small["wall_ms_per_node"] > 0
    assert "cost per node, tailnet 8 -> 12" in out["cost_per_node"]
    result = punchlab("bench", "--only", "crowd", "--crowd", "8,12", "--json")
    out = json.loads(result.stdout)
    crowd, larger = out["benchmarks"]
    assert crowd["name"] == "crowd-8" and crowd["outcome"].startswith("12 pairs with traffic: ")
    assert larger["name"] == "crowd-12" and larger["outcome"].startswith("18 pairs with traffic: ")
    assert "without traffic" not in crowd["outcome"]
    assert crowd["goal_wall_s"] == 300 and crowd["goal_rss_mib"] == 8192
    # CPU beside wall (a busy machine inflates the wall time), per node too,
    # and the cost per node from the smaller crowd to the larger.
    assert 0 < crowd["cpu_s"] and 0 < crowd["cpu_ms_per_node"]
    assert out["crowd_cost_per_node"].startswith("cost per node, crowd 8 -> 12: wall x ")
    assert "cpu x " in out["crowd_cost_per_node"] and "cost_per_node" not in out
    # A workload far from its goal is stopped at --limit times it, and says so.
    result = punchlab("bench", "--only", "tailnet", "--tailnet", "400", "--limit", "0.001")
    assert result.returncode == 0, result
    assert "stopped after 0 s, unfinished (goal <= 20 s: missed)" in result.stdout


def test_bench_says_which_lost_probes_never_left_their_sender():
    # In a fully visible tailnet a flow's first probe can be due before the
    # control batch naming its peer arrives: the sender refuses it (path
    # none). The outcome says so apart from loss on the way; in this
    # workload nothing is lost on the wire (bench/README.md, "Session 14
    # (loss21)"), so every lost probe is one that never left. Since control
    # messages are compressed (Session 16, zstd16) netmaps arrive sooner and a
    # tailnet of 100 loses none; one of 200 still loses 3.
    result = punchlab("bench", "--only", "tailnet", "--tailnet", "200", "--json")
    assert result.returncode == 0, result
    [tailnet] = json.loads(result.stdout)["benchmarks"]
    found = re.search(r"; (\d+) of (\d+) probes lost \((\d+) of them never left: the sender "
                      r"had no path to the peer yet\)", tailnet["outcome"])
    assert found, tailnet["outcome"]
    lost, sent, never_left = (int(g) for g in found.groups())
    assert sent == 200 * 3 * 59 and 0 < never_left == lost


def test_bench_measures_the_tailnet_with_access_rules_beside_it():
    # Each node may reach the next 3: it is told only those and the 3 before
    # it, and the workload has its own line of cost per node.
    result = punchlab("bench", "--only", "tailnet-acl", "--tailnet", "8,12", "--json")
    assert result.returncode == 0, result
    out = json.loads(result.stdout)
    small, large = out["benchmarks"]
    assert (small["name"], small["nodes"], large["name"]) == ("tailnet-acl-8", 8, "tailnet-acl-12")
    assert small["outcome"].startswith("24 pairs with traffic: ") and not small["stopped"]
    assert small["goal_wall_s"] == 20 and small["goal_rss_mib"] == 1024
    assert "access rules" in small["workload"]
    assert out["tailnet_acl_cost_per_node"].startswith("cost per node, tailnet-acl 8 -> 12: ")
    assert "cost_per_node" not in out  # the fully visible tailnet did not run
    printed = punchlab("bench", "--only", "tailnet-acl", "--tailnet", "8", "--print-scenario")
    assert printed.returncode == 0, printed
    assert "  acls:\n    - {src: [n00000], dst: [n00001, n00002, n00003]}\n" in printed.stdout
    plain = punchlab("bench", "--tailnet", "8", "--print-scenario").stdout
    assert "acls" not in plain


def test_bench_refuses_a_size_the_scenario_loader_cannot_hold():
    # 40,000 nodes make a scenario larger than the loader takes (4 MiB, about
    # 14,000 nodes): refused before any workload runs, with the sizes and how
    # many of that workload fit.
    for args, flag in [(["--only", "tailnet", "--tailnet", "8,40000"], "--tailnet"),
                       (["--only", "crowd", "--crowd", "40000"], "--crowd"),
                       (["--tailnet", "40000", "--print-scenario"], "--tailnet")]:
        result = punchlab("bench", *args)
        assert result.returncode == 2, result
        assert result.stdout == ""
        assert (f"{flag}: 40000 nodes make a scenario of " in result.stderr
                and "more than the scenario loader takes (4194304 bytes" in result.stderr
                and "about 14,000 nodes of this workload fit" in result.stderr), result.stderr
    # With access rules a node takes more text: fewer fit (14,000 make 4,693,873 bytes).
    result = punchlab("bench", "--only", "tailnet-acl", "--tailnet", "14000")
    assert result.returncode == 2, result
    assert "about 12,000 nodes of this workload fit" in result.stderr, result.stderr


def test_bench_reports_a_failed_workload_and_goes_on_to_the_next():
    # 200 nodes do not fit in 100 MiB of address space: the bench says so
    # beside that workload, in words, runs the next, and ends non-zero.
    result = punchlab("bench", "--only", "tailnet", "--tailnet", "200,8", "--memory-limit", "100")
    assert result.returncode == 4, result
    failed_text, small_text = result.stdout.split("tailnet-8:")
    assert "tailnet-200:" in failed_text and "  FAILED after " in failed_text
    assert "wall " in small_text and "24 pairs with traffic" in small_text
    assert "1 of 2 workloads failed" in result.stderr


def test_bench_prints_the_scenario_a_workload_runs(tmp_path):
    # To profile one workload alone: the same YAML, loadable as a user's file.
    result = punchlab("bench", "--tailnet", "8,12", "--print-scenario")
    assert result.returncode == 0, result
    assert result.stdout.count("{behind: nat") == 8
    assert "domains: [tailnet00000]" in result.stdout
    # The control server gathers a tailnet's changes as headscale does by
    # default (control.batch_delay), unless asked not to.
    assert "  batch_delay: 800ms\n" in result.stdout
    unbatched = punchlab("bench", "--tailnet", "8", "--batch-delay", "0s", "--print-scenario")
    assert unbatched.returncode == 0 and "batch_delay" not in unbatched.stdout
    scenario = write(tmp_path, "tailnet-8.yaml", result.stdout)
    assert punchlab("validate", scenario).returncode == 0
    crowd = punchlab("bench", "--only", "crowd", "--crowd", "8", "--print-scenario").stdout
    assert "domains: [tailnet00000, tailnet00001]" in crowd


def test_bench_fails_a_workload_that_outgrows_its_memory_cap_and_goes_on():
    # 200 nodes need about 130 MiB resident (and ~50 MiB of mapped binary):
    # capped at 100 MiB of address space the child's allocation fails where it
    # happens, the bench reports why, and the next workload runs under the
    # same cap (8 nodes fit in 70 MiB).
    result = punchlab("bench", "--only", "tailnet", "--tailnet", "200,8",
                      "--memory-limit", "100", "--json")
    assert result.returncode == 4, result
    failed, small = json.loads(result.stdout)["benchmarks"]
    assert failed["name"] == "tailnet-200" and failed["failed"] is True
    assert failed["error"] == ("out of memory: its address space is capped at 100 MiB "
                               "(--memory-limit), and the workload needed more")
    assert 0 < failed["peak_rss_mib"] < 100 and "events" not in failed
    assert small["name"] == "tailnet-8" and small["failed"] is False
    assert small["outcome"].startswith("24 pairs with traffic")
    assert "1 of 2 workloads failed" in result.stderr
    # In words, beside the workload.
    result = punchlab("bench", "--only", "crowd", "--crowd", "200", "--memory-limit", "90")
    assert result.returncode == 4, result
    assert "crowd-200:" in result.stdout and "  FAILED after " in result.stdout
    assert "out of memory: its address space is capped at 90 MiB" in result.stdout


def test_bench_never_lifts_a_tighter_cap_it_was_given():
    # Under prlimit --as (or a shell's ulimit -v) the bench's children keep
    # the tighter cap and say which one they had: the flag cannot raise it.
    def cap_at_130_mib():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (130 << 20, 130 << 20))

    result = subprocess.run([BIN, "bench", "--only", "tailnet", "--tailnet", "200",
                             "--memory-limit", "4096", "--json"], capture_output=True,
                            text=True, timeout=120, preexec_fn=cap_at_130_mib)
    assert result.returncode == 4, result
    [failed] = json.loads(result.stdout)["benchmarks"]
    assert failed["error"].startswith("out of memory: its address space is capped at 130 MiB")


def test_bench_caps_the_matrix_cells_too():
    # Each cell is a `punchlab run` child that inherits the cap; one that
    # cannot run under it is named, with the cap. (Which cell is first to
    # fail depends on the allocator: with heap huge pages the first cells may
    # fit in the free part of the heap they were forked with.)
    result = punchlab("bench", "--only", "matrix", "--memory-limit", "40", "--json")
    assert result.returncode == 4, result
    [matrix] = json.loads(result.stdout)["benchmarks"]
    assert matrix["failed"] is True
    assert re.match(r"cell [a-z-]+ -- [a-z-]+ did not run: ", matrix["error"]), matrix["error"]
    assert matrix["error"].endswith("(each cell's address space was capped at 40 MiB: "
                                    "--memory-limit)")


REBOOT = """\
stop_time: 60s
internet: {latency: 20ms}
derp: {regions: [{id: 1, name: fra, latency: 10ms}]}
nats:
  home: {preset: port-restricted-cone, ports: random}
  office: {preset: full-cone}
nodes:
  laptop: {behind: home}
  server: {behind: office}
traffic:
  - {from: laptop, to: server, start: 1s, every: 100ms}
  - {from: server, to: laptop, start: 1s, every: 100ms}
events:
  - {at: 30s, nat: home, action: reboot}
expect:
  - {between: [laptop, server], time_to_direct_max: 1s, from: 30s}
"""


def test_time_to_direct_after_a_nat_reboot_fails_on_what_crossed_the_wire(tmp_path):
    """The issue's false pass: the nodes keep their direct path through the
    reboot, the probes over it die; the check must fail (exit 1) and report
    when a probe crossed the direct path both ways again."""
    scenario = write(tmp_path, "reboot.yaml", REBOOT)
    result = punchlab("run", scenario, "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result
    verdict = json.loads((tmp_path / "out" / "reboot" / "results.json").read_text())["expectations"][0]
    assert verdict["ok"] is False and verdict["observed_value"] > 1.0, verdict
    assert "first round trip direct both ways: probe sent at" in verdict["observed"]
    assert "the nodes were on direct from 30s" in verdict["observed"]
    rows = (tmp_path / "out" / "reboot" / "latency.csv").read_text().splitlines()[1:]
    sent_at = 30.0 + verdict["observed_value"]
    # The probe it names is in latency.csv, direct both ways; before it, from
    # 30 s on, none was.
    first = [r.split(",") for r in rows if abs(float(r.split(",")[0]) - sent_at) < 1e-6]
    assert any(f[4] == f[5] == "direct" for f in first), first
    between = [r.split(",") for r in rows if 30.0 <= float(r.split(",")[0]) < sent_at - 1e-6]
    assert between and not any(f[6] == "direct" for f in between)
    assert any(f[6] == "lost" for f in between)
