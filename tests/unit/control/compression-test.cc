// Compressed server messages (compression.h): the codec, and a client facing
// hostile compressed frames (the test is the server: it holds the server's
// key and seals for the session).
#include <zstd.h>

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <variant>

#include "punchlab/control/client.h"
#include "punchlab/control/compression.h"
#include "punchlab/control/frame.h"
#include "punchlab/control/messages.h"
#include "punchlab/crypto/box.h"
#include "punchlab/random.h"

namespace punchlab::control {
namespace {

const Endpoint kServerAddr = *Endpoint::Parse("203.0.113.1:443");

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(Zstd, FramesStandAloneAndDecompressToTheMessage) {
  ZstdCompressor z;
  const Bytes a = Text(std::string(3000, 'a') + "{\"type\":\"pong\"}");
  const Bytes b = Text("{\"type\":\"pong\",\"seq\":7}");
  const Bytes za = *z.Compress(a);
  const Bytes zb = *z.Compress(b);
  EXPECT_LT(za.size(), a.size() / 10);
  // Each frame decodes alone (no history between them), and the same
  // message always compresses to the same bytes (results stay reproducible).
  std::string error;
  bool too_large = true;
  EXPECT_EQ(ZstdDecompress(zb, kMaxFrameSize, error, too_large), b) << error;
  EXPECT_FALSE(too_large);
  EXPECT_EQ(ZstdDecompress(za, a.size(), error, too_large), a) << error;
  EXPECT_EQ(ZstdCompressor().Compress(a), za);
  ZstdCompressor copy = z;  // a copy has its own context
  EXPECT_EQ(copy.Compress(b), zb);
  EXPECT_EQ(ZstdDecompress(*z.Compress(Bytes{}), 0, error, too_large), Bytes{}) << error;
}

// libzstd out of memory (for its context, or for the workspace of the first
// frame) is a failure Compress reports, never an exception: the server closes
// that one connection (ControlServer, "message could not be compressed").
TEST(Zstd, CompressReportsFailureWithoutThrowing) {
  const Bytes message = Text(std::string(100000, 'a') + "{\"type\":\"pong\"}");
  ZstdCompressor no_context(0);
  EXPECT_EQ(no_context.Compress(message), std::nullopt);
  ZstdCompressor no_workspace(16 * 1024);  // a context, no room for its tables
  EXPECT_EQ(no_workspace.Compress(message), std::nullopt);
  EXPECT_EQ(ZstdCompressor(no_workspace).Compress(message), std::nullopt);  // a copy: same limit
  // Room enough: the frame is the one an unlimited compressor makes.
  EXPECT_EQ(ZstdCompressor(64 << 20).Compress(message), ZstdCompressor().Compress(message));
}

TEST(Zstd, ABombIsRefusedByItsDeclaredSizeAndBadFramesSayWhy) {
  ZstdCompressor z;
  const Bytes bomb = *z.Compress(Bytes(kMaxFrameSize + 1, ' '));
  EXPECT_LT(bomb.size(), 1000u);
  std::string error;
  bool too_large = false;
  EXPECT_FALSE(ZstdDecompress(bomb, kMaxFrameSize, error, too_large));
  EXPECT_TRUE(too_large);
  EXPECT_EQ(error, "compressed message would decompress to 4194305 bytes, above the 4194304-byte "
                   "limit");

  const Bytes msg = Text("{\"type\":\"pong\",\"seq\":1}");
  const Bytes good = *z.Compress(msg);
  struct Case {
    const char* name;
    Bytes frame;
    const char* error;
  };
  Bytes trailing = good;
  trailing.push_back(0);
  Bytes truncated(good.begin(), good.end() - 1);
  // A frame that does not say its size (a streaming encoder's): refused, as
  // the receiver could not bound it before decoding.
  Bytes unsized(ZSTD_compressBound(msg.size()));
  {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    unsized.resize(ZSTD_compress2(c, unsized.data(), unsized.size(), msg.data(), msg.size()));
    ZSTD_freeCCtx(c);
  }
  // The header promises fewer bytes than the blocks hold.
  Bytes lying = good;
  ASSERT_EQ(lying[4] & 0xc0, 0);  // a one-byte content size field, right after the descriptor
  ASSERT_EQ(lying[5], msg.size());
  lying[5] = static_cast<uint8_t>(msg.size() - 1);
  const Case cases[] = {
      {"plain JSON", msg, "not a zstd frame"},
      {"empty", Bytes{}, "not a zstd frame"},
      {"trailing", trailing, "1 bytes after the zstd frame"},
      {"truncated", truncated, "zstd frame: Src size is incorrect"},
      {"unsized", unsized, "zstd frame does not declare its decompressed size"},
      {"lying", lying, "zstd frame: Destination buffer is too small"},
  };
  for (const Case& c : cases) {
    std::string why;
    bool big = true;
    EXPECT_FALSE(ZstdDecompress(c.frame, kMaxFrameSize, why, big)) << c.name;
    EXPECT_FALSE(big) << c.name;
    EXPECT_EQ(why, c.error) << c.name;
  }
}

// A client registering (compress as configured) that the test answers as
// the server would, message by message.
class FakeServer {
 public:
  explicit FakeServer(bool client_compresses) {
    ControlClientConfig config;
    config.server = kServerAddr;
    config.server_key = server_key_.Public();
    config.compress = client_compresses;
    client_ = std::make_unique<ControlClient>(config, r_);
    client_->Register(t0_, node_key_.Clone(),
                      Registration{"t", DiscoPrivateKey::Generate(r_).Public(), {}, 0});
    auto connect = client_->PollStreamAction();
    conn_ = connect->conn;
    client_->HandleConnected(t0_, conn_, kServerAddr);
    Sealed(EncodeMessage(ChallengeMsg{}, seq_++));  // always plain
    while (auto a = client_->PollStreamAction()) {
      if (a->kind == StreamAction::Kind::kWrite) {
        written_.insert(written_.end(), a->data.begin(), a->data.end());
      }
    }
  }
  // The register the client sent, as the server reads it.
  RegisterMsg Register() const {
    FrameDecoder d;
    d.Feed(written_);
    d.Next();  // the hello
    auto frame = d.Next();
    auto plain = SharedKey::Compute(server_key_, node_key_.Public())->Open(*frame);
    std::string error;
    auto m = DecodeMessage(*plain, error);
    EXPECT_TRUE(m) << error;
    if (!m) return {};
    EXPECT_EQ(MessageTypeName(m->msg), std::string("register"));
    return std::get<RegisterMsg>(m->msg);
  }
  // `payload` sealed as the next frame.
  void Sealed(const Bytes& payload) {
    const auto key = SharedKey::Compute(server_key_, node_key_.Public());
    client_->HandleStream(t0_, conn_, EncodeFrame(key->Seal(r_, payload)));
  }
  uint64_t next_seq() { return seq_++; }
  ControlClient& client() { return *client_; }
  std::string LastDisconnect() {
    std::string reason;
    while (auto e = client_->PollEvent()) {
      if (auto* d = std::get_if<Disconnected>(&*e)) reason = d->reason;
    }
    return reason;
  }

