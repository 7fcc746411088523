// The control client machine fed what its server sends. The harness holds
// the server's key, so besides raw bytes it can send plaintext of the
// fuzzer's choosing sealed for the session (the JSON decoder behind the box)
// and well-formed messages in and out of order (challenge, registered,
// netmap, peers_changed, pong, goodbye) with fuzzer-chosen content; time
// passes; the connection closes. A client that asks for compression (the
// default) is answered as the server answers it, each message after its
// register one zstd frame, and also gets fuzzer-chosen plaintext compressed
// (the decompressor behind the box, with the JSON decoder behind it); one
// that does not ask gets plain messages (the first input byte picks).
//
// Invariants: everything the client writes parses as the session's messages
// (hello in plaintext first, then sealed, numbered in order); it registers
// only by echoing the challenge this connection's server sent, asking for
// compression as configured; and it never holds a netmap from a session
// that did not register.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/channel.h"
#include "fuzz-addresses.h"
#include "fuzz-check.h"
#include "set-up-coverage.h"
#include "punchlab/control/client.h"
#include "punchlab/control/frame.h"
#include "punchlab/crypto/box.h"
#include "punchlab/random.h"

using namespace punchlab;
using namespace punchlab::control;

namespace {

using fuzz::kControlServerAddr;

class World {
 public:
  explicit World(bool compress)
      : keys_(1),
        server_key_(NodePrivateKey::Generate(keys_)),
        node_key_(NodePrivateKey::Generate(keys_)),
        rng_(2),
        client_([&] {
          ControlClientConfig c;
          c.server = kControlServerAddr;
          c.server_key = server_key_.Public();
          c.compress = compress;
          return c;
        }(), rng_),
        compress_(compress) {
    for (int i = 0; i < 4; ++i) peers_.push_back(NodePrivateKey::Generate(keys_).Public());
  }

  // A copy of a set-up world (the client cloned in the same state, its
  // session's server end copied) for one input to run on, with fresh random
  // streams (as the server targets' copies).
  World(const World& set_up)
      : now_(set_up.now_),
        keys_(3),
        server_key_(set_up.server_key_.Clone()),
        node_key_(set_up.node_key_.Clone()),
        rng_(4),
        client_(set_up.client_.Clone(rng_)),
        peers_(set_up.peers_),
        conn_(set_up.conn_),
        session_(set_up.session_),
        challenge_(set_up.challenge_),
        registered_in_session_(set_up.registered_in_session_),
        compress_(set_up.compress_),
        session_compresses_(set_up.session_compresses_) {}

  void Start() {
    Registration r{"pltoken1.x.y", DiscoPrivateKey::Generate(keys_).Public(),
                   {Endpoint(IpAddress::V4(203, 0, 113, 2), 41641)}, 1};
    client_.Register(now_, node_key_.Clone(), r);
    Flush();
  }

  void Raw(ByteView bytes) { ToClient(Bytes(bytes.begin(), bytes.end())); }

  void SealedPlaintext(ByteView plain) {
    if (!session_) return;
    const auto key = SharedKey::Compute(server_key_, node_key_.Public());
    ToClient(EncodeFrame(key->Seal(rng_, plain)));
  }

  // `plain` compressed as one zstd frame, sealed.
  void SealedCompressed(ByteView plain) { SealedPlaintext(*zstd_.Compress(plain)); }

