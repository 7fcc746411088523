"""punchlab-node's command line: --help, flag and address errors, exit codes.

Needs no root: the only sockets are on loopback. Every error must be exactly
one line on stderr, start with "punchlab-node <subcommand>:", and exit with
the documented code (2 usage, 4 runtime, 1 an unanswered probe).
"""

import json
import os
import re
import socket
import subprocess
import time

import pytest

from cli_run import (CONTROL_READY, EXIT_EXPECTATION_FAILED, EXIT_RUNTIME, EXIT_USAGE, NODE_BIN,
                     TIMEOUT, Server, assert_one_line_error, node)


def test_binary_exists():
    assert os.access(NODE_BIN, os.X_OK), \
        "set PUNCHLAB_BIN_DIR to the build's sim/ dir (%s)" % NODE_BIN


@pytest.mark.parametrize("subcommand", ["stun-server", "stun-probe", "node"])
def test_help_exits_zero_and_lists_flags(subcommand):
    result = node(subcommand, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: punchlab-node %s" % subcommand)
    assert "--help" in result.stdout
    assert result.stderr == ""


def test_top_level_help_lists_both_subcommands():
    result = node("--help")
    assert result.returncode == 0
    assert re.search(r"^\s+stun-probe\s", result.stdout, re.M)
    assert re.search(r"^\s+stun-server\s", result.stdout, re.M)


def test_unknown_subcommand():
    result = node("stun-frobnicate")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.count("\n") == 1
    assert "unknown subcommand 'stun-frobnicate'" in result.stderr


@pytest.mark.parametrize("args,fragment", [
    ([], "missing SERVER:PORT"),
    (["203.0.113.1"], "'203.0.113.1' is not an address:port"),
    (["stun.example.org:3478"], "is not an address:port"),
    (["203.0.113.1:70000"], "is not an address:port"),
    (["[2001:db8::1]"], "is not an address:port"),
    (["0.0.0.0:3478"], "is not a reachable server address"),
    (["203.0.113.1:3478", "--bogus"], "unrecognised option '--bogus'"),
    (["203.0.113.1:3478", "--timeout"], "'--timeout' is missing"),
    (["203.0.113.1:3478", "--timeout", "abc"], "--timeout: 'abc' is not a duration (write e.g. 30s"),
    (["203.0.113.1:3478", "--timeout", "3 s"], "--timeout: '3 s' is not a duration"),
    (["203.0.113.1:3478", "--timeout", "1.5sec"], "--timeout: '1.5sec' is not a duration"),
    (["203.0.113.1:3478", "--timeout", "-1"], "--timeout: must be a duration above 0 and at most a day"),
    (["203.0.113.1:3478", "--timeout", "0"], "--timeout: must be a duration above 0 and at most a day"),
    (["203.0.113.1:3478", "--timeout", "0ms"], "--timeout: must be a duration above 0"),
    (["203.0.113.1:3478", "--timeout", "25h"], "at most a day (86400s), not '25h'"),
    (["203.0.113.1:3478", "--local", "1.2.3.4"], "--local: '1.2.3.4' is not an address:port"),
    (["203.0.113.1:3478", "--local", "[::1]:0"], "--local: must be the same address family"),
    (["203.0.113.1:3478", "203.0.113.2:3478"], "too many positional options"),
])
def test_stun_probe_usage_errors(args, fragment):
    assert_one_line_error(node("stun-probe", *args), EXIT_USAGE, "stun-probe", fragment)


@pytest.mark.parametrize("args,fragment", [
    ([], "'--listen' is required"),
    (["--listen"], "'--listen' is missing"),
    (["--listen", "203.0.113.1"], "--listen: '203.0.113.1' is not an address:port"),
    (["--listen", "203.0.113.1:3478", "--bogus"], "unrecognised option '--bogus'"),
    (["--listen", "203.0.113.1:3478", "--alternate", "203.0.113.1:3479"],
     "must differ from --listen in both address and port"),
    (["--listen", "203.0.113.1:3478", "--alternate", "203.0.113.2:3478"],
     "must differ from --listen in both address and port"),
    (["--listen", "203.0.113.1:3478", "--alternate", "[2001:db8::2]:3479"],
     "same address family"),
    (["--listen", "0.0.0.0:3478", "--alternate", "203.0.113.2:3479"], "not a wildcard"),
    (["--listen", "203.0.113.1:0", "--alternate", "203.0.113.2:3479"], "not 0"),
    (["--listen", "127.0.0.1:0", "--duration", "soon"], "--duration: 'soon' is not a duration"),
    (["--listen", "127.0.0.1:0", "--duration", "0"], "--duration: must be a duration above 0"),
    (["--listen", "127.0.0.1:0", "--stun-rate-limit", "0"], "--stun-rate-limit: must be at least 1"),
    (["--listen", "127.0.0.1:0", "--stun-rate-limit", "5", "--stun-burst", "0"],
     "--stun-burst: must be at least 1"),
])
def test_stun_server_usage_errors(args, fragment):
    assert_one_line_error(node("stun-server", *args), EXIT_USAGE, "stun-server", fragment)


def test_stun_server_bind_failure_is_a_runtime_error():
    # 192.0.2.1 (TEST-NET-1) is not assigned to any interface here.
    result = node("stun-server", "--listen", "192.0.2.1:3478", "--duration", "1")
    assert_one_line_error(result, EXIT_RUNTIME, "stun-server",
                          "bind udp 192.0.2.1:3478: Cannot assign requested address")


def test_stun_server_port_in_use_is_a_runtime_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = node("stun-server", "--listen", "127.0.0.1:%d" % port, "--duration", "1")
    assert_one_line_error(result, EXIT_RUNTIME, "stun-server", "Address already in use")


@pytest.mark.parametrize("timeout", ["0.5", "500ms", "0.5s"])
def test_stun_probe_timeout_is_one_line_and_exit_1(timeout):
    # A bound socket that never answers: the probe must give up on time. The
    # timeout takes a unit; a bare number is seconds, as before units.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        result = node("stun-probe", "127.0.0.1:%d" % port, "--timeout", timeout)
        # It did send: the request is waiting in the silent socket.
        silent.settimeout(1)
        request = silent.recv(2048)
    assert_one_line_error(result, EXIT_EXPECTATION_FAILED, "stun-probe",
                          "no response from 127.0.0.1:%d within 500ms" % port)
    assert request[4:8] == bytes.fromhex("2112a442")


@pytest.mark.parametrize("duration", ["1.5", "1500ms"])
def test_stun_server_duration_takes_units(duration):
    # --duration ends the server on its own after that long (no signal).
    started = time.monotonic()
    result = node("stun-server", "--listen", "127.0.0.1:0", "--duration", duration)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result
    assert "stun-server stopped:" in result.stderr, result.stderr
    assert 1.4 <= elapsed < 10, elapsed


STUN_READY = r"stun-server listening on (127\.0\.0\.1:(\d+))$"


def test_loopback_server_and_probe_agree_and_sigterm_stops_cleanly():
    with Server(STUN_READY, "stun-server", "--listen", "127.0.0.1:0") as server:
        address = server.match.group(1)  # the server prints it before serving
        result = node("stun-probe", address, "--json")
        assert result.returncode == 0, result
        report = json.loads(result.stdout)
        assert report["result"] == "success"
        assert report["mapped"] == report["local"]
        assert report["server"] == address
        assert report["response_origin"] == address
        assert isinstance(report["rtt_ms"], (int, float)) and report["rtt_ms"] >= 0

        text = node("stun-probe", address)
        assert text.returncode == 0, text
        fields = dict(line.split(" ", 1) for line in text.stdout.splitlines())
        assert fields["mapped"] == fields["local"]
        assert float(fields["rtt_ms"]) >= 0
        assert server.stop() == 0, server.stderr
    assert "stun-server stopped by signal 15: 2 requests" in server.stderr


def test_stun_server_rate_limit_drops_and_counts_a_flood():
    # RFC 5389 16.1.1: outside a lab a STUN server is a reflector for spoofed
    # sources; with --stun-rate-limit a source gets its burst, then the rate.
    sent = 50
    with Server(STUN_READY, "stun-server", "--listen", "127.0.0.1:0",
                "--stun-rate-limit", "1", "--stun-burst", "5") as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            started = time.monotonic()
            for i in range(sent):
                # A bare Binding request: type, length 0, magic cookie, id.
                client.sendto(bytes.fromhex("00010000 2112a442".replace(" ", ""))
                              + i.to_bytes(12, "big"), ("127.0.0.1", int(server.match.group(2))))
            elapsed = time.monotonic() - started
            client.settimeout(1.0)
            answered = 0
            try:
                while True:
                    answer = client.recv(2048)
                    assert answer[:2] == bytes.fromhex("0101"), answer  # success response
                    answered += 1
            except socket.timeout:
                pass
        assert server.stop() == 0, server.stderr
    # The burst at once, plus one a second while the flood lasted.
    assert 5 <= answered <= 5 + int(elapsed) + 1, (answered, elapsed)
    err = server.stderr
    assert "stun-server stopped by signal 15: %d requests" % answered in err, err


# A node whose control server never answers (nothing listens on 127.0.0.1:1):
# it is never up.
NEVER_UP = ["node", "--control", "127.0.0.1:1", "--control-key", "nodekey:" + "11" * 32,
            "--token", "t"]
# The peer every test flow sends to (never reached: the node has no netmap).
PEER = "nodekey:" + "ab" * 32


def json_lines(text):
    """punchlab-node --json's output: one event object a line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# A node process comes up milliseconds after the runner meant it to (fork,
# `ip netns exec`, exec). With --start-at it still sends the probes due since
# that instant, at once and in order, as the simulation's node sends them at
# its instant; without it, it resumes at the next slot. Nothing answers on
# 127.0.0.1:1, so the node is never up: --up-deadline 0s starts the flows at
# once (the default waits 5 s for the up), and every probe is "none" (no
# netmap).
@pytest.mark.parametrize("start_at", [None, "0s"])
def test_node_started_late_sends_the_probes_due_since_start_at(start_at):
    epoch_ns = time.time_ns() - 1_000_000_000  # the run began a second ago
    args = [*NEVER_UP, "--listen", "127.0.0.1:0", "--json", "--duration", "1.4s",
            "--epoch-unix-ns", str(epoch_ns),
            "--up-deadline", "0s",
            "--flow", "id=3,to=%s,start=0s,stop=5s,every=100ms,size=40" % PEER]
    if start_at:
        args += ["--start-at", start_at]
    result = node(*args)
    assert result.returncode == 0, result
    lines = json_lines(result.stdout)
    started = next(e for e in lines if e["event"] == "started")
    sent = [e for e in lines if e["event"] == "probe_sent"]
    assert sent and all(e["path"] == "none" and e["flow"] == 3 for e in sent), sent
    seqs = [e["seq"] for e in sent]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    first_due = int(started["at_ms"] // 100) + 1  # the next slot after the start
    if start_at:
        assert seqs[0] == 0
        # The missed ones went at once, not on their (past) slots.
        late = [e for e in sent if e["seq"] < first_due]
        assert len(late) >= 9 and late[-1]["at_ms"] - late[0]["at_ms"] < 50, late
    else:
        assert seqs[0] >= 10, seqs[:3]


# A node's flows start when it is up (registered, home DERP connected: its
# "up" line), plus its turn; one that is never up (nothing answers on
# 127.0.0.1:1) sends from --up-deadline + turn, by default its start + 5 s.
def test_node_never_up_sends_from_its_up_deadline():
    epoch_ns = time.time_ns()
    result = node(*NEVER_UP, "--listen", "127.0.0.1:0", "--json", "--duration", "1.2s",
                  "--epoch-unix-ns", str(epoch_ns), "--start-at", "100ms", "--up-deadline", "700ms",
                  "--flow", "id=0,to=%s,start=0s,stop=5s,every=100ms,size=40,turn=200ms" % PEER)
    assert result.returncode == 0, result
    lines = json_lines(result.stdout)
    assert not [e for e in lines if e["event"] == "up"], lines
    sent = [e for e in lines if e["event"] == "probe_sent"]
    # The deadline (700 ms) plus the turn (200 ms): slot 0, numbered from there.
    assert sent and sent[0]["seq"] == 0 and sent[0]["at_ms"] >= 900, sent[:2]
    assert sent[0]["at_ms"] < 1000, sent[:2]


class ControlServer(Server):
    """A loopback control server with no DERP region: a node that registers
    with it is up at once (nothing to connect to), so a run's own up is real."""

    def __init__(self):
        idp = json.loads(node("gen-key", "--kind", "idp", "--json").stdout)
        self.idp_private = idp["private"]
        super().__init__(CONTROL_READY, "control-server", "--listen", "127.0.0.1:0",
                         "--idp-key", idp["public"], "--domains", "lab.example")
        self.address, self.key = self.match.group(1), self.match.group(2)

    def node_args(self):
        """--control, --control-key, --private-key and --token for a new node."""
        private, public = node("gen-key", "--kind", "node").stdout.split()
        token = node("issue-token", "--idp-private-key", self.idp_private, "--user", "u",
                     "--domain", "lab.example", "--node-key", public, "--valid-for", "1h").stdout
        return ["--control", self.address, "--control-key", self.key, "--private-key", private,
                "--token", token.strip()]


def events(result, name):
    return [e for e in json_lines(result.stdout) if e["event"] == name]


# The real runner's restart: a node process given --up-at (the anchor its
# earlier run's flows started from, that run's flows_anchor line) keeps that
# schedule, even though this run comes up itself (its own up is earlier here:
# registered at once with a DERP-less control server): the first probe is
# slot 0 at up_at + turn, not at this run's up + turn.
def test_restarted_node_keeps_the_anchor_it_is_given_over_its_own_up():
    with ControlServer() as control:
        result = node("node", *control.node_args(), "--listen", "127.0.0.1:0", "--json",
                      "--duration", "1.2s", "--epoch-unix-ns", str(time.time_ns()),
                      "--start-at", "100ms", "--up-deadline", "5s", "--up-at", "600ms",
                      "--flow", "id=0,to=%s,start=0s,stop=5s,every=100ms,size=40,turn=200ms" % PEER)
    assert result.returncode == 0, result
    ups = events(result, "up")
    assert ups and ups[0]["at_ms"] < 600, ups  # its own up came first, and lost
    assert events(result, "flows_anchor") == [
        {"event": "flows_anchor", "at_ms": 600.0, "at_ns": 600000000, "by": "earlier run"}]
    sent = events(result, "probe_sent")
    assert sent and sent[0]["seq"] == 0, sent[:2]
    assert 800 <= sent[0]["at_ms"] < 900, sent[:2]


# A run that comes up after its deadline started its flows from the deadline,
# and says so (flows_anchor "deadline", not its up): a restart given that
# anchor (--up-at, to the nanosecond, as the runner reads it) sends on the
# deadline's grid, as the simulation's node keeps it.
def test_restart_after_a_late_up_keeps_the_deadline_schedule():
    flow = "id=0,to=%s,start=0s,stop=5s,every=100ms,size=40,turn=200ms" % PEER
    epoch_ns = time.time_ns()
    with ControlServer() as control:
        args = control.node_args()
        # The deadline at its start: the up (a round trip or more later) is late.
        first = node("node", *args, "--listen", "127.0.0.1:0", "--json", "--duration", "0.6s",
                     "--epoch-unix-ns", str(epoch_ns), "--start-at", "100ms",
                     "--up-deadline", "100ms", "--flow", flow)
        assert first.returncode == 0, first
        anchors = events(first, "flows_anchor")
        assert anchors == [{"event": "flows_anchor", "at_ms": 100.0, "at_ns": 100000000,
                            "by": "deadline"}], anchors
        ups = events(first, "up")
        assert ups and ups[0]["at_ms"] > 100, ups
        sent = events(first, "probe_sent")
        assert sent and sent[0]["seq"] == 0 and 300 <= sent[0]["at_ms"] < 400, sent[:2]
        # Restarted a little ahead of its instant, as the runner launches it.
        restart_at = (time.time_ns() - epoch_ns) // 10**6 + 150
        restart = node("node", *args, "--listen", "127.0.0.1:0", "--json", "--duration", "0.6s",
                       "--epoch-unix-ns", str(epoch_ns), "--start-at", "%dms" % restart_at,
                       "--up-deadline", "100ms", "--up-at", "%dns" % anchors[0]["at_ns"],
                       "--flow", flow)
    assert restart.returncode == 0, restart
    assert events(restart, "up"), restart.stdout
    assert [a["at_ns"] for a in events(restart, "flows_anchor")] == [100000000]
    sent = events(restart, "probe_sent")
    assert sent and sent[0]["seq"] > 0, sent[:2]
    # Slot k is due at the deadline + turn + k * every: its grid and numbers,
    # not those of the restart's own up (slot 0 at that up + turn).
    for e in sent:
        assert 0 <= e["at_ms"] - (300 + 100 * e["seq"]) < 80, e


# Launched ahead of its instant (the real runner launches nodes 300 ms early),
# the node waits for it before it starts: its first line and first probe come
# at --start-at, not when the process came up.
def test_node_launched_early_waits_for_its_start_at():
    epoch_ns = time.time_ns()
    result = node(*NEVER_UP, "--listen", "127.0.0.1:0", "--json", "--duration", "0.5s",
                  "--epoch-unix-ns", str(epoch_ns), "--start-at", "800ms", "--up-deadline", "0s",
                  "--flow", "id=0,to=%s,start=0s,stop=5s,every=100ms,size=40" % PEER)
    assert result.returncode == 0, result
    lines = json_lines(result.stdout)
    assert lines[0]["event"] == "started" and 800 <= lines[0]["at_ms"] < 900, lines[0]
    sent = [e for e in lines if e["event"] == "probe_sent"]
    # Slot 8 is due at 800 ms: none of the eight before it were this node's to send.
    assert sent[0]["seq"] == 8 and sent[0]["at_ms"] >= 800, sent[:2]


# Gated (the real runner does this where it also acts at the node's instant,
# e.g. undoes an event that must end first): after --start-at the node also
# waits for a line on stdin, and only then starts; the probes due since
# --start-at go at once, as for a node that came up late.
def test_node_with_a_start_gate_waits_for_the_runners_line():
    epoch_ns = time.time_ns()
    proc = subprocess.Popen(
        [NODE_BIN, *NEVER_UP, "--listen", "127.0.0.1:0", "--json", "--duration", "0.3s",
         "--epoch-unix-ns", str(epoch_ns), "--start-at", "200ms", "--start-gate",
         "--up-deadline", "0s",
         "--flow", "id=0,to=%s,start=0s,stop=5s,every=100ms,size=40" % PEER],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.7)
        assert proc.poll() is None, proc.communicate()  # still held at the gate
        released_ms = (time.time_ns() - epoch_ns) / 1e6
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = json_lines(out)
    assert lines[0]["event"] == "started", lines[0]
    assert released_ms <= lines[0]["at_ms"] < released_ms + 200, (released_ms, lines[0])
    sent = [e for e in lines if e["event"] == "probe_sent"]
    # From slot 2 (due at --start-at, 200 ms), the ones missed at the gate at once.
    assert [e["seq"] for e in sent[:5]] == [2, 3, 4, 5, 6], sent[:5]
    assert sent[0]["at_ms"] >= released_ms and sent[4]["at_ms"] - sent[0]["at_ms"] < 50, sent[:5]


# The node's own flags: each mistake is refused before anything is sent.
@pytest.mark.parametrize("args,fragment", [
    ([], "'--control' is required"),
    (["--control", "x", "--control-key", "nodekey:" + "11" * 32, "--token", "t"], "--control: 'x'"),
    (["--control", "127.0.0.1:1", "--control-key", "nodekey:zz", "--token", "t"],
     "--control-key: not a node public key"),
    ([*NEVER_UP[1:], "--every", "fast"], "--every: 'fast' is not a duration"),
    ([*NEVER_UP[1:], "--listen", "0.0.0.0:0"], "--listen: give a specific address"),
    ([*NEVER_UP[1:], "--size", "0"], "--size: must be from 1 to"),
    ([*NEVER_UP[1:], "--start-at", "soon"], "--start-at"),
    ([*NEVER_UP[1:], "--flow", "id=1"], "--flow: 'to' is missing in 'id=1'"),
    ([*NEVER_UP[1:], "--flow", "id=1,to=%s,start=0s,stop=1s,every=1s,size=70000" % PEER],
     "--flow: size='70000' must be a whole number from 0 to 65535"),
    ([*NEVER_UP[1:], "--flow", "id=1,to=%s,start=0s,stop=1s,every=1s,size=65500" % PEER],
     "--flow: size=65500 is above"),
])
def test_node_usage_errors(args, fragment):
    assert_one_line_error(node("node", *args), EXIT_USAGE, "node", fragment)


def test_codec_refuses_a_request_with_a_raw_nul():
    """A request, a NUL and more is not JSON (nlohmann would stop at the NUL
    and serve the request before it); answered as such, and the service goes
    on with the next line."""
    key = '{"op":"key","text":"nodekey:%s"}' % ("33" * 32)
    result = subprocess.run([NODE_BIN, "codec"], input=key + "\0 and more\n" + key + "\n",
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first == {"ok": False, "error": "not JSON: a raw NUL byte at line 1, column %d (JSON "
                     "has none; in a string it is written \\u0000)" % (len(key) + 1)}
    assert second["ok"] is True, second
