#!/usr/bin/env python3
"""Writes the parser targets' seed corpora (corpus/NAME/) from the tests'
vectors: the STUN messages in tests/unit/stun/message-test.cc (RFC 5769 and
captures of stund, the Vovida client and coturn), DERP frames and the HTTP
upgrade as the protocol sends them, disco plaintexts, control messages' JSON
(and the corners where the codec's two parsers meet), key/duration/endpoint
text from PROTOCOL.md's forms, the inputs that once hung the scenario
loader (which also reads every scenario and fixture where it is:
scenario-loader.seed-dirs), and miniupnpd's captured UPnP answers. The
machine targets' corpora (derp-server, derp-client, control-server,
control-client) are fuzzer-made: their inputs
are scripts for the harness, merged to a minimal set after a run
(README.md). Run from anywhere: python3 tests/fuzz/make-seeds.py
"""
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def put(target, name, data):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def stun():
    text = (ROOT / "tests/unit/stun/message-test.cc").read_text()
    # const char* kName = "hex" "hex" ...;
    for m in re.finditer(r'const char\* (k\w+) =((?:\s*"[0-9a-f]+"(?:\s*//[^\n]*)?)+);', text):
        hexes = "".join(re.findall(r'"([0-9a-f]+)"', m.group(2)))
        put("stun", m.group(1), bytes.fromhex(hexes))
    put("stun", "coturn-padding", bytes.fromhex("000105e82112a442a65d6c7e808df3983347d307"
                                                "0003000400000006002605dc") + bytes(1500))
    put("stun", "binding-request", bytes.fromhex("000100002112a442") + bytes(range(12)))
    # Text one byte over RFC 5389's 763 (refused since session 11, when the
    # target found a 1,500-byte USERNAME the encoder asserts on: finding-*).
    for name, t, value in (("software-764", 0x8022, b"a" * 764),
                           ("username-764", 0x0006, b"a" * 764),
                           ("error-reason-764", 0x0009, bytes([0, 0, 4, 20]) + b"a" * 764)):
        attr = t.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
        attr += bytes(-len(attr) % 4)
        cls = "0111" if t == 0x0009 else "0001"
        put("stun", name, bytes.fromhex(cls) + len(attr).to_bytes(2, "big") +
            bytes.fromhex("2112a442b7e7a701bc34d686fa87dfae") + attr)


# FuzzedDataProvider takes integers from the END of the input: the targets'
# control bytes (cut sizes, read size, limits) go last.
FRAMES_CONTROL = bytes([3, 5, 7, 11, 13, 17, 19, 23]) + b"\x01"  # 8 cuts, then "no limit"
HTTP_CONTROL = b"\x00\x07"  # reads of 8 bytes


def frame(t, payload):
    return bytes([t]) + len(payload).to_bytes(4, "big") + payload


def derp():
    key = bytes(range(32))
    magic = bytes.fromhex("44455250f09f9491")
    frames = [
        frame(0x01, magic + key), frame(0x02, key + bytes(24) + b"\x00" * 40),
        frame(0x03, bytes(24 + 16 + 14)), frame(0x04, key + b"hello"),
        frame(0x05, key + b"hello"), frame(0x06, b""), frame(0x07, b"\x01"),
        frame(0x08, key + b"\x01"), frame(0x09, key + bytes(16) + b"\x01\xbb"),
        frame(0x0a, key + key + b"pkt"), frame(0x12, bytes(8)), frame(0x13, bytes(8)),
        frame(0x14, b"degraded"), frame(0x15, bytes(8)),
    ]
    for f in frames:
        put("derp-frames", "frame-%02x" % f[0], f + FRAMES_CONTROL)
    put("derp-frames", "all-frames", b"".join(frames) + FRAMES_CONTROL)
    put("derp-frames", "oversized", bytes([4]) + (1 << 20).to_bytes(4, "big") + FRAMES_CONTROL)
    put("derp-frames", "small-limit", frames[3] + bytes([1, 2, 3, 4, 5, 6, 7, 8, 16, 0]))
    request = (b"GET /derp HTTP/1.1\r\nHost: derp.example\r\nConnection: Upgrade\r\n"
               b"Upgrade: DERP\r\n\r\n")
    response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
                b"Derp-Version: 2\r\nDerp-Public-Key: " + key.hex().encode() + b"\r\n\r\n")
    put("derp-http-upgrade", "request", request + HTTP_CONTROL)
    put("derp-http-upgrade", "request-then-frame", request + frames[3] + HTTP_CONTROL)
    put("derp-http-upgrade", "response", response + frames[0] + HTTP_CONTROL)
    put("derp-http-upgrade", "upgrade-required",
        b"HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\n\r\n" + HTTP_CONTROL)
    put("derp-http-upgrade", "bare-lf", b"GET /derp HTTP/1.1\nHost: x\n\n" + HTTP_CONTROL)


