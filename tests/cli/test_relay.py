"""punchlab-node's relay and coordination subcommands on loopback (no root):
derp-server (with STUN), derp-bench, raw-relay, control-server, issue-token,
gen-key. Flag errors are one line on stderr and exit 2; servers print one
readiness line, survive garbage, and stop cleanly on SIGTERM.
"""

import base64
import json
import os
import re
import socket
import subprocess
import time

import pytest

from cli_run import (CONTROL_READY, EXIT_RUNTIME, EXIT_USAGE, NODE_BIN, TIMEOUT, Server,
                     assert_one_line_error, node)

IDP_KEY = "idpkey:" + "11" * 32  # only parsed, never verified against
NODE_KEY = "nodekey:" + "33" * 32  # the node a token is issued for
DERP_READY = (r"derp-server listening on (127\.0\.0\.1:\d+)(?:, stun (127\.0\.0\.1:\d+))?, "
              r"key (nodekey:[0-9a-f]{64})(?:, cert (sha256-raw:[0-9a-f]{64}))?$")
RAW_READY = r"raw-relay listening on (127\.0\.0\.1:\d+)$"


def split(endpoint):
    host, port = endpoint.rsplit(":", 1)
    return host, int(port)


def wait_closed(sock, deadline_s=5.0):
    """Reads until the peer closes; returns everything read."""
    sock.settimeout(deadline_s)
    data = b""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError("connection still open after %.1fs" % deadline_s)


NEW_SUBCOMMANDS = ["derp-server", "derp-bench", "raw-relay", "control-server", "issue-token",
                   "gen-key"]


@pytest.mark.parametrize("subcommand", NEW_SUBCOMMANDS)
def test_help_exits_zero(subcommand):
    result = node(subcommand, "--help")
    assert result.returncode == 0, result
    assert result.stdout.startswith("Usage: punchlab-node %s" % subcommand)
    assert result.stderr == ""


def test_top_level_help_lists_the_new_subcommands():
    result = node("--help")
    for name in NEW_SUBCOMMANDS:
        assert re.search(r"^\s+%s\s" % name, result.stdout, re.M), name


