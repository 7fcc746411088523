// The serialisation-time tables (model/shaped-net-device.h): one per link
// rate, shared by its devices; the process keeps only the last kTxTimeRates
// rates', so a sweep over many bandwidths in one process stays bounded, and a
// table in use outlives its eviction.
#include "model/shaped-net-device.h"

#include <gtest/gtest.h>

#include <memory>

namespace ns3 {
namespace {

TEST(TxTimeTables, OneTablePerRateAndAtMostTheCapKept) {
  // Rates no other test in this process asks for.
  const uint64_t base = 987'654'000;
  std::shared_ptr<TxTimeTable> first = TxTimesFor(base);
  ASSERT_EQ(first->size(), kTxTimeSizes);
  (*first)[100] = punchlab::Duration::Nanos(42);
  EXPECT_EQ(TxTimesFor(base), first);  // the same table for the same rate
  for (uint64_t i = 1; i <= 2 * kTxTimeRates; ++i) {
    TxTimesFor(base + i);
    EXPECT_LE(CachedTxTimeRates(), kTxTimeRates) << i;
  }
  EXPECT_EQ(CachedTxTimeRates(), kTxTimeRates);
  // The newest rates stay; the first was evicted, but its holder keeps it whole.
  EXPECT_EQ(TxTimesFor(base + 2 * kTxTimeRates), TxTimesFor(base + 2 * kTxTimeRates));
  EXPECT_EQ((*first)[100], punchlab::Duration::Nanos(42));
  std::shared_ptr<TxTimeTable> again = TxTimesFor(base);
  EXPECT_NE(again, first);
  EXPECT_FALSE((*again)[100].has_value());
  EXPECT_EQ(CachedTxTimeRates(), kTxTimeRates);
}

}  // namespace
}  // namespace ns3
