// The incremental parser: frames split across reads, several per read, and
// oversized lengths.
#include <gtest/gtest.h>

#include <vector>

#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/frames.h"

namespace punchlab {
namespace derp {
namespace {

NodePublicKey KeyOf(uint8_t fill) {
  KeyBytes raw;
  raw.fill(fill);
  return NodePublicKey(raw);
}

// One of every frame type, back to back.
Bytes AllFrames() {
  Bytes out;
  AppendFrame(out, ServerKeyFrame{KeyOf(1)});
  AppendFrame(out, ClientInfoFrame{KeyOf(2), Bytes(40, 0x22)});
  AppendFrame(out, ServerInfoFrame{Bytes(30, 0x23)});
  AppendFrame(out, SendPacketFrame{KeyOf(3), Bytes{1, 2, 3}});
  AppendFrame(out, RecvPacketFrame{KeyOf(4), Bytes{}});
  AppendFrame(out, KeepAliveFrame{});
  AppendFrame(out, NotePreferredFrame{true});
  AppendFrame(out, PeerGoneFrame{KeyOf(5), PeerGoneReason::kNotHere});
  AppendFrame(out, PeerPresentFrame{KeyOf(6), std::nullopt});
  AppendFrame(out, ForwardPacketFrame{KeyOf(7), KeyOf(8), Bytes{9}});
  AppendFrame(out, PingFrame{{1, 2, 3, 4, 5, 6, 7, 8}});
  AppendFrame(out, PongFrame{{8, 7, 6, 5, 4, 3, 2, 1}});
  AppendFrame(out, HealthFrame{"ok"});
  AppendFrame(out, RestartingFrame{Duration::Seconds(1), Duration::Seconds(2)});
  AppendFrame(out, static_cast<FrameType>(0x42), Bytes{0xde, 0xad});  // unknown type
  return out;
}

std::vector<Frame> ReadAll(FrameReader& reader) {
  std::vector<Frame> out;
  while (auto f = reader.Next()) out.push_back(std::move(*f));
  return out;
}

void ExpectSame(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].type, b[i].type) << i;
    EXPECT_EQ(a[i].payload, b[i].payload) << i;
  }
}

TEST(DerpFrameReader, SeveralFramesInOneRead) {
  FrameReader reader;
  reader.Feed(AllFrames());
  auto frames = ReadAll(reader);
  ASSERT_EQ(frames.size(), 15u);
  EXPECT_EQ(frames[0].type, FrameType::kServerKey);
  EXPECT_EQ(frames[5].type, FrameType::kKeepAlive);
  EXPECT_TRUE(frames[5].payload.empty());
  EXPECT_EQ(frames[14].type, static_cast<FrameType>(0x42));
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_FALSE(reader.failed());
}

TEST(DerpFrameReader, SplitAtEveryByteBoundaryParsesTheSame) {
  const Bytes stream = AllFrames();
  FrameReader whole;
  whole.Feed(stream);
  const auto expected = ReadAll(whole);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    reader.Feed(ByteView(stream).sub(0, cut));
    auto got = ReadAll(reader);
    reader.Feed(ByteView(stream).sub(cut));
    auto rest = ReadAll(reader);
    got.insert(got.end(), rest.begin(), rest.end());
    ExpectSame(got, expected);
    EXPECT_EQ(reader.buffered(), 0u) << cut;
  }
}

TEST(DerpFrameReader, OneByteAtATime) {
  const Bytes stream = AllFrames();
  FrameReader whole;
  whole.Feed(stream);
  const auto expected = ReadAll(whole);
  FrameReader reader;
  std::vector<Frame> got;
  for (uint8_t b : stream) {
    reader.Feed(ByteView(&b, 1));
    auto more = ReadAll(reader);
    got.insert(got.end(), more.begin(), more.end());
  }
  ExpectSame(got, expected);
}

TEST(DerpFrameReader, MaximalFrameIsAccepted) {
  FrameReader reader;
  Bytes stream;
  AppendFrame(stream, ForwardPacketFrame{KeyOf(1), KeyOf(2), Bytes(kMaxPacketSize, 0x5a)});
  ASSERT_EQ(stream.size(), kFrameHeaderSize + kMaxFramePayload);
  reader.Feed(stream);
  auto f = reader.Next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload.size(), kMaxFramePayload);
}

TEST(DerpFrameReader, OversizedLengthFailsAtTheHeaderAndStaysFailed) {
  FrameReader reader;
  Bytes stream;
  AppendFrame(stream, PingFrame{});
  // A SendPacket header announcing one byte more than the limit, no payload yet.
  stream.insert(stream.end(), {0x04, 0x00, 0x01, 0x00, 0x41});
  reader.Feed(stream);
  EXPECT_TRUE(reader.Next());  // the Ping before it is intact
  EXPECT_FALSE(reader.Next());
  ASSERT_TRUE(reader.failed());
  EXPECT_NE(reader.error().find("SendPacket announces 65601 bytes"), std::string::npos)
      << reader.error();
  EXPECT_EQ(reader.buffered(), 0u);  // nothing of it is held
  Bytes more;
  AppendFrame(more, KeepAliveFrame{});
  reader.Feed(more);
  EXPECT_FALSE(reader.Next());
  EXPECT_TRUE(reader.failed());
}

TEST(DerpFrameReader, HugeLengthNeedsOnlyTheHeader) {
  FrameReader reader;
  reader.Feed(Bytes{0xff, 0xff, 0xff, 0xff});
  EXPECT_FALSE(reader.Next());
  EXPECT_FALSE(reader.failed());  // four bytes are not a header yet
  reader.Feed(Bytes{0xff});
  EXPECT_FALSE(reader.Next());
  EXPECT_TRUE(reader.failed());
  EXPECT_NE(reader.error().find("0xff"), std::string::npos) << reader.error();
}

TEST(DerpFrameReader, SmallerLimit) {
  FrameReader reader(8);
  Bytes stream;
  AppendFrame(stream, PingFrame{});
  AppendFrame(stream, HealthFrame{"123456789"});
  reader.Feed(stream);
  EXPECT_TRUE(reader.Next());
  EXPECT_FALSE(reader.Next());
  EXPECT_TRUE(reader.failed());
}

}  // namespace
}  // namespace derp
}  // namespace punchlab
