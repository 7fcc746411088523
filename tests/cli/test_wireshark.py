"""The shipped Wireshark dissector (analysis/wireshark/punchlab.lua) on the
captures `punchlab run --pcap` writes, read by tshark: every disco packet on
a node's link is found and agrees with the run's disco log one for one, the
DERP server's link shows the DERP handshake and the relayed packets frame by
frame, with the disco packets inside them, and with the run's key log
(pcap/disco-keys.log) every sealed disco packet opens to the message the
disco log says it was. The control link shows every control frame: the
hellos in plaintext, and with the run's control key log
(pcap/control-keys.log) every sealed message with its type and key fields,
one for one with what the machines sealed, the server's answers to a
register (which asks for compression) marked zstd. Skipped (77) without
tshark."""

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = os.path.join(os.path.abspath(os.environ.get("PUNCHLAB_BIN_DIR", "")), "punchlab")
SOURCE = Path(__file__).resolve().parents[2]
DISSECTOR = SOURCE / "analysis" / "wireshark" / "punchlab.lua"
TSHARK = shutil.which("tshark")

PAIR = """\
stop_time: 12s
internet: {latency: 20ms}
derp: {regions: [{id: 1, name: fra, latency: 10ms}]}
nats:
  home: {preset: port-restricted-cone}
  office: {preset: port-restricted-cone}
nodes:
  alice: {behind: home}
  bob: {behind: office}
traffic:
  - {from: alice, to: bob, every: 200ms}
"""


