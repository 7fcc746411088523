// The DERP server machine fed one connection's bytes. Two honest clients
// (real derp::Client machines, alice and bob) are connected to it; a third
// connection, mallory's, carries the fuzzer's bytes. The first input byte
// chooses whether mallory's bytes start from nothing (the HTTP upgrade and
// ClientInfo parsers) or after a real handshake done for her key (the frame
// handling of a registered client, which a fuzzer could not reach by
// forging a sealed ClientInfo). The rest of the input is a script: mallory
// writes a chunk, an honest client sends a packet, time passes (keepalives,
// handshake deadlines), mallory's connection closes.
//
// The honest set-up (alice and bob connected; mallory's connection open,
// handshaken or not) is built once per process and cloned for each input
// (the machines' Clone(): the same state, fresh random streams), so an input
// pays for its own script, not for the handshakes before it.
//
// Invariants:
//  * a relayed packet reaches only its destination's holder, with the right
//    source: every packet an honest client receives is one that was sent to
//    its key, from the key it is attributed to (mallory's frames are parsed
//    here independently to know what she asked for; a ForwardPacket from her
//    is never a request);
//  * every output parses: the honest clients never see a protocol error, and
//    what the server writes to mallory is an HTTP head and then frames.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "fuzz-addresses.h"
#include "fuzz-check.h"
#include "punchlab/derp/client.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/derp/server.h"
#include "punchlab/random.h"
#include "set-up-coverage.h"
#include "support/server-wiring.h"

using namespace punchlab;
using namespace punchlab::derp;

namespace {

using fuzz::kDerpServerAddr;
using fuzz::Seed;

ClientConfig HonestConfig(const NodePublicKey& server_key) {
  ClientConfig c;
  c.server = kDerpServerAddr;
  c.server_key = server_key;
  return c;
}

// Whose packets to whom: (destination, source) -> packets not yet delivered.
using Expected = std::map<std::pair<NodePublicKey, NodePublicKey>, std::multiset<Bytes>>;

struct Honest {
  Honest(uint8_t seed_byte, const NodePublicKey& server_key)
      : seed(seed_byte),
        rng(seed),
        client(NodePrivateKey(Seed(seed)), rng, HonestConfig(server_key)) {}
  // The same client in the same state, with a fresh random stream.
  Honest(const Honest& other) : seed(other.seed), rng(seed), client(other.client.Clone(rng)) {}
  uint8_t seed;
  DeterministicRandom rng;
  Client client;
};

class World {
 public:
  // alice and bob connected; mallory's connection open, handshaken or not.
  explicit World(bool handshake_mallory)
      : server_rng_(1),
        server_(NodePrivateKey(Seed(1)), server_rng_),
        alice_(2, server_.public_key()),
        bob_(3, server_.public_key()),
        wiring_(server_, kDerpServerAddr, Timestamp::Zero() + Duration::Seconds(1000)) {
    wiring_.AddHonest(alice_.client, Endpoint(IpAddress::V4(203, 0, 113, 2), 40002));
    wiring_.AddHonest(bob_.client, Endpoint(IpAddress::V4(203, 0, 113, 3), 40003));
    Hook();
    wiring_.Do([this](Timestamp now) {
      alice_.client.Start(now);
      bob_.client.Start(now);
    });
    FUZZ_CHECK(alice_.client.connected() && bob_.client.connected());
    wiring_.OpenMallory(Endpoint(IpAddress::V4(198, 18, 0, 66), 6666));
    if (handshake_mallory) HandshakeMallory();
  }

  // A copy of a set-up world (every machine cloned, in the same state) for
  // one input to run on.
  World(const World& set_up)
      : server_rng_(1),
        server_(set_up.server_.Clone(server_rng_)),
        alice_(set_up.alice_),
        bob_(set_up.bob_),
        wiring_(set_up.wiring_, server_, {&alice_.client, &bob_.client}),
        mallory_key_(set_up.mallory_key_),
        mallory_frames_(set_up.mallory_frames_),
        mallory_head_(set_up.mallory_head_),
        mallory_head_done_(set_up.mallory_head_done_),
        to_mallory_frames_(set_up.to_mallory_frames_),
        expected_(set_up.expected_) {
    Hook();
  }

  void MalloryWrites(ByteView bytes) {
    if (!wiring_.mallory_open()) return;
    if (mallory_key_) {
      // Her frames as the server will read them: what she asks to relay.
      mallory_frames_.Feed(bytes);
      while (auto f = mallory_frames_.Next()) {
        if (f->type != FrameType::kSendPacket) continue;
        if (auto send = SendPacketFrame::DecodePayload(f->payload)) {
          expected_[{send->destination, *mallory_key_}].insert(send->packet);
        }
      }
    }
    wiring_.MalloryWrites(bytes);
  }