@pytest.mark.parametrize("subcommand,args,fragment", [
    ("derp-server", [], "'--listen' is required"),
    ("derp-server", ["--listen", "127.0.0.1"], "--listen: '127.0.0.1' is not an address:port"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--stun", "x"], "--stun: 'x' is not an address"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--private-key", "nodekey:" + "00" * 32],
     "--private-key: not a private node key"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--private-key", "privkey:" + "00" * 32,
                     "--key-file", "/dev/null"], "give at most one of them"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--key-file", "/nonexistent/key"],
     "--key-file: cannot read '/nonexistent/key'"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--key-file", "/dev/null"], "holds no privkey:"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--send-queue-depth", "0"], "at least 1"),
    ("derp-bench", [], "'--server' is required"),
    ("derp-bench", ["--server", "127.0.0.1:1", "--pairs", "0"], "--pairs: must be from 1 to 512"),
    ("derp-bench", ["--server", "127.0.0.1:1", "--size", "8"], "--size: must be from 16"),
    ("derp-bench", ["--server", "127.0.0.1:1", "--duration", "-1"], "--duration: must be"),
    ("derp-bench", ["--server", "127.0.0.1:1", "--window", "1"], "--window: must be at least 2"),
    ("derp-bench", ["--server", "127.0.0.1:1", "--window", "20000"], "at most 16 MiB of them"),
    ("raw-relay", ["--listen", "nowhere"], "--listen: 'nowhere' is not an address:port"),
    ("control-server", ["--listen", "127.0.0.1:0"], "no identity provider to trust"),
    ("control-server", ["--listen", "127.0.0.1:0", "--idp-key", IDP_KEY],
     "--idp-key and --domains: give both or neither"),
    ("control-server", ["--listen", "127.0.0.1:0", "--idp-key", "idpkey:zz", "--domains", "a"],
     "--idp-key: not an identity provider key"),
    ("control-server", ["--listen", "127.0.0.1:0", "--idp-key", IDP_KEY, "--domains", "A_B"],
     "--domains: 'A_B' is not a domain"),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY],
     "--trust: '%s' is not idpkey:HEX=D1,D2" % IDP_KEY),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY + "=a", "--derp", "1:fra"],
     "--derp: '1:fra' is not ID:NAME:ADDR:PORT[:STUNPORT]"),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY + "=a", "--derp",
                        "0:fra:127.0.0.1:1"], "region ID must be a positive integer"),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY + "=a", "--derp",
                        "1:fra:127.0.0.1:1:99999"], "is not ID:NAME:ADDR:PORT"),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY + "=a", "--derp",
                        "1:fra:127.0.0.1:1", "--derp", "1:ams:127.0.0.1:2"],
     "region 1 is called both 'fra' and 'ams'"),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY + "=a", "--derp",
                        "1:fra:127.0.0.1:1,tls"], "--derp: unknown option 'tls'"),
    ("control-server", ["--listen", "127.0.0.1:0", "--trust", IDP_KEY + "=a", "--derp",
                        "1:fra:127.0.0.1:1,plain-http,insecure-for-tests"],
     "plain-http takes no TLS option"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--plain-http", "--tls-cert", "/x"],
     "--plain-http: not with --tls-cert/--tls-key"),
    ("derp-server", ["--listen", "127.0.0.1:0", "--tls-cert", "/x"],
     "--tls-cert and --tls-key: give both or neither"),
    ("derp-client", ["--server", "127.0.0.1:1", "--cert-name", "sha256-raw:12"],
     "--cert-name: 'sha256-raw:12' is not sha256-raw:<64 hex>"),
    ("derp-client", ["--server", "127.0.0.1:1", "--plain-http", "--insecure-for-tests"],
     "--plain-http: not with --cert-name/--insecure-for-tests"),
    ("derp-bench", ["--server", "127.0.0.1:1", "--raw", "--insecure-for-tests"],
     "--raw: a raw-relay has no TLS"),
    ("issue-token", ["--user", "u", "--domain", "d", "--node-key", NODE_KEY],
     "'--idp-private-key' is required"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u",
                     "--domain", "d"], "'--node-key' is required"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u",
                     "--domain", "d", "--node-key", "nodekey:" + "00" * 32],
     "--node-key: not a node public key"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u",
                     "--domain", "d", "--node-key", "privkey:" + "33" * 32],
     "--node-key: not a node public key"),
    ("issue-token", ["--idp-private-key", IDP_KEY, "--user", "u", "--domain", "d",
                     "--node-key", NODE_KEY],
     "--idp-private-key: not an identity provider private key"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u v",
                     "--domain", "d", "--node-key", NODE_KEY], "--user: 'u v' is not a user name"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u",
                     "--domain", "D", "--node-key", NODE_KEY], "--domain: 'D' is not a domain"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u",
                     "--domain", "d", "--valid-for", "1y", "--node-key", NODE_KEY], "--valid-for: '1y' is not a duration"),
    ("issue-token", ["--idp-private-key", "idpprivkey:" + "22" * 32, "--user", "u",
                     "--domain", "d", "--valid-for", "0s", "--node-key", NODE_KEY], "--valid-for: must be a duration above 0"),
    ("gen-key", [], "'--kind' is required"),
    ("gen-key", ["--kind", "disco"], "--kind: 'disco' is not a key kind"),
])
def test_usage_errors_are_one_line(subcommand, args, fragment):
    assert_one_line_error(node(subcommand, *args), EXIT_USAGE, subcommand, fragment)


def test_derp_bench_without_a_server_is_a_runtime_error():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = node("derp-bench", "--server", "127.0.0.1:%d" % port, "--connect-timeout", "0.5")
    assert_one_line_error(result, EXIT_RUNTIME, "derp-bench",
                          "only 0 of 2 clients connected to 127.0.0.1:%d within 500ms" % port)


def test_gen_key_pairs_match_what_servers_announce(tmp_path):
    result = node("gen-key", "--kind", "node")
    assert result.returncode == 0, result
    private, public = result.stdout.split()
    assert re.fullmatch(r"privkey:[0-9a-f]{64}", private)
    assert re.fullmatch(r"nodekey:[0-9a-f]{64}", public)
    key_file = tmp_path / "derp.key"
    key_file.write_text(result.stdout)
    for flags in (["--private-key", private], ["--key-file", str(key_file)]):
        with Server(DERP_READY, "derp-server", "--listen", "127.0.0.1:0", *flags) as derp:
            assert derp.match.group(3) == public
    idp = json.loads(node("gen-key", "--kind", "idp", "--json").stdout)
    assert re.fullmatch(r"idpprivkey:[0-9a-f]{64}", idp["private"])
    assert re.fullmatch(r"idpkey:[0-9a-f]{64}", idp["public"])


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_issue_token_expires_on_the_unix_clock():
    idp = json.loads(node("gen-key", "--kind", "idp", "--json").stdout)
    before = time.time_ns()
    result = node("issue-token", "--idp-private-key", idp["private"], "--user", "alice",
                  "--domain", "lab.example", "--node-key", NODE_KEY, "--valid-for", "1h",
                  "--json")
    after = time.time_ns()
    assert result.returncode == 0, result
    out = json.loads(result.stdout)
    assert out["issuer"] == idp["public"]
    prefix, claims, signature = out["token"].split(".")
    assert prefix == "pltoken1"
    assert len(b64url(signature)) == 64
    claims = json.loads(b64url(claims))
    assert claims == {"domain": "lab.example", "expires": out["expires_unix_ns"],
                      "node_key": NODE_KEY, "user": "alice"}
    assert out["node_key"] == NODE_KEY
    hour = 3600 * 10**9
    assert before + hour <= claims["expires"] <= after + hour
    plain = node("issue-token", "--idp-private-key", idp["private"], "--user", "alice",
                 "--domain", "lab.example", "--node-key", NODE_KEY, "--valid-for", "90")
    assert re.fullmatch(r"pltoken1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n", plain.stdout)


