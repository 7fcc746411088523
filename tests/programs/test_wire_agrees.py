"""wire_agrees.check() on made-up results: what it holds the wire to, and
when (no root, no lab; real.programs runs it on real runs)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wire_agrees  # noqa: E402

STOP = 20


def run(direct_seconds, switch_at=0.55, handshakes=(), derp_seconds=()):
    """A two-node run of STOP seconds: both nodes say direct from switch_at
    (None: never), the wire delivers direct packets both ways in
    direct_seconds and relayed ones in derp_seconds."""
    timeline = [{"t_s": 0.2, "node": n, "peer": p, "path": "derp", "reason": "derp region",
                 "detail": "derp 1"} for n, p in (("alice", "bob"), ("bob", "alice"))]
    if switch_at is not None:
        timeline += [{"t_s": switch_at, "node": n, "peer": p, "path": "direct", "reason": "pong",
                      "detail": "direct"} for n, p in (("alice", "bob"), ("bob", "alice"))]
    wire = []
    for s in direct_seconds:
        wire += [[s + 0.1, "alice", "bob", "direct", 10, 2000],
                 [s + 0.1, "bob", "alice", "direct", 10, 2000]]
    for s in derp_seconds:
        wire += [[s + 0.1, "alice", "bob", "derp", 10, 2000],
                 [s + 0.1, "bob", "alice", "derp", 10, 2000]]
    disco_log = [{"t_s": t, "node": n, "peer": p, "what": "handshake", "via": "udp",
                  "endpoint": "", "txid": "",
                  "reason": "wireguard: initiated, response came" if initiator
                            else "wireguard: answered an initiation"}
                 for t, n, p, initiator in handshakes]
    return {"stop_time_s": STOP, "timeline": timeline, "wire": wire, "disco_log": disco_log,
            "counters": {}, "notes": []}


ONE_HANDSHAKE = [(0.60, "alice", "bob", False), (0.63, "bob", "alice", True)]
# Both initiate, each answers the other, neither completes; the retry at
# 5.6 s gets through.
CROSSED = [(0.55, "alice", "bob", False), (0.56, "bob", "alice", False),
           (5.60, "alice", "bob", False), (5.63, "bob", "alice", True)]


def test_data_every_second_while_direct_agrees():
    assert wire_agrees.check(run(range(STOP), handshakes=ONE_HANDSHAKE)) == []


def test_a_silent_second_after_the_session_is_a_disagreement():
    seconds = [s for s in range(STOP) if s != 7]
    problems = wire_agrees.check(run(seconds, handshakes=ONE_HANDSHAKE))
    assert len(problems) == 2 and all("second(s) 7" in p for p in problems)


def test_crossed_handshakes_hold_data_back_until_the_retry_gets_through():
    # Only disco crosses (every 3 s) until the session at 5.63 s.
    seconds = [0, 3] + list(range(6, STOP))
    assert wire_agrees.check(run(seconds, handshakes=CROSSED)) == []
    # ... but from the session on, every second counts.
    problems = wire_agrees.check(run([0, 3] + list(range(6, 12)), handshakes=CROSSED))
    assert problems and all("second(s) 12, 13" in p for p in problems)


def test_the_sealed_frame_needs_no_handshake():
    # No handshake in the disco log: data flows from the switch.
    problems = wire_agrees.check(run([0, 3] + list(range(6, STOP))))
    assert problems and all("second(s) 1, 2, 4, 5" in p for p in problems)


def test_a_direct_pair_whose_session_never_completes_disagrees():
    stuck = [(0.55, "alice", "bob", False), (0.56, "bob", "alice", False)]
    never = ("the nodes were direct from 0.550s, but no WireGuard handshake between them ever "
             "completed: no data could flow")
    assert wire_agrees.check(run([0, 3, 6, 9], handshakes=stuck)) == [never]
    # The first direct packets both ways must still come within 1 s of the switch.
    problems = wire_agrees.check(run([6, 9], handshakes=stuck))
    assert problems == ["the nodes went direct at 0.550s, the wire carried packets directly "
                        "both ways only from 6", never]


def test_direct_packets_while_the_nodes_stay_relayed_are_a_disagreement():
    problems = wire_agrees.check(run([4], switch_at=None, derp_seconds=range(STOP)))
    assert problems == ["the nodes never went direct, but the wire delivered packets directly "
                        "from 4s on"]


def test_explain_prints_the_wire_second_by_second(capsys):
    wire_agrees.explain(run([0, 1, 3], handshakes=CROSSED, derp_seconds=[2, 3]))
    out = capsys.readouterr().out
    assert "alice DDRB" in out
    assert "0.550s alice->bob direct (pong: direct)" in out
    assert "data flows from 5.63" in out
    assert "5.630s bob via udp: wireguard: initiated, response came" in out
