"""The protocol codecs and keys through punchlab.stun, punchlab.disco and
punchlab.keys: RFC 5769 vectors, round trips, sealing between two disco
keys, and the errors a script gets for bad bytes."""

import pytest

import punchlab
from punchlab import disco, keys, stun

RFC5769_V4_RESPONSE = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96")


def test_stun_decodes_the_rfc5769_ipv4_response():
    assert stun.looks_like_stun(RFC5769_V4_RESPONSE)
    msg = stun.Message.decode(RFC5769_V4_RESPONSE)
    assert msg.cls == stun.MessageClass.SUCCESS_RESPONSE and msg.method == stun.METHOD_BINDING
    # The 16 bytes after the length: magic cookie and the 96-bit id.
    assert msg.transaction_id == bytes.fromhex("2112a442b7e7a701bc34d686fa87dfae")
    assert str(msg.mapped_endpoint()) == "192.0.2.1:32853"
    assert msg.software == "test vector"  # 11 bytes, then one byte of padding
    assert msg.fingerprint


def test_stun_fingerprint_mismatch_raises_with_the_reason():
    broken = RFC5769_V4_RESPONSE[:-1] + bytes([RFC5769_V4_RESPONSE[-1] ^ 1])
    with pytest.raises(stun.StunDecodeError, match="fingerprint"):
        stun.Message.decode(broken)
    with pytest.raises(ValueError):  # StunDecodeError is a ValueError
        stun.Message.decode(b"\x00\x01")


def test_stun_binding_request_round_trip():
    rng = keys.DeterministicRandom(7)
    req = stun.Message.binding_request(rng=rng)
    req.software = "punchlab-test"
    req.change_request = stun.ChangeRequest(change_ip=True)
    wire = req.encode()
    back = stun.Message.decode(wire)
    assert back.cls == stun.MessageClass.REQUEST and back.transaction_id == req.transaction_id
    assert back.software == "punchlab-test" and back.change_request == stun.ChangeRequest(True, False)
    assert not back.classic
    # A seeded source draws the same transaction id again.
    assert stun.Message.binding_request(rng=keys.DeterministicRandom(7)).transaction_id == req.transaction_id


def test_endpoints():
    e = punchlab.Endpoint("198.51.100.7:41641")
    assert (e.ip, e.port, str(e)) == ("198.51.100.7", 41641, "198.51.100.7:41641")
    assert punchlab.Endpoint("2001:db8::1", 5) == punchlab.Endpoint("[2001:db8::1]:5")
    with pytest.raises(ValueError, match="not an endpoint"):
        punchlab.Endpoint("198.51.100.7")


def test_keys_generate_parse_and_determinism():
    a = keys.NodePrivateKey.generate(keys.DeterministicRandom(1))
    b = keys.NodePrivateKey.generate(keys.DeterministicRandom(1))
    assert a.public == b.public
    assert keys.NodePrivateKey.generate().public != a.public  # OS randomness
    text = str(a.public)
    assert text.startswith("nodekey:") and len(text) == len("nodekey:") + 64
    assert keys.NodePublicKey.parse(text) == a.public
    assert keys.NodePrivateKey.parse(a.to_secret_string()).public == a.public
    assert "privkey" not in repr(a)  # never printed
    with pytest.raises(ValueError, match="expected 'discokey:'"):
        keys.DiscoPublicKey.parse(text)
    assert len(a.public.raw) == 32 and keys.NodePublicKey.from_bytes(a.public.raw) == a.public


def test_disco_messages_round_trip():
    rng = keys.DeterministicRandom(3)
    node = keys.NodePrivateKey.generate(rng).public
    ping = disco.Ping(node_key=node, padding=10, rng=rng)
    assert len(ping.txid) == 12
    assert disco.decode_message(disco.encode_message(ping)) == ping
    cmm = disco.CallMeMaybe(["198.51.100.1:41641", "[2001:db8::2]:41641"])
    assert disco.decode_message(disco.encode_message(cmm)) == cmm
    pong = disco.Pong(ping.txid, punchlab.Endpoint("203.0.113.9:1234"))
    assert disco.decode_message(disco.encode_message(pong)).source == pong.source
    with pytest.raises(disco.DiscoError):
        disco.decode_message(b"\x7f\x00")


def test_disco_sealer_between_two_keys():
    rng = keys.DeterministicRandom(11)
    alice = disco.Sealer(keys.DiscoPrivateKey.generate(rng))
    bob = disco.Sealer(keys.DiscoPrivateKey.generate(rng))
    ping = disco.Ping(rng=rng)
    with pytest.raises(disco.DiscoError, match="not a registered peer"):
        alice.seal(bob.public_key, ping, rng=rng)
    assert alice.add_peer(bob.public_key) == disco.AddPeerResult.ADDED
    assert bob.add_peer(alice.public_key) == disco.AddPeerResult.ADDED
    packet = alice.seal(bob.public_key, ping, rng=rng)
    assert disco.looks_like_disco(packet)
    sender, msg = bob.open(packet)
    assert sender == alice.public_key and msg == ping
    tampered = packet[:-1] + bytes([packet[-1] ^ 1])
    with pytest.raises(disco.DiscoError):
        bob.open(tampered)
    assert bob.stats["opened"] == 1 and alice.stats["sealed"] == 1