def tshark(pcap, *args):
    r = subprocess.run([TSHARK, "-X", f"lua_script:{DISSECTOR}", "-r", str(pcap), *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if TSHARK is None:
        pytest.skip("tshark is not installed (scripts/setup.sh installs Debian's)")
    tmp = tmp_path_factory.mktemp("capture")
    (tmp / "pair.yaml").write_text(PAIR)
    r = subprocess.run([BIN, "run", "-q", "--pcap", "--out", str(tmp / "out"), str(tmp / "pair.yaml")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp / "out" / "pair"
    return out, json.loads((out / "results.json").read_text())["disco_log"]


def test_every_disco_packet_on_a_nodes_link_is_in_the_disco_log(run):
    out, log = run
    # Over UDP: the disco packets relayed in alice's DERP stream are dissected
    # too (through HTTP's upgrade), and the log has those as via derp.
    senders = tshark(out / "pcap" / "node-alice.pcap", "-Y", "udp && punchlab_disco",
                     "-T", "fields", "-e", "punchlab_disco.sender")
    udp = [d for d in log if d["node"] == "alice" and d["via"] == "udp"]
    sent = sum(1 for d in udp if d["what"].endswith("-sent"))
    received = sum(1 for d in udp if d["what"].endswith("-received"))
    assert sent > 0 and received > 0
    # Two senders on alice's link: alice (what she sent) and bob (what reached her).
    assert sorted(collections.Counter(senders).values()) == sorted([sent, received])
    sizes = tshark(out / "pcap" / "node-alice.pcap", "-Y", "udp && punchlab_disco",
                   "-T", "fields", "-e", "punchlab_disco.sealed_len")
    assert all(int(s) >= 16 + 2 for s in sizes)


def test_the_derp_link_shows_the_handshake_and_the_relayed_disco_packets(run):
    out, log = run
    pcap = out / "pcap" / "derp-fra.pcap"
    types = [t for line in tshark(pcap, "-d", "tcp.port==443,punchlab_derp", "-Y", "punchlab_derp",
                                  "-T", "fields", "-e", "punchlab_derp.type")
             for t in line.split(",")]
    counts = collections.Counter(int(t, 16) for t in types)
    # Per client: ServerKey, ClientInfo, ServerInfo; then packets both ways.
    assert counts[0x01] == 2 and counts[0x02] == 2 and counts[0x03] == 2, counts
    assert counts[0x04] > 0 and counts[0x05] > 0
    magic = tshark(pcap, "-d", "tcp.port==443,punchlab_derp", "-Y", "punchlab_derp.magic",
                   "-T", "fields", "-e", "punchlab_derp.magic")
    assert set(m.replace(":", "") for m in magic) == {"44455250f09f9491"}
    # The disco messages relayed over DERP are found inside the frames: every
    # one the log says was sent over DERP is in a SendPacket.
    relayed = tshark(pcap, "-d", "tcp.port==443,punchlab_derp", "-Y", "punchlab_disco",
                     "-T", "fields", "-e", "punchlab_disco.nonce")
    nonces = [n for line in relayed for n in line.split(",")]
    over_derp = sum(1 for d in log if d["via"].startswith("derp") and d["what"].endswith("-sent"))
    # Each relayed disco packet crosses the DERP link twice: SendPacket in, RecvPacket out.
    assert len(nonces) == 2 * over_derp, (len(nonces), over_derp)
    assert all(c == 2 for c in collections.Counter(nonces).values())


def test_with_the_key_log_every_disco_packet_opens_to_what_the_log_says(run):
    out, log = run
    keylog = f"punchlab_disco.keylog:{out / 'pcap' / 'disco-keys.log'}"
    rows = tshark(out / "pcap" / "node-alice.pcap", "-o", keylog, "-Y", "udp && punchlab_disco",
                  "-T", "fields", "-E", "occurrence=l", "-e", "punchlab_disco.type",
                  "-e", "punchlab_disco.txid", "-e", "punchlab_disco.source")
    opened = [r.split("\t") for r in rows]
    assert opened and all(o[0] for o in opened), "a disco packet on alice's link did not open"
    # Every ping and pong on alice's link is one her log has (sent or
    # received over UDP), by txid, and the other way round.
    mine = [d for d in log if d["node"] == "alice" and d["via"] == "udp"]
    for kind, code in (("ping", "0x01"), ("pong", "0x02")):
        on_wire = {o[1].replace(":", "") for o in opened if o[0] == code}
        in_log = {d["txid"] for d in mine if d["what"].startswith(kind)}
        assert on_wire == in_log and on_wire, kind
    # A pong says where its sender saw the ping come from: what alice's log
    # read from it ("it saw us at ...").
    saw = {d["txid"]: d["reason"].split("it saw us at ")[1] for d in log
           if d["node"] == "alice" and d["what"] == "pong-received" and d["via"] == "udp"}
    for o in opened:
        if o[0] == "0x02" and o[1].replace(":", "") in saw:
            assert o[2] == saw[o[1].replace(":", "")]
    # Over DERP: the CallMeMaybes open too, each seen going in and coming out.
    derp = tshark(out / "pcap" / "derp-fra.pcap", "-o", keylog, "-d", "tcp.port==443,punchlab_derp",
                  "-Y", "punchlab_disco", "-T", "fields", "-e", "punchlab_disco.type")
    types = collections.Counter(t for line in derp for t in line.split(","))
    sent = sum(1 for d in log if d["what"] == "call-me-maybe-sent")
    assert sent > 0 and types["0x03"] == 2 * sent, (types, sent)


def control_fields(out, *fields, keylog=True):
    opts = ["-o", f"punchlab_control.keylog:{out / 'pcap' / 'control-keys.log'}"] if keylog else []
    rows = tshark(out / "pcap" / "control.pcap", *opts, "-Y", "punchlab_control", "-T", "fields",
                  "-E", "occurrence=a", "-E", "aggregator=;", "-E", "separator=|",
                  *[a for f in fields for a in ("-e", f)])
    # One row per packet; a packet may carry several frames (aggregated by ";").
    return [r.split("|") for r in rows]


def test_with_the_key_log_every_control_message_shows_its_type_and_fields(run):
    out, _ = run
    sealed = []
    for line in (out / "pcap" / "control-keys.log").read_text().splitlines():
        nonce, message = line.split(" ")
        sealed.append(json.loads(bytes.fromhex(message)))
    # Each sealed frame once on the control link, with the type and seq the
    # machine sealed, plus the two plaintext hellos.
    rows = control_fields(out, "punchlab_control.type", "punchlab_control.seq")
    on_wire = collections.Counter()
    for types, seqs in rows:
        on_wire.update(zip(types.split(";"), (int(s) for s in seqs.split(";"))))
    expected = collections.Counter((m["type"], m["seq"]) for m in sealed)
    expected[("hello", 0)] += 2
    assert on_wire == expected, (on_wire, expected)
    # The handshake and the first netmap per node, and the changes after it.
    types = collections.Counter(t for t, _ in on_wire.elements())
    for t in ("hello", "challenge", "register", "registered", "netmap"):
        assert types[t] == 2, (t, types)
    assert types["update"] > 0 and types["peers_changed"] > 0, types
    # Key fields: who registered as whom, where; each netmap's own key is a
    # hello's, and peers are the other node.
    registered = control_fields(out, "punchlab_control.user", "punchlab_control.domain",
                                "punchlab_control.address")
    regs = [r for r in registered if r[0]]
    assert sorted(r[0] for r in regs) == ["alice", "bob"], regs
    # (a netmap in the same packet names its domain and the node's address too)
    assert all(set(r[1].split(";")) == {"default"} for r in regs), regs
    assert all(a.startswith("100.") for r in regs for a in r[2].split(";")), regs
    hellos = [r[1] for r in control_fields(out, "punchlab_control.type", "punchlab_control.node_key")
              if r[0] == "hello"]
    assert len(set(hellos)) == 2 and all(k.startswith("nodekey:") for k in hellos), hellos
    selves = {m["self"]["node_key"] for m in sealed if m["type"] == "netmap"}
    assert selves == set(hellos)
    peers = control_fields(out, "punchlab_control.type", "punchlab_control.peer")
    named = {p for t, ps in peers for tt, p in zip(t.split(";"), ps.split(";")) if p}
    assert named == set(hellos), (named, hellos)
    endpoints = [e for r in control_fields(out, "punchlab_control.endpoint") for e in r[0].split(";") if e]
    assert endpoints and all(":" in e for e in endpoints), endpoints
    # Each peers_changed shows how many entries it carries whole, as patches
    # (patched, left out of the JSON when empty) and removed, as sealed; the
    # run has patches (updates after both registered), so a dissector that
    # ignored them would show a patch-only message as "0 changed, 0 removed".
    counts = control_fields(out, "punchlab_control.type", "punchlab_control.changed",
                            "punchlab_control.patched", "punchlab_control.removed")
    shown = collections.Counter()
    for _, c, p, r in counts:
        if c:  # the packet has peers_changed frames: one value each
            shown.update(zip(*(map(int, v.split(";")) for v in (c, p, r))))
    said = collections.Counter((len(m["changed"]), len(m.get("patched", [])), len(m["removed"]))
                               for m in sealed if m["type"] == "peers_changed")
    assert shown == said, (shown, said)
    assert any(p > 0 for _, p, _ in said.elements()), said


def test_the_servers_answers_to_a_register_show_compressed(run):
    out, _ = run
    # Every client asks for compression (as Tailscale's), so every frame the
    # server sends after a register holds a zstd frame of its message; the
    # challenge before it and the nodes' own messages are plain.
    rows = control_fields(out, "punchlab_control.type", "punchlab_control.compression",
                          "punchlab_control.message_len", "punchlab_control.sealed_len")
    seen = collections.Counter()
    netmap_sizes = []
    for types, comps, message_lens, sealed_lens in rows:
        if not message_lens:
            continue  # only hellos (plaintext)
        frames = [t for t in types.split(";") if t != "hello"]
        zstd = iter(comps.split(";") if comps else [])
        for t, m, s in zip(frames, message_lens.split(";"), sealed_lens.split(";")):
            boxed = int(s) - 16
            compressed = boxed != int(m)
            if compressed:
                assert next(zstd) == "zstd"
            seen[(t, compressed)] += 1
            if t == "netmap":
                netmap_sizes.append((boxed, int(m)))
    compressed = {t for t, c in seen if c}
    plain = {t for t, c in seen if not c}
    assert {"registered", "netmap", "peers_changed"} <= compressed <= {
        "registered", "netmap", "peers_changed", "pong"}, seen
    assert {"challenge", "register", "update"} <= plain <= {
        "challenge", "register", "update", "ping"}, seen
    # A netmap's JSON (hex keys, field names) shrinks.
    assert netmap_sizes and all(boxed < m for boxed, m in netmap_sizes), netmap_sizes


def test_without_the_key_log_control_frames_show_as_sealed(run):
    out, _ = run
    rows = control_fields(out, "punchlab_control.type", "punchlab_control.sealed_len", keylog=False)
    frames = sum(len(sizes.split(";")) for _, sizes in rows if sizes)
    assert [t for t, _ in rows if t] == ["hello", "hello"]
    sealed = len((out / "pcap" / "control-keys.log").read_text().splitlines())
    assert frames == sealed and sealed > 0, (frames, sealed)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
