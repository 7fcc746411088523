// Quantities with units: exact conversion, and refusal of anything else.
#include <gtest/gtest.h>

#include "punchlab/time.h"
#include "scenario/units.h"

namespace punchlab::scenario {
namespace {

TEST(Units, BitRates) {
  EXPECT_EQ(ParseBitRate("10Mbit"), 10000000u);
  EXPECT_EQ(ParseBitRate("1Gbit"), 1000000000u);
  EXPECT_EQ(ParseBitRate("1.5Gbit"), 1500000000u);
  EXPECT_EQ(ParseBitRate("64kbit"), 64000u);
  EXPECT_EQ(ParseBitRate("64Kbit"), 64000u);
  EXPECT_EQ(ParseBitRate("100mbit"), 100000000u);  // tc's spelling
  EXPECT_EQ(ParseBitRate("1Kibit"), 1024u);
  EXPECT_EQ(ParseBitRate("2Mibit"), 2u * 1024 * 1024);
  EXPECT_EQ(ParseBitRate("1000bit"), 1000u);
  EXPECT_EQ(ParseBitRate("10Mbit/s"), 10000000u);
  EXPECT_EQ(ParseBitRate("0.5kbit"), 500u);
  EXPECT_EQ(ParseBitRate("1.50Mbit"), 1500000u);  // trailing zeros are harmless
}

TEST(Units, BadBitRates) {
  for (const char* text : {"10", "10MB", "10 Mbit", "Mbit", "-1Mbit", "1.5bit", "10Mbps",
                           "1.Mbit", ".5Mbit", "10Tbit", "", "99999999999999999999bit",
                           "20000000000Gbit"}) {
    EXPECT_FALSE(ParseBitRate(text)) << text;
  }
}

TEST(Units, Sizes) {
  EXPECT_EQ(ParseSize("200B"), 200u);
  EXPECT_EQ(ParseSize("1.5KiB"), 1536u);
  EXPECT_EQ(ParseSize("1KB"), 1000u);
  EXPECT_EQ(ParseSize("1kB"), 1000u);
  EXPECT_EQ(ParseSize("2MiB"), 2u * 1024 * 1024);
  EXPECT_EQ(ParseSize("1MB"), 1000000u);
  EXPECT_EQ(ParseSize("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(ParseSize("0B"), 0u);
}

TEST(Units, BadSizes) {
  for (const char* text : {"200", "0.5B", "1.1KiB", "200b", "200 B", "B", "1kiB", "1.5"}) {
    EXPECT_FALSE(ParseSize(text)) << text;
  }
}

TEST(Units, Percentages) {
  EXPECT_DOUBLE_EQ(*ParsePercent("1%"), 0.01);
  EXPECT_DOUBLE_EQ(*ParsePercent("0.5%"), 0.005);
  EXPECT_DOUBLE_EQ(*ParsePercent("0%"), 0.0);
  EXPECT_DOUBLE_EQ(*ParsePercent("100%"), 1.0);
  for (const char* text : {"1", "0.01", "100.5%", "101%", "-1%", "1 %", "%", "1%%", ".5%"}) {
    EXPECT_FALSE(ParsePercent(text)) << text;
  }
}

TEST(Units, BareNumbers) {
  EXPECT_TRUE(IsBareNumber("20"));
  EXPECT_TRUE(IsBareNumber("1.5"));
  EXPECT_FALSE(IsBareNumber("20ms"));
  EXPECT_FALSE(IsBareNumber("fast"));
}

// Durations in scenarios are Duration::Parse's: the same units as NAT specs.
TEST(Units, Durations) {
  EXPECT_EQ(Duration::Parse("20ms"), Duration::Millis(20));
  EXPECT_EQ(Duration::Parse("1.5s"), Duration::Millis(1500));
  EXPECT_EQ(Duration::Parse("2m"), Duration::Seconds(120));
  EXPECT_FALSE(Duration::Parse("20"));
}

}  // namespace
}  // namespace punchlab::scenario