def disco():
    txid = bytes(range(12))
    key = bytes(range(32, 64))
    ping = b"\x01\x00" + txid + key
    pong = b"\x02\x00" + txid + bytes(10) + b"\xff\xff\xc0\x00\x02\x01\x9c\x40"
    cmm = b"\x03\x00" + (bytes(10) + b"\xff\xff\xcb\x00\x71\x05\xa2\x29") * 2
    for sel, mode in ((0, "plain"), (2, "sealed")):
        put("disco", "ping-" + mode, bytes([sel]) + ping)
        put("disco", "ping-padded-" + mode, bytes([sel]) + ping + bytes(100))
        put("disco", "pong-" + mode, bytes([sel]) + pong)
        put("disco", "call-me-maybe-" + mode, bytes([sel]) + cmm)
    put("disco", "packet-header", b"\x01" + bytes.fromhex("5453f09f92ac") + key + bytes(24 + 16 + 2))


def text():
    hexkey = "0123456789abcdef" * 4
    for prefix in ("nodekey:", "privkey:", "discokey:", "discoprivkey:", "mkey:", "idpkey:",
                   "idpprivkey:"):
        put("text", prefix.rstrip(":"), prefix + hexkey)
    for i, t in enumerate(["30s", "1.5s", "250ms", "2m", "1h", "0.000000001s", "100us", "-1s",
                           "203.0.113.1:3478", "[2001:db8::1]:3478", "::ffff:192.0.2.1",
                           "pltoken1.eyJkb21haW4iOiJhLmV4YW1wbGUifQ.AAAA"]):
        put("text", "value-%02d" % i, t)


def portmap():
    # RFC 6886 / 6887 layouts as tests/unit/portmap/codec-test.cc checks them,
    # and the captured PCP MAP answer from Tailscale's pcp_test.go.
    vectors = [
        ("pmp-address-request", "0000"),
        ("pmp-map-request", "00010000ed40000000001c20"),
        ("pmp-address-response", "0080000001020304cb007107"),
        ("pmp-map-response", "00810000000000 10ed40c35000000e10"),
        ("pmp-unsupported-version", "0081000100000005"),
        ("pcp-announce-request", "0200000000000000" + "00000000000000000000ffffc0a8010a"),
        ("pcp-announce-response", "02800002" "0000001e" "00000063" + "00" * 12),
        ("pcp-map-request", "020100000000" "1c20" "00000000000000000000ffffc0a8010a"
         "0102030405060708090a0b0c" "11000000" "a2a9" "0000" "00000000000000000000ffff00000000"),
        ("pcp-map-response-captured", "0281000000001c2000029bed" + "00" * 12 +
         "817009 18f1d0fb2d9d4c0abc" "11000000" "04d204d2" "00000000000000000000ffff87b4aff6"),
    ]
    for name, h in vectors:
        put("portmap", name, bytes.fromhex(h.replace(" ", "")))
    # The same messages are the portmap-server target's dictionary: its
    # inputs are scripts (its corpus is a fuzzer's), whose datagrams the
    # mutator builds from these.
    lines = ["# Written by make-seeds.py from its portmap vectors: NAT-PMP and PCP requests"
             " and answers as the RFCs lay them out."]
    for name, h in vectors:
        data = bytes.fromhex(h.replace(" ", ""))
        lines.append('%s="%s"' % (name.replace("-", "_"), "".join("\\x%02x" % b for b in data)))
    (HERE / "portmap-server.dict").write_text("\n".join(lines) + "\n")


