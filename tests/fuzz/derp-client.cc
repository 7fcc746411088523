// The DERP client machine fed what a server (or anyone on the path) sends.
// The first input byte chooses whether the bytes start from nothing (the
// HTTP response and handshake parsers) or after a real handshake with a real
// derp::Server (the frames of a connected client, which a fuzzer could not
// reach by forging a sealed ServerInfo). The rest is a script: a chunk from
// the "server", the client sends a packet, time passes, the connection
// closes.
//
// Invariants:
//  * what the client reports received is exactly what the stream carried:
//    each received packet, with its source, is a RecvPacket frame of the
//    stream (parsed here independently), in order;
//  * every output parses: what the client writes after the handshake is
//    DERP frames of the kinds a client sends.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "fuzz-addresses.h"
#include "fuzz-check.h"
#include "punchlab/derp/client.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/server.h"
#include "punchlab/random.h"
#include "support/server-wiring.h"

using namespace punchlab;
using namespace punchlab::derp;

namespace {

using fuzz::kDerpServerAddr;
using fuzz::Seed;

class World {
 public:
  World()
      : server_key_(Seed(1)),
        rng_(2),
        client_(NodePrivateKey(Seed(2)), rng_, [&] {
          ClientConfig c;
          c.server = kDerpServerAddr;
          c.server_key = server_key_.Public();
          return c;
        }()) {}

  void Start(bool handshake) {
    if (!handshake) {
      client_.Start(now_);
      Flush();
      return;
    }
    // A real server answers the real handshake, as for any honest client;
    // then the stream is the fuzzer's.
    DeterministicRandom server_rng(1);
    Server server(NodePrivateKey(Seed(1)), server_rng);
    testsupport::ServerWiring wiring(server, kDerpServerAddr, now_);
    wiring.stray = fuzz::CheckStray;
    wiring.AddHonest(client_, Endpoint(IpAddress::V4(203, 0, 113, 2), 40002));
    wiring.Do([this](Timestamp now) { client_.Start(now); });
    FUZZ_CHECK(client_.connected());
    conn_ = client_.connection();
    while (client_.PollEvent()) {
    }
    connected_from_start_ = true;
  }

  void ServerSends(ByteView bytes) {
    if (!open_) return;
    // Only after a real handshake does the stream start at a frame boundary
    // known here; then every RecvPacket it carries is expected, in order.
    if (connected_from_start_) {
      stream_.Feed(bytes);
      while (auto f = stream_.Next()) {
        if (f->type != FrameType::kRecvPacket) continue;
        if (auto r = RecvPacketFrame::DecodePayload(f->payload)) {
          expected_.emplace_back(r->source, r->packet);
        }
      }
    }
    client_.HandleStream(now_, conn_, bytes);
    Flush();
  }

  void ClientSends(uint8_t to, Bytes packet) {
    client_.Send(now_, NodePrivateKey(Seed(to % 4 + 3)).Public(), packet);
    Flush();
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
    if (!open_) return;
    open_ = false;
    client_.HandleClosed(now_, conn_);
    Flush();
  }

 private:
  void Flush() {
    while (auto a = client_.PollStreamAction()) {
      switch (a->kind) {
        case StreamAction::Kind::kConnect:
          // Every attempt gets a connection; only the first carries the script.
          if (conn_ == 0) {
            conn_ = a->conn;
            client_.HandleConnected(now_, conn_, kDerpServerAddr);
          } else {
            client_.HandleClosed(now_, a->conn);
          }
          break;
        case StreamAction::Kind::kWrite:
          if (a->conn == conn_ && connected_from_start_) CheckClientFrames(a->data);
          break;
        case StreamAction::Kind::kClose:
          if (a->conn == conn_) open_ = false;
          break;
      }
    }
    while (auto e = client_.PollEvent()) {
      const auto* received = std::get_if<derp::Received>(&*e);
      if (!received || !connected_from_start_) continue;
      FUZZ_CHECK(!expected_.empty());
      FUZZ_CHECK(expected_.front().first == received->source &&
                 expected_.front().second == received->data);
      expected_.pop_front();
    }
  }

  void CheckClientFrames(ByteView bytes) {
    out_.Feed(bytes);
    while (auto f = out_.Next()) {
      FUZZ_CHECK(f->type == FrameType::kSendPacket || f->type == FrameType::kNotePreferred ||
                 f->type == FrameType::kPing || f->type == FrameType::kPong);
    }
    FUZZ_CHECK(!out_.failed());
  }

  Timestamp now_ = Timestamp::Zero() + Duration::Seconds(1000);
  NodePrivateKey server_key_;
  DeterministicRandom rng_;
  Client client_;
  ConnectionId conn_ = 0;
  bool open_ = true;
  bool connected_from_start_ = false;
  FrameReader stream_;
  FrameReader out_;
  std::deque<std::pair<NodePublicKey, Bytes>> expected_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  World w;
  w.Start(in.ConsumeBool());
  for (int steps = 0; steps < 64 && in.remaining_bytes() > 0; ++steps) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0:
        w.ClientSends(in.ConsumeIntegral<uint8_t>(),
                      in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 64)));
        break;
      case 1: w.Advance(Duration::Millis(in.ConsumeIntegralInRange(0, 200000))); break;
      case 2: w.Close(); break;
      default: {
        const std::vector<uint8_t> chunk =
            in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 512));
        w.ServerSends(ByteView(chunk.data(), chunk.size()));
      }
    }
  }
  return 0;
}