  void Send(FuzzedDataProvider& in) {
    if (!session_ || !session_->has_key()) return;
    Message msg;
    switch (in.ConsumeIntegralInRange(0, 6)) {
      case 0: {
        ChallengeMsg c;
        for (uint8_t& b : c.challenge) b = in.ConsumeIntegral<uint8_t>();
        challenge_ = c.challenge;
        msg = c;
        break;
      }
      case 1:
        msg = RegisteredMsg{IpAddress::V4(100, 64, 0, in.ConsumeIntegral<uint8_t>()), "node",
                            in.ConsumeRandomLengthString(16)};
        break;
      case 2: {
        NetmapMsg n;
        n.netmap.domain = in.ConsumeRandomLengthString(16);
        n.netmap.self.node_key = node_key_.Public();
        for (int i = in.ConsumeIntegralInRange(0, 4); i > 0; --i) n.netmap.peers.push_back(Peer(in));
        msg = n;
        break;
      }
      case 3: {
        PeersChangedMsg p;
        for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) p.changed.push_back(Peer(in));
        for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) {
          p.removed.push_back(peers_[in.ConsumeIntegralInRange<size_t>(0, peers_.size() - 1)]);
        }
        // Patches, also of peers the client never heard of (counted, dropped).
        for (int i = in.ConsumeIntegralInRange(0, 3); i > 0; --i) {
          PeerPatch patch;
          patch.node_key = peers_[in.ConsumeIntegralInRange<size_t>(0, peers_.size() - 1)];
          if (in.ConsumeBool()) patch.home_region = in.ConsumeIntegralInRange<RegionId>(0, 9);
          if (in.ConsumeBool()) patch.disco_key = DiscoPrivateKey::Generate(keys_).Public();
          if (in.ConsumeBool() || (!patch.home_region && !patch.disco_key)) {
            patch.endpoints = std::vector<Endpoint>{};
          }
          p.patched.push_back(std::move(patch));
        }
        msg = p;
        break;
      }
      case 4: msg = PongMsg{}; break;
      case 5: msg = GoodbyeMsg{in.ConsumeRandomLengthString(16)}; break;
      default: msg = RefusedMsg{in.ConsumeRandomLengthString(16)};
    }
    auto frame = session_->EncodeSealed(msg, rng_, kMaxFrameSize, KeyLog(),
                                        session_compresses_ ? &zstd_ : nullptr);
    if (frame) ToClient(*frame);
  }

  void Advance(Duration d) {
    now_ += d;
    for (int round = 0; round < 100; ++round) {
      auto t = client_.PollTimeout();
      if (!t || *t > now_) break;
      client_.HandleTimeout(now_);
      Flush();
    }
  }

  void Close() {
    if (conn_ == 0) return;
    client_.HandleClosed(now_, conn_);
    conn_ = 0;
    session_.reset();
    Flush();
  }

 private:
  NodeInfo Peer(FuzzedDataProvider& in) {
    NodeInfo p;
    p.node_key = peers_[in.ConsumeIntegralInRange<size_t>(0, peers_.size() - 1)];
    p.disco_key = DiscoPrivateKey::Generate(keys_).Public();
    p.address = IpAddress::V4(100, 64, 1, in.ConsumeIntegral<uint8_t>());
    p.user = "peer";
    return p;
  }

  void ToClient(const Bytes& bytes) {
    if (conn_ == 0) return;
    client_.HandleStream(now_, conn_, bytes);
    Flush();
  }

  void Flush() {
    while (auto a = client_.PollStreamAction()) {
      switch (a->kind) {
        case StreamAction::Kind::kConnect:
          conn_ = a->conn;
          session_.emplace(kMaxNodeFrameSize);  // a new connection, a new session
          challenge_.reset();
          registered_in_session_ = false;
          session_compresses_ = false;
          client_.HandleConnected(now_, conn_, kControlServerAddr);
          break;
        case StreamAction::Kind::kWrite:
          if (a->conn == conn_) FromClient(a->data);
          break;
        case StreamAction::Kind::kClose:
          if (a->conn == conn_) {
            conn_ = 0;
            session_.reset();
          }
          break;
      }
    }
    while (auto e = client_.PollEvent()) {
      if (std::holds_alternative<Registered>(*e)) registered_in_session_ = true;
      if (std::holds_alternative<NetmapUpdated>(*e)) FUZZ_CHECK(registered_in_session_);
    }
  }

  // The client's output, read as the server reads it.
  void FromClient(ByteView bytes) {
    session_->Feed(bytes);
    for (;;) {
      Channel::Incoming in = session_->Next();
      if (in.kind == Channel::Incoming::Kind::kNone) return;
      FUZZ_CHECK(in.kind == Channel::Incoming::Kind::kMessage);
      if (!session_->has_key()) {
        const auto* hello = std::get_if<HelloMsg>(&in.msg);
        FUZZ_CHECK(hello && hello->node_key == node_key_.Public());
        session_->SetKey(*SharedKey::Compute(server_key_, hello->node_key));
        continue;
      }
      FUZZ_CHECK(!std::holds_alternative<HelloMsg>(in.msg));
      if (const auto* reg = std::get_if<RegisterMsg>(&in.msg)) {
        FUZZ_CHECK(challenge_ && reg->challenge == *challenge_);
        FUZZ_CHECK(reg->compress == (compress_ ? Compression::kZstd : Compression::kNone));
        session_compresses_ = reg->compress == Compression::kZstd;
      }
    }
  }

  Timestamp now_ = Timestamp::Zero() + Duration::Seconds(1000);
  DeterministicRandom keys_;
  NodePrivateKey server_key_;
  NodePrivateKey node_key_;
  DeterministicRandom rng_;
  ControlClient client_;
  std::vector<NodePublicKey> peers_;
  ConnectionId conn_ = 0;
  std::optional<Channel> session_;  // the server's end of the current connection
  std::optional<Challenge> challenge_;
  bool registered_in_session_ = false;
  bool compress_ = false;            // the client asks for compression
  bool session_compresses_ = false;  // this session's register asked
  ZstdCompressor zstd_;
};

// The world after Start() (keys made, hello sent, the server's end keyed),
// with a client that asks for compression or one that does not, each built
// once per process (never destroyed); each input runs on a copy, and the
// set-up's coverage is forgotten (set-up-coverage.h).
const World& SetUp(bool compress) {
  static const World* const kSetUp[2] = {[] {
                                           auto* w = new World(false);
                                           w->Start();
                                           return w;
                                         }(),
                                         [] {
                                           auto* w = new World(true);
                                           w->Start();
                                           return w;
                                         }()};
  return *kSetUp[compress ? 1 : 0];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  World w(SetUp(in.ConsumeBool()));
  fuzz::ForgetSetUpCoverage();
  for (int steps = 0; steps < 48 && in.remaining_bytes() > 0; ++steps) {
    switch (in.ConsumeIntegralInRange(0, 8)) {
      case 0: {
        const std::string raw = in.ConsumeRandomLengthString(256);
        w.Raw(ByteView(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
        break;
      }
      case 1: {
        const std::string plain = in.ConsumeRandomLengthString(1024);
        w.SealedPlaintext(ByteView(reinterpret_cast<const uint8_t*>(plain.data()), plain.size()));
        break;
      }
      case 2: w.Advance(Duration::Millis(in.ConsumeIntegralInRange(0, 90000))); break;
      case 8: {
        const std::string plain = in.ConsumeRandomLengthString(1024);
        w.SealedCompressed(ByteView(reinterpret_cast<const uint8_t*>(plain.data()), plain.size()));
        break;
      }
      case 3: w.Close(); break;
      default: w.Send(in);
    }
  }
  return 0;
}
