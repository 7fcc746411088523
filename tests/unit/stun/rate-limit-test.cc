// The per-source rate limit of an Internet-facing STUN server: a token bucket
// per source IP on injected time, and what the server does with it.
#include <gtest/gtest.h>

#include <stdexcept>

#include "punchlab/random.h"
#include "punchlab/stun/rate-limit.h"
#include "punchlab/stun/server.h"

namespace punchlab {
namespace stun {
namespace {

const IpAddress kVictim = IpAddress::V4(203, 0, 113, 5);
const IpAddress kOther = IpAddress::V4(203, 0, 113, 6);
const Timestamp kStart = Timestamp::Zero() + Duration::Seconds(100);

Timestamp At(int64_t ms) { return kStart + Duration::Millis(ms); }

int AllowedOf(SourceRateLimiter& l, Timestamp now, const IpAddress& ip, int requests) {
  int allowed = 0;
  for (int i = 0; i < requests; ++i) allowed += l.Allow(now, ip) ? 1 : 0;
  return allowed;
}

TEST(SourceRateLimiter, BurstAtOnceThenTheSustainedRate) {
  SourceRateLimiter l({10, 5, 100});  // 10/s, bursts of 5
  EXPECT_EQ(AllowedOf(l, At(0), kVictim, 50), 5);
  EXPECT_EQ(l.stats().allowed, 5u);
  EXPECT_EQ(l.stats().limited, 45u);
  // One interval (100 ms) later exactly one more; not a moment earlier.
  EXPECT_EQ(AllowedOf(l, At(99), kVictim, 10), 0);
  EXPECT_EQ(AllowedOf(l, At(100), kVictim, 10), 1);
  // Flooding for 10 s more yields 10/s, whatever the flood's size: one at
  // 200 ms, 300 ms, ..., 10100 ms.
  int allowed = 0;
  for (int ms = 110; ms <= 10100; ms += 10) allowed += AllowedOf(l, At(ms), kVictim, 3);
  EXPECT_EQ(allowed, 100);
}

TEST(SourceRateLimiter, SourcesAreIndependent) {
  SourceRateLimiter l({1, 3, 100});
  EXPECT_EQ(AllowedOf(l, At(0), kVictim, 10), 3);
  EXPECT_EQ(AllowedOf(l, At(0), kOther, 10), 3);
  EXPECT_EQ(l.sources(), 2u);
}

TEST(SourceRateLimiter, QuietSourceGetsItsBurstBackButNoMore) {
  SourceRateLimiter l({2, 4, 100});
  EXPECT_EQ(AllowedOf(l, At(0), kVictim, 4), 4);
  // An hour of silence refills the bucket to its burst, not beyond.
  EXPECT_EQ(AllowedOf(l, At(3600 * 1000), kVictim, 100), 4);
}

TEST(SourceRateLimiter, FullTableForgetsRefilledSourcesElseFailsClosed) {
  SourceRateLimiter l({1, 1, 2});  // 1/s, no burst, two sources at most
  const IpAddress third = IpAddress::V4(203, 0, 113, 7);
  EXPECT_TRUE(l.Allow(At(0), kVictim));
  EXPECT_TRUE(l.Allow(At(0), kOther));
  // Both buckets still empty: a third source is refused, and counted.
  EXPECT_FALSE(l.Allow(At(500), third));
  EXPECT_EQ(l.stats().table_full, 1u);
  EXPECT_EQ(l.sources(), 2u);
  // The table is looked over again one interval after the last look (at
  // 500 ms): both have refilled by then, carry no state and are forgotten,
  // and the newcomer fits.
  EXPECT_FALSE(l.Allow(At(1499), third));
  EXPECT_TRUE(l.Allow(At(1500), third));
  EXPECT_EQ(l.sources(), 1u);
  EXPECT_EQ(l.stats().table_full, 2u);
}

TEST(SourceRateLimiter, ZeroSettingsAreAConfigurationError) {
  EXPECT_THROW(SourceRateLimiter({0, 1, 1}), std::invalid_argument);
  EXPECT_THROW(SourceRateLimiter({1, 0, 1}), std::invalid_argument);
  EXPECT_THROW(SourceRateLimiter({1, 1, 0}), std::invalid_argument);
}

// What a reflection attack through the server delivers to its victim.
struct Flood {
  uint64_t responses = 0;
  uint64_t response_bytes = 0;
  uint64_t request_bytes = 0;
};

Flood FloodFrom(StunServer& server, const IpAddress& source, int per_ms, int ms) {
  DeterministicRandom rng(7);
  Flood f;
  for (int t = 0; t < ms; ++t) {
    for (int i = 0; i < per_ms; ++i) {
      Message m;
      m.transaction_id = TransactionId::Random(rng);
      const Bytes request = EncodeMessage(m);
      f.request_bytes += request.size();
      server.HandleDatagram(At(t), server.config().primary, Endpoint(source, 40000), request);
      while (auto out = server.PollTransmit()) {
        EXPECT_EQ(out->destination.ip, source);
        ++f.responses;
        f.response_bytes += out->payload.size();
      }
    }
  }
  return f;
}

StunServerConfig Config() {
  StunServerConfig c;
  c.primary = Endpoint(IpAddress::V4(198, 51, 100, 1), 3478);
  return c;
}

TEST(StunServerRateLimit, OffByDefaultEveryRequestIsAnsweredLargerThanItCame) {
  StunServer server(Config());
  const Flood f = FloodFrom(server, kVictim, 10, 1000);
  EXPECT_EQ(f.responses, 10000u);
  EXPECT_GT(f.response_bytes, 3 * f.request_bytes);  // the amplification the limit bounds
  EXPECT_EQ(server.stats().dropped_rate_limited, 0u);
}

TEST(StunServerRateLimit, ASpoofedVictimGetsAtMostItsRateAndOthersAreServed) {
  StunServerConfig c = Config();
  c.rate_limit = RateLimitConfig{20, 10, 1024};
  StunServer server(c);
  // 10,000 requests/s "from" the victim for 3 s: 10 at once, then 20/s.
  const Flood f = FloodFrom(server, kVictim, 10, 3000);
  EXPECT_EQ(f.responses, 10u + 59u);
  EXPECT_EQ(server.stats().dropped_rate_limited, 30000u - f.responses);
  EXPECT_EQ(server.stats().requests, f.responses);  // dropped before decoding
  // Another source is answered as usual meanwhile.
  EXPECT_EQ(FloodFrom(server, kOther, 1, 1).responses, 1u);
}

}  // namespace
}  // namespace stun
}  // namespace punchlab