def test_derp_server_relays_answers_stun_and_stops_cleanly():
    # TLS by default: a self-signed certificate whose pin the clients check.
    with Server(DERP_READY, "derp-server", "--listen", "127.0.0.1:0", "--stun",
                "127.0.0.1:0") as derp:
        stun = node("stun-probe", derp.match.group(2), "--json")
        assert stun.returncode == 0, stun
        assert json.loads(stun.stdout)["result"] == "success"

        pin = derp.match.group(4)
        assert pin, "a TLS server prints its certificate's pin"
        bench = node("derp-bench", "--server", derp.match.group(1), "--pairs", "2",
                     "--duration", "1", "--cert-name", pin, "--json")
        assert bench.returncode == 0, bench
        report = json.loads(bench.stdout)
        assert report["misdelivered"] == 0
        assert report["packets_delivered"] > 0
        assert report["packets_sent"] >= report["packets_delivered"]
        assert report["disconnects"] == 0
        assert report["pps"] > 0 and report["mbps"] > 0 and report["mbytes_per_s"] > 0
        assert report["tls"] is True
        assert derp.stop() == 0
    assert re.search(r"derp-server stopped by signal 15: 4 connections, 4 clients registered, "
                     r"\d+ packets relayed", derp.stderr), derp.stderr
    assert "1 stun requests" in derp.stderr
    assert "4 tls handshakes, 0 failed" in derp.stderr, derp.stderr