def scenarios():
    # The tree's scenarios and fixtures are seeds where they are
    # (scenario-loader.seed-dirs), so no copy here can go stale.
    # yaml-cpp 0.7's LoadAll loops forever on these (fixed in the loader).
    for i, t in enumerate([",", "---\n,", "# c\n,", "nodes: {}\n---\n,", "&a ,", "[a]\n,"]):
        put("scenario-loader", "stray-comma-%d" % i, t)


def upnp():
    # What miniupnpd 2.3.1 answered (tests/unit/portmap/miniupnpd-2.3.1/):
    # each whole, and each body alone (the XML the description and SOAP
    # parsers read); the target's control bytes (the HTTP cut) go last.
    for path in sorted((ROOT / "tests/unit/portmap/miniupnpd-2.3.1").glob("*.txt")):
        raw = path.read_bytes()
        put("upnp", "miniupnpd-" + path.stem, raw + b"\x00\x40")
        head_end = raw.find(b"\r\n\r\n")
        if raw.startswith(b"HTTP/1.1 200") or raw.startswith(b"HTTP/1.1 500"):
            if head_end >= 0 and not path.stem.startswith("ssdp"):
                put("upnp", "body-" + path.stem, raw[head_end + 4:] + b"\x00\x00")


def control_json():
    # Control messages as the codec writes them (keys sorted, no spaces):
    # each kind with node entries, patches and removals, and the corners
    # where simdjson declines and nlohmann's parser reads (message-reader.h).
    def key(prefix, fill):
        return '"%s:%s"' % (prefix, ("%02x" % fill) * 32)

    def entry(n, home='1'):
        return ('{"address":"100.64.0.%d","disco_key":%s,"endpoints":["198.51.100.%d:41641",'
                '"[2001:db8::%d]:41641"],"home_region":%s,"node_key":%s,"user":"user%d@a.example"}'
                % (n, key("discokey", n + 100), n, n, home, key("nodekey", n), n))
    derp_map = ('{"regions":[{"id":1,"name":"fra","nodes":[{"derp":"203.0.113.10:443","name":"1a",'
                '"public_key":%s,"stun_port":3478}]},{"id":2,"name":"nyc","nodes":[{"cert_name":'
                '"derp.example","derp":"203.0.113.20:443","name":"2a","plain_http":true,'
                '"stun_port":3478}]}]}' % key("nodekey", 9))
    patch = '{"endpoints":["192.0.2.7:1"],"home_region":2,"node_key":%s}' % key("nodekey", 2)
    messages = {
        "netmap": '{"derp_map":%s,"domain":"a.example","peers":[%s,%s],"self":%s,"seq":2,'
                  '"type":"netmap"}' % (derp_map, entry(2), entry(3), entry(1)),
        "peers-changed": '{"changed":[%s],"patched":[%s],"removed":[%s],"seq":3,'
                         '"type":"peers_changed"}' % (entry(4), patch, key("nodekey", 5)),
        "register": '{"challenge":"%s","disco_key":%s,"endpoints":["192.0.2.1:41641"],'
                    '"home_region":1,"seq":1,"token":"t","type":"register"}'
                    % ("ab" * 32, key("discokey", 1)),
        "update": '{"disco_key":%s,"seq":4,"type":"update"}' % key("discokey", 7),
        "ping": '{"seq":5,"type":"ping"}',
        "minus-zero": '{"changed":[%s],"removed":[],"seq":-0,"type":"peers_changed"}'
                      % entry(6, home="-0"),
        "float": '{"seq":1e0,"type":"ping"}',
        "big-integer": '{"seq":18446744073709551616,"type":"ping"}',
        "bom": '\ufeff{"seq":0,"type":"ping"}',
        "duplicate-keys": '{"seq":0,"type":"ping","type":"pong"}',
        "escapes": '{"reason":"a\\u0000\\ud83d\\ude00\\n","seq":0,"type":"goodbye"}',
        "deep": '{"seq":0,"type":"ping","x":%s%s}' % ("[" * 1100, "]" * 1100),
    }
    for name, text in messages.items():
        put("control-json", name, text)


(HERE / "corpus/scenario-loader").mkdir(parents=True, exist_ok=True)
stun()
derp()
disco()
text()
control_json()
portmap()
scenarios()
upnp()
