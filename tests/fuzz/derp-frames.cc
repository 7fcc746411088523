// DERP frames: a byte stream as a connection delivers it, cut into reads at
// points the input chooses, through FrameReader (copying Feed, and in-place
// Borrow/Keep), and every frame's payload through its type's decoder.
// Invariants: however the stream is cut and whichever way it goes in, the
// same frames come out (or the same failure); a decoded packet frame
// re-encodes to the payload it came from; the two decoders of a packet
// (copy and view) agree.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz-check.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/frames.h"

using namespace punchlab;
using namespace punchlab::derp;

namespace {

template <typename T>
void ReEncodes(ByteView payload) {
  const std::optional<T> f = T::DecodePayload(payload);
  if (!f) return;
  Bytes out;
  AppendFrame(out, *f);
  FUZZ_CHECK(out.size() == kFrameHeaderSize + payload.size());
  FUZZ_CHECK(std::equal(payload.begin(), payload.end(), out.begin() + kFrameHeaderSize));
}

void DecodeAll(const Frame& f) {
  const ByteView p(f.payload.data(), f.payload.size());
  switch (f.type) {
    case FrameType::kServerKey: (void)ServerKeyFrame::DecodePayload(p); break;
    case FrameType::kClientInfo: ReEncodes<ClientInfoFrame>(p); break;
    case FrameType::kServerInfo: ReEncodes<ServerInfoFrame>(p); break;
    case FrameType::kSendPacket: {
      ReEncodes<SendPacketFrame>(p);
      const auto copy = SendPacketFrame::DecodePayload(p);
      const auto view = SendPacketView::DecodePayload(p);
      FUZZ_CHECK(copy.has_value() == view.has_value());
      if (copy) {
        FUZZ_CHECK(copy->destination == view->destination);
        FUZZ_CHECK(Bytes(view->packet.begin(), view->packet.end()) == copy->packet);
      }
      break;
    }
    case FrameType::kRecvPacket: {
      ReEncodes<RecvPacketFrame>(p);
      const auto copy = RecvPacketFrame::DecodePayload(p);
      const auto view = RecvPacketView::DecodePayload(p);
      FUZZ_CHECK(copy.has_value() == view.has_value());
      if (copy) {
        FUZZ_CHECK(copy->source == view->source);
        FUZZ_CHECK(Bytes(view->packet.begin(), view->packet.end()) == copy->packet);
      }
      break;
    }
    case FrameType::kKeepAlive: ReEncodes<KeepAliveFrame>(p); break;
    case FrameType::kNotePreferred: (void)NotePreferredFrame::DecodePayload(p); break;
    case FrameType::kPeerGone: (void)PeerGoneFrame::DecodePayload(p); break;
    case FrameType::kPeerPresent: (void)PeerPresentFrame::DecodePayload(p); break;
    case FrameType::kForwardPacket: ReEncodes<ForwardPacketFrame>(p); break;
    case FrameType::kWatchConns: {
      // DERP v2 gives it no payload and there is no decoder (our client sends it
      // empty, our server counts it as unknown), so the frame layer is all there
      // is: written with whatever payload came, it reads back as the same frame.
      Bytes out;
      AppendFrame(out, f.type, p);
      FrameReader r(kMaxFramePayload);
      r.Feed(ByteView(out.data(), out.size()));
      const std::optional<Frame> back = r.Next();
      FUZZ_CHECK(back && back->type == f.type && back->payload == f.payload);
      FUZZ_CHECK(!r.Next() && !r.failed());
      break;
    }
    case FrameType::kPing: (void)PingFrame::DecodePayload(p); break;
    case FrameType::kPong: (void)PongFrame::DecodePayload(p); break;
    case FrameType::kHealth: (void)HealthFrame::DecodePayload(p); break;
    case FrameType::kRestarting: (void)RestartingFrame::DecodePayload(p); break;
  }
}

struct Outcome {
  std::vector<Frame> frames;
  bool failed = false;
};

bool SameFrames(const Outcome& a, const Outcome& b) {
  if (a.failed != b.failed || a.frames.size() != b.frames.size()) return false;
  for (size_t i = 0; i < a.frames.size(); ++i) {
    if (a.frames[i].type != b.frames[i].type || a.frames[i].payload != b.frames[i].payload) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // A small limit too, so the over-limit path is reached with small inputs.
  const size_t limit = in.ConsumeBool() ? kMaxFramePayload : in.ConsumeIntegralInRange(0, 64);
  std::vector<size_t> cuts;
  for (int i = 0; i < 8 && in.remaining_bytes() > 0; ++i) {
    cuts.push_back(in.ConsumeIntegralInRange<size_t>(0, 64));
  }
  const std::vector<uint8_t> stream = in.ConsumeRemainingBytes<uint8_t>();
  const ByteView all(stream.data(), stream.size());

  Outcome whole;
  {
    FrameReader r(limit);
    r.Feed(all);
    while (auto f = r.Next()) whole.frames.push_back(std::move(*f));
    whole.failed = r.failed();
  }
  for (const Frame& f : whole.frames) {
    FUZZ_CHECK(f.payload.size() <= limit);
    DecodeAll(f);
  }

  // The same stream in reads of the chosen sizes, alternating the two ways in.
  Outcome pieces;
  {
    FrameReader r(limit);
    size_t at = 0;
    for (size_t i = 0; at < all.size(); ++i) {
      const size_t n = std::min(all.size() - at, cuts.empty() ? all.size() : cuts[i % cuts.size()] + 1);
      const ByteView read = all.sub(at, n);
      at += n;
      if (i % 2 == 0) {
        r.Feed(read);
        while (auto f = r.Next()) pieces.frames.push_back(std::move(*f));
      } else {
        r.Borrow(read);
        while (auto v = r.NextView()) {
          pieces.frames.push_back(Frame{v->type, Bytes(v->payload.begin(), v->payload.end())});
        }
        r.Keep();
      }
    }
    pieces.failed = r.failed();
  }
  FUZZ_CHECK(SameFrames(whole, pieces));
  return 0;
}