def test_derp_client_refuses_a_certificate_it_did_not_pin():
    with Server(DERP_READY, "derp-server", "--listen", "127.0.0.1:0") as derp:
        pin = derp.match.group(4)
        other = "sha256-raw:" + "ab" * 32
        proc = subprocess.Popen([NODE_BIN, "derp-client", "--server", derp.match.group(1),
                                 "--cert-name", other], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        events = [json.loads(proc.stdout.readline()) for _ in range(2)]
        proc.stdin.close()
        proc.wait(timeout=TIMEOUT)
        assert events[0]["event"] == "tls_failed", events
        assert "is not the pinned " + other in events[0]["reason"], events
        assert events[1] == {"event": "disconnected", "reason": "connect failed"}, events
        good = subprocess.Popen([NODE_BIN, "derp-client", "--server", derp.match.group(1),
                                 "--cert-name", pin, "--server-key", derp.match.group(3)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        connected = json.loads(good.stdout.readline())
        good.stdin.close()
        good.wait(timeout=TIMEOUT)
        assert connected["event"] == "connected", connected
        assert connected["server_key"] == derp.match.group(3)
        assert derp.stop() == 0
    assert "1 failed" in derp.stderr, derp.stderr


def test_derp_client_refuses_a_command_with_a_raw_nul():
    """A quit, a NUL and more is no command (nlohmann would stop at the NUL
    and quit); the client says so and goes on."""
    proc = subprocess.Popen([NODE_BIN, "derp-client", "--server", "127.0.0.1:1", "--plain-http"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    proc.stdin.write('{"op":"quit"}\0 and more\n')
    proc.stdin.flush()
    errors = []
    while not errors:
        line = proc.stdout.readline()
        assert line, "derp-client ended without an error event"
        event = json.loads(line)
        if event["event"] == "error":
            errors.append(event)
    assert errors == [{"event": "error", "error": "not a JSON command: a raw NUL byte at line 1, "
                       "column 14 (JSON has none; in a string it is written \\u0000)"}]
    assert proc.poll() is None, "it quit"
    proc.stdin.close()  # EOF: quit
    assert proc.wait(timeout=TIMEOUT) == 0


def test_derp_garbage_closes_only_that_connection():
    with Server(DERP_READY, "derp-server", "--listen", "127.0.0.1:0", "--plain-http") as derp:
        host, port = split(derp.match.group(1))
        with socket.create_connection((host, port), timeout=5) as junk:
            junk.sendall(b"\x16\x03\x01" + os.urandom(9000))
            reply = wait_closed(junk)
        assert reply.startswith(b"HTTP/1.1 426"), reply
        bench = node("derp-bench", "--server", derp.match.group(1), "--pairs", "1",
                     "--duration", "0.5", "--plain-http", "--json")
        assert bench.returncode == 0, bench
        assert json.loads(bench.stdout)["misdelivered"] == 0
        assert derp.stop() == 0
    assert "1 protocol errors" in derp.stderr, derp.stderr


def test_raw_relay_baseline_runs():
    with Server(RAW_READY, "raw-relay", "--listen", "127.0.0.1:0") as raw:
        bench = node("derp-bench", "--raw", "--server", raw.match.group(1), "--pairs", "2",
                     "--duration", "0.5", "--json")
        assert bench.returncode == 0, bench
        report = json.loads(bench.stdout)
        assert report["mode"] == "raw"
        assert report["misdelivered"] == 0 and report["packets_delivered"] > 0
        assert raw.stop() == 0
    assert re.search(r"raw-relay stopped by signal 15: 4 connections, 2 pairs", raw.stderr)


def test_control_server_announces_its_key_and_survives_garbage():
    idp = json.loads(node("gen-key", "--kind", "idp", "--json").stdout)
    with Server(CONTROL_READY, "control-server", "--listen", "127.0.0.1:0",
                "--idp-key", idp["public"], "--domains", "a.example,b.example",
                "--derp", "1:fra:127.0.0.1:3340:3478", "--derp", "1:fra:[::1]:3340") as control:
        host, port = split(control.match.group(1))
        for _ in range(2):
            with socket.create_connection((host, port), timeout=5) as junk:
                junk.sendall(os.urandom(5000))
                wait_closed(junk)
        assert control.proc.poll() is None
        assert control.stop() == 0
    assert len(re.findall(r"control-server: connection \d+ closed: ", control.stderr)) == 2
    assert "control-server stopped by signal 15: 2 connections, 0 registrations" in control.stderr


# --acls: every file the server cannot take is one line naming the path and
# why, exit 2, before it listens. A rules file for a domain it does not serve
# (a typo of the meant one) is refused: it would leave the meant one allow-all.
ACL_SERVER = ["--listen", "127.0.0.1:0", "--idp-key", IDP_KEY, "--domains",
              "a.example,b.example"]
GOOD_RULES = '{"a.example": [{"src": ["alice"], "dst": ["bob", "*"]}]}'


@pytest.mark.parametrize("name,text,fragment", [
    (None, None, "cannot read {path}: No such file or directory"),
    ("", None, "cannot read {path}: Is a directory"),
    ("rules.json", "{\"a.example\": [", "{path}: not JSON"),
    ("rules.json", '{"a.example": [{"src": ["no spaces"], "dst": ["*"]}]}',
     "{path}: rule 0 of domain a.example: 'no spaces' is neither * nor a user"),
    ("rules.json", '{"A_Example": []}', "{path}: access rules for 'A_Example', which is not a domain"),
    ("rules.json", '{"a.exmaple": []}',
     "{path}: rules for domain 'a.exmaple', which this server does not serve (its domains: "
     "a.example, b.example)"),
    ("rules.json", '{"a.example": [{"src": ["alice"], "dst": ["bob"]}], "a.example": []}',
     "{path}: domain 'a.example' is listed twice"),
    ("rules.json", '{"a.example": [{"src": ["alice"], "dst": ["bob"], "dst": ["*"]}]}',
     "{path}: a rule names 'dst' twice"),
    # nlohmann would read up to the NUL and ignore the rest.
    ("rules.json", GOOD_RULES + '\n\0{"b.example": []}',
     "{path}: a raw NUL byte at line 2, column 1 (JSON has none"),
])
def test_control_server_acls_usage_errors(tmp_path, name, text, fragment):
    if name is None:
        path = str(tmp_path / "missing.json")
    elif text is None:
        path = str(tmp_path)  # a directory
    else:
        path = str(tmp_path / name)
        (tmp_path / name).write_text(text)
    result = node("control-server", *ACL_SERVER, "--acls", path)
    assert_one_line_error(result, EXIT_USAGE, "control-server",
                          "--acls: " + fragment.format(path=path))


def test_control_server_takes_good_acls(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(GOOD_RULES)
    with Server(CONTROL_READY, "control-server", *ACL_SERVER, "--acls", str(rules)) as control:
        assert control.stop() == 0
