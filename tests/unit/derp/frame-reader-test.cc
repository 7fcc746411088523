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
  AppendFrame(out, PeerPresentFrame{KeyOf(6), std::nullopt, std::nullopt});
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

// What one reader makes of the whole stream fed at once: the frames every
// other way of cutting it must give.
std::vector<Frame> ReadWhole(const Bytes& stream) {
  FrameReader whole;
  whole.Feed(stream);
  return ReadAll(whole);
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
  const auto expected = ReadWhole(stream);
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
  const auto expected = ReadWhole(stream);
  FrameReader reader;
  std::vector<Frame> got;
  for (uint8_t b : stream) {
    reader.Feed(ByteView(&b, 1));
    auto more = ReadAll(reader);
    got.insert(got.end(), more.begin(), more.end());
  }
  ExpectSame(got, expected);
}

// Reads `stream` the way a relay does: each piece borrowed, parsed in place,
// what is left kept, and the piece's memory then scribbled over (as the
// host's next read would), so any view into it that outlived Keep() shows.
std::vector<Frame> ReadBorrowed(const Bytes& stream, const std::vector<size_t>& cuts,
                                FrameReader& reader) {
  std::vector<Frame> out;
  size_t from = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t to = i < cuts.size() ? cuts[i] : stream.size();
    Bytes piece(stream.begin() + static_cast<std::ptrdiff_t>(from),
                stream.begin() + static_cast<std::ptrdiff_t>(to));
    reader.Borrow(piece);
    while (auto f = reader.NextView()) out.push_back(Frame{f->type, f->payload.ToBytes()});
    reader.Keep();
    std::fill(piece.begin(), piece.end(), 0xee);
    from = to;
  }
  return out;
}

TEST(DerpFrameReader, BorrowedSplitAtEveryByteBoundaryParsesTheSame) {
  const Bytes stream = AllFrames();
  const auto expected = ReadWhole(stream);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    ExpectSame(ReadBorrowed(stream, {cut}, reader), expected);
    EXPECT_EQ(reader.buffered(), 0u) << cut;
  }
}

TEST(DerpFrameReader, BorrowedThreeWaySplitsParseTheSame) {
  const Bytes stream = AllFrames();
  const auto expected = ReadWhole(stream);
  for (size_t a = 0; a <= stream.size(); a += 3) {
    for (size_t b = a; b <= stream.size(); b += 7) {
      FrameReader reader;
      ExpectSame(ReadBorrowed(stream, {a, b}, reader), expected);
    }
  }
}

TEST(DerpFrameReader, BorrowingCopiesOnlyWhatAFrameSpanningReadsLacks) {
  Bytes stream;
  AppendFrame(stream, SendPacketFrame{KeyOf(1), Bytes(1000, 0x11)});
  AppendFrame(stream, SendPacketFrame{KeyOf(2), Bytes(1000, 0x22)});
  AppendFrame(stream, SendPacketFrame{KeyOf(3), Bytes(1000, 0x33)});
  const size_t frame = kFrameHeaderSize + kKeySize + 1000;
  FrameReader reader;
  // The first read ends 10 bytes into the second frame.
  const Bytes first(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(frame + 10));
  reader.Borrow(first);
  auto f = reader.NextView();
  ASSERT_TRUE(f);
  // Parsed in place: the payload is inside the borrowed bytes.
  EXPECT_EQ(f->payload.data(), first.data() + kFrameHeaderSize);
  EXPECT_FALSE(reader.NextView());
  EXPECT_EQ(reader.buffered(), 10u);
  reader.Keep();
  EXPECT_EQ(reader.buffered(), 10u);
  // The second read completes that frame (in the reader's buffer) and holds
  // the third whole, which is parsed in place again.
  const Bytes second(stream.begin() + static_cast<std::ptrdiff_t>(frame + 10), stream.end());
  reader.Borrow(second);
  f = reader.NextView();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->payload.data() < second.data() ||
              f->payload.data() >= second.data() + second.size());
  const NodePublicKey key2 = KeyOf(2);
  Bytes want(key2.view().begin(), key2.view().end());
  want.insert(want.end(), 1000, 0x22);
  EXPECT_EQ(f->payload.ToBytes(), want);
  f = reader.NextView();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload.data(), second.data() + (frame - 10) + kFrameHeaderSize);
  EXPECT_EQ(f->payload[kKeySize], 0x33);
  EXPECT_FALSE(reader.NextView());
  reader.Keep();
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(DerpFrameReader, FeedAfterAnUnkeptBorrowKeepsTheOrder) {
  // A caller that borrows twice without Keep() in between loses nothing.
  Bytes stream;
  AppendFrame(stream, PingFrame{{1, 1, 1, 1, 1, 1, 1, 1}});
  AppendFrame(stream, PongFrame{{2, 2, 2, 2, 2, 2, 2, 2}});
  FrameReader reader;
  const Bytes a(stream.begin(), stream.begin() + 7);
  const Bytes b(stream.begin() + 7, stream.end());
  reader.Borrow(a);
  reader.Feed(b);
  auto first = reader.Next();
  auto second = reader.Next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->type, FrameType::kPing);
  EXPECT_EQ(second->type, FrameType::kPong);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(DerpFrameReader, OversizedLengthInBorrowedBytesFailsAndDropsThem) {
  Bytes stream;
  AppendFrame(stream, PingFrame{});
  stream.insert(stream.end(), {0x04, 0x00, 0x01, 0x00, 0x41, 0x00, 0x00});
  FrameReader reader;
  reader.Borrow(stream);
  EXPECT_TRUE(reader.NextView());
  EXPECT_FALSE(reader.NextView());
  EXPECT_TRUE(reader.failed());
  EXPECT_EQ(reader.buffered(), 0u);
  reader.Keep();
  EXPECT_EQ(reader.buffered(), 0u);
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