 private:
  DeterministicRandom r_{21};
  NodePrivateKey server_key_ = NodePrivateKey::Generate(r_);
  NodePrivateKey node_key_ = NodePrivateKey::Generate(r_);
  Timestamp t0_ = Timestamp::Zero();
  std::unique_ptr<ControlClient> client_;
  ConnectionId conn_ = 0;
  uint64_t seq_ = 0;
  Bytes written_;
};

TEST(ControlClientCompression, TheRegisterAsksForZstdUnlessConfiguredNotTo) {
  EXPECT_EQ(FakeServer(true).Register().compress, Compression::kZstd);
  EXPECT_EQ(FakeServer(false).Register().compress, Compression::kNone);
}

TEST(ControlClientCompression, CompressedAnswersAreReadAndPlainOnesToo) {
  ZstdCompressor z;
  FakeServer asked(true);
  asked.Sealed(*z.Compress(EncodeMessage(RegisteredMsg{IpAddress::V4(100, 64, 0, 1), "me", "d"},
                                        asked.next_seq())));
  EXPECT_TRUE(asked.client().registered());
  FakeServer plain(false);
  plain.Sealed(EncodeMessage(RegisteredMsg{IpAddress::V4(100, 64, 0, 1), "me", "d"},
                             plain.next_seq()));
  EXPECT_TRUE(plain.client().registered());
}

// A bomb: a small frame that would expand past the frame limit. Counted as
// oversized before anything is allocated for it; the client reconnects.
TEST(ControlClientCompression, ABombIsCountedAsOversizedAndDropsTheConnection) {
  FakeServer server(true);
  server.Sealed(*ZstdCompressor().Compress(Bytes(kMaxFrameSize + 1, ' ')));
  EXPECT_EQ(server.client().stats().oversized, 1u);
  EXPECT_FALSE(server.client().registered());
  EXPECT_EQ(server.LastDisconnect(),
            "compressed message would decompress to 4194305 bytes, above the 4194304-byte limit");
}

TEST(ControlClientCompression, WhatIsNotOneGoodZstdFrameIsMalformed) {
  ZstdCompressor z;
  const Bytes registered = EncodeMessage(RegisteredMsg{IpAddress::V4(100, 64, 0, 1), "me", "d"}, 1);
  Bytes trailing = *z.Compress(registered);
  trailing.push_back('x');
  const std::pair<Bytes, std::string> cases[] = {
      {registered, "not a zstd frame"},  // the server forgot to compress
      {trailing, "1 bytes after the zstd frame"},
      {*z.Compress(Text("{\"type\":")), "message is not valid JSON"},
  };
  for (const auto& [payload, why] : cases) {
    FakeServer server(true);
    server.Sealed(payload);
    EXPECT_EQ(server.client().stats().malformed, 1u) << why;
    EXPECT_FALSE(server.client().registered());
    const std::string reason = server.LastDisconnect();
    EXPECT_NE(reason.find(why), std::string::npos) << reason;
  }
  // A compressed answer to a client that did not ask is not JSON.
  FakeServer plain(false);
  plain.Sealed(*z.Compress(registered));
  EXPECT_EQ(plain.client().stats().malformed, 1u);
  EXPECT_FALSE(plain.client().registered());
}

}  // namespace
}  // namespace punchlab::control