  void HonestSends(bool from_alice, uint8_t to, Bytes packet) {
    Honest& from = from_alice ? alice_ : bob_;
    const NodePublicKey dst = to % 3 == 0   ? alice_.client.public_key()
                              : to % 3 == 1 ? bob_.client.public_key()
                                            : NodePrivateKey(Seed(4)).Public();
    wiring_.Do([&](Timestamp now) {
      if (from.client.Send(now, dst, packet)) {
        expected_[{dst, from.client.public_key()}].insert(std::move(packet));
      }
    });
  }

  void Advance(Duration d) { wiring_.Advance(d); }
  void MalloryCloses() { wiring_.MalloryCloses(); }

  void CheckEnd() {
    FUZZ_CHECK(alice_.client.stats().protocol_errors == 0);
    FUZZ_CHECK(bob_.client.stats().protocol_errors == 0);
    FUZZ_CHECK(!to_mallory_frames_.failed());
  }

 private:
  void Hook() {
    wiring_.stray = fuzz::CheckStray;
    wiring_.to_mallory = [this](ByteView bytes) { ToMallory(bytes); };
    wiring_.after_round = [this] {
      for (Honest* h : {&alice_, &bob_}) {
        while (auto e = h->client.PollEvent()) CheckDelivery(*h, *e);
      }
      while (auto e = server_.PollEvent()) (void)e;
    };
  }

  void HandshakeMallory() {
    // A real client does mallory's handshake; then her connection is the
    // fuzzer's. The client machine is dropped: only the server's view matters.
    DeterministicRandom rng(4);
    Client m(NodePrivateKey(Seed(4)), rng, HonestConfig(server_.public_key()));
    ConnectionId conn = 0;
    wiring_.to_mallory = [&](ByteView bytes) { m.HandleStream(wiring_.now(), conn, bytes); };
    m.Start(wiring_.now());
    for (int round = 0; round < 16 && !m.connected(); ++round) {
      while (auto a = m.PollStreamAction()) {
        if (a->kind == StreamAction::Kind::kConnect) {
          conn = a->conn;
          m.HandleConnected(wiring_.now(), conn, kDerpServerAddr);
        } else if (a->kind == StreamAction::Kind::kWrite) {
          wiring_.MalloryWrites(a->data);
        }
      }
    }
    FUZZ_CHECK(m.connected());
    wiring_.to_mallory = [this](ByteView bytes) { ToMallory(bytes); };
    mallory_key_ = m.public_key();
    FUZZ_CHECK(mallory_head_.state() == HttpHeadReader::State::kNeedMore);
    mallory_head_done_ = true;  // the head went to her client, not to the capture
  }

  // What the server tells mallory must parse: an HTTP head, then frames.
  void ToMallory(ByteView bytes) {
    if (!mallory_head_done_) {
      if (mallory_head_.Feed(bytes) != HttpHeadReader::State::kDone) {
        FUZZ_CHECK(mallory_head_.state() == HttpHeadReader::State::kNeedMore);
        return;
      }
      mallory_head_done_ = true;
      to_mallory_frames_.Feed(mallory_head_.TakeRest());
    } else {
      to_mallory_frames_.Feed(bytes);
    }
    while (auto f = to_mallory_frames_.Next()) (void)f;
  }

  void CheckDelivery(Honest& h, const ClientEvent& e) {
    const auto* received = std::get_if<derp::Received>(&e);
    if (!received) return;
    auto it = expected_.find({h.client.public_key(), received->source});
    FUZZ_CHECK(it != expected_.end());
    auto packet = it->second.find(received->data);
    FUZZ_CHECK(packet != it->second.end());
    it->second.erase(packet);
  }

  DeterministicRandom server_rng_;
  Server server_;
  Honest alice_;
  Honest bob_;
  testsupport::ServerWiring wiring_;
  std::optional<NodePublicKey> mallory_key_;
  FrameReader mallory_frames_;
  HttpHeadReader mallory_head_;
  bool mallory_head_done_ = false;
  FrameReader to_mallory_frames_;
  Expected expected_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The two set-ups, built once (never destroyed: the process exits with them).
  static const World* const kPlain = new World(false);
  static const World* const kHandshaken = new World(true);
  FuzzedDataProvider in(data, size);
  World w(in.ConsumeBool() ? *kHandshaken : *kPlain);
  fuzz::ForgetSetUpCoverage();
  for (int steps = 0; steps < 64 && in.remaining_bytes() > 0; ++steps) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0:
        w.HonestSends(in.ConsumeBool(), in.ConsumeIntegral<uint8_t>(),
                      in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 64)));
        break;
      case 1: w.Advance(Duration::Millis(in.ConsumeIntegralInRange(0, 70000))); break;
      case 2: w.MalloryCloses(); break;
      default: {
        const std::vector<uint8_t> chunk =
            in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 512));
        w.MalloryWrites(ByteView(chunk.data(), chunk.size()));
      }
    }
  }
  w.CheckEnd();
  return 0;
}
