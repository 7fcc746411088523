#include "punchlab/control/frame.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace punchlab::control {
namespace {

TEST(Frame, LengthPrefixIsU32BigEndian) {
  const Bytes payload = {'a', 'b', 'c'};
  EXPECT_EQ(EncodeFrame(payload), (Bytes{0, 0, 0, 3, 'a', 'b', 'c'}));
  EXPECT_EQ(EncodeFrame(Bytes(300, 'x')).size(), 304u);
  EXPECT_EQ(EncodeFrame(Bytes(300, 'x'))[2], 1);
  EXPECT_EQ(EncodeFrame(Bytes(300, 'x'))[3], 44);
}

TEST(Frame, DecodesFramesSplitAnywhereAndJoined) {
  Bytes stream = EncodeFrame(Bytes{1, 2, 3});
  const Bytes second = EncodeFrame(Bytes{});
  const Bytes third = EncodeFrame(Bytes(1000, 7));
  stream.insert(stream.end(), second.begin(), second.end());
  stream.insert(stream.end(), third.begin(), third.end());

  // One byte at a time.
  FrameDecoder d;
  std::vector<Bytes> frames;
  for (uint8_t b : stream) {
    d.Feed(ByteView(&b, 1));
    while (auto f = d.Next()) frames.push_back(*f);
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], (Bytes{1, 2, 3}));
  EXPECT_TRUE(frames[1].empty());
  EXPECT_EQ(frames[2], Bytes(1000, 7));
  EXPECT_EQ(d.buffered(), 0u);

  // All at once.
  FrameDecoder all;
  all.Feed(stream);
  int n = 0;
  while (all.Next()) ++n;
  EXPECT_EQ(n, 3);
  EXPECT_FALSE(all.broken());
}

// A connection lives as long as its node; one big frame (a whole netmap of
// a large tailnet) must not keep its buffer for that long.
TEST(Frame, ABigFrameDoesNotLeaveItsBufferBehind) {
  const Bytes big = EncodeFrame(Bytes(1 << 20, 9));
  const Bytes small = EncodeFrame(Bytes{4, 5});
  FrameDecoder d;
  d.Feed(ByteView(big).sub(0, 1000));
  EXPECT_FALSE(d.Next());
  d.Feed(ByteView(big).sub(1000));
  EXPECT_GE(d.capacity(), big.size());
  ASSERT_EQ(d.Next(), Bytes(1 << 20, 9));
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_LE(d.capacity(), 16u << 10);
  // Frames split across feeds still decode after that.
  d.Feed(ByteView(small).sub(0, 3));
  EXPECT_FALSE(d.Next());
  d.Feed(ByteView(small).sub(3));
  EXPECT_EQ(d.Next(), (Bytes{4, 5}));
  EXPECT_FALSE(d.Next());
  EXPECT_FALSE(d.broken());
}

// Many nodes are part-way through one big frame at once (every member's
// netmap of a large tailnet): each holds at most that frame, not the doubling
// past it, and at most twice what has arrived of it so far.
TEST(Frame, APartialBigFrameHoldsNoMoreThanTheFrame) {
  const Bytes big = EncodeFrame(Bytes(300000, 9));
  FrameDecoder d;
  size_t fed = 0;
  while (fed < big.size()) {
    const size_t n = std::min<size_t>(1448, big.size() - fed);
    d.Feed(ByteView(big).sub(fed, n));
    fed += n;
    EXPECT_LE(d.capacity(), big.size());
    EXPECT_LE(d.capacity(), std::max<size_t>(2 * fed, 2 * 1448));
    if (fed < big.size()) {
      EXPECT_FALSE(d.Next());
    }
  }
  EXPECT_EQ(d.capacity(), big.size());
  ASSERT_EQ(d.Next(), Bytes(300000, 9));
  // The length prefix split across feeds, then a frame and a half in one.
  const Bytes small = EncodeFrame(Bytes(100, 1));
  Bytes joined = small;
  joined.insert(joined.end(), big.begin(), big.begin() + 1000);
  d.Feed(ByteView(small).sub(0, 2));
  d.Feed(ByteView(joined).sub(2));
  EXPECT_EQ(d.Next(), Bytes(100, 1));
  EXPECT_FALSE(d.Next());
  d.Feed(ByteView(big).sub(1000));
  EXPECT_LE(d.capacity(), big.size());
  EXPECT_EQ(d.Next(), Bytes(300000, 9));
  EXPECT_FALSE(d.broken());
}

// A big frame followed in the same bytes by the start of a small one: the big
// frame's buffer does not stay for the small one.
TEST(Frame, TheRestAfterABigFrameMovesToABufferOfItsOwn) {
  Bytes stream = EncodeFrame(Bytes(200000, 3));
  const Bytes small = EncodeFrame(Bytes(10, 4));
  stream.insert(stream.end(), small.begin(), small.begin() + 6);
  FrameDecoder d;
  d.Feed(stream);
  ASSERT_EQ(d.Next(), Bytes(200000, 3));
  EXPECT_EQ(d.buffered(), 6u);
  EXPECT_LE(d.capacity(), 16u << 10);
  d.Feed(ByteView(small).sub(6));
  EXPECT_EQ(d.Next(), Bytes(10, 4));
}

TEST(Frame, OversizedLengthBreaksTheStreamWithoutWaitingForIt) {
  FrameDecoder d(100);
  d.Feed(EncodeFrame(Bytes(100, 1)));  // exactly the limit is fine
  ASSERT_TRUE(d.Next());
  d.Feed(Bytes{0, 0, 0, 101});  // header only: refused before any payload
  EXPECT_FALSE(d.Next());
  EXPECT_TRUE(d.broken());
  EXPECT_EQ(d.buffered(), 0u);
  d.Feed(EncodeFrame(Bytes{1}));  // nothing comes out of a broken stream
  EXPECT_FALSE(d.Next());

  FrameDecoder huge;
  huge.Feed(Bytes{0xff, 0xff, 0xff, 0xff});
  EXPECT_FALSE(huge.Next());
  EXPECT_TRUE(huge.broken());
}

}  // namespace
}  // namespace punchlab::control
