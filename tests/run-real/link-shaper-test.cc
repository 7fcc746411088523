// The commands that shape one direction of a lab link: tc for delay, jitter
// and rate (netem, or tbf without netem), nftables ingress for loss and down.
#include "lab/link-shaper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::lab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

LinkShape Shape(Duration delay, Duration jitter = Duration::Zero(), double loss = 0,
                uint64_t rate = 0, bool down = false) {
  return LinkShape{delay, jitter, loss, rate, down};
}

TEST(LinkShaper, NetemCarriesDelayJitterAndRate) {
  EXPECT_THAT(EgressCommand("ns1", "eth0", Shape(Duration::Millis(20), Duration::Millis(2), 0, 10000000),
                            true, false),
              ElementsAre("tc", "-n", "ns1", "qdisc", "replace", "dev", "eth0", "root", "netem",
                          "delay", "20000us", "2000us", "rate", "10000000bit"));
  EXPECT_THAT(EgressCommand("ns1", "eth0", Shape(Duration::Millis(1)), true, false),
              ElementsAre("tc", "-n", "ns1", "qdisc", "replace", "dev", "eth0", "root", "netem",
                          "delay", "1000us"));
}

TEST(LinkShaper, WithoutNetemOnlyTheRateIsShapedByTbf) {
  EXPECT_THAT(EgressCommand("ns1", "p3", Shape(Duration::Millis(20), Duration::Zero(), 0, 64000),
                            false, false),
              ElementsAre("tc", "-n", "ns1", "qdisc", "replace", "dev", "p3", "root", "tbf",
                          "rate", "64000bit", "burst", "3000b", "latency", "200ms"));
  EXPECT_THAT(EgressCommand("ns1", "p3", Shape(Duration::Millis(20)), false, false), IsEmpty());
}

TEST(LinkShaper, NothingLeftToShapeRemovesAnInstalledQdisc) {
  EXPECT_THAT(EgressCommand("ns1", "eth0", Shape(Duration::Zero()), true, false), IsEmpty());
  EXPECT_THAT(EgressCommand("ns1", "eth0", Shape(Duration::Zero()), true, true),
              ElementsAre("tc", "-n", "ns1", "qdisc", "del", "dev", "eth0", "root"));
}

TEST(LinkShaper, LossIsARandomDropAtTheReceivingEnd) {
  const std::string r = IngressRuleset("eth0", Shape(Duration::Zero(), Duration::Zero(), 0.01), false);
  EXPECT_THAT(r, HasSubstr("table netdev punchlab_in_eth0\ndelete table netdev punchlab_in_eth0\n"));
  EXPECT_THAT(r, HasSubstr("type filter hook ingress device \"eth0\" priority 0; policy accept;"));
  EXPECT_THAT(r, HasSubstr("numgen random mod 1000000 < 10000 drop"));
}

TEST(LinkShaper, DownDropsEverythingAndUpRemovesTheTable) {
  const std::string down = IngressRuleset("p0", Shape(Duration::Zero(), Duration::Zero(), 0.5, 0, true), false);
  EXPECT_THAT(down, HasSubstr("    drop\n"));
  EXPECT_THAT(down, ::testing::Not(HasSubstr("numgen")));
  EXPECT_EQ(IngressRuleset("p0", Shape(Duration::Zero()), true),
            "table netdev punchlab_in_p0\ndelete table netdev punchlab_in_p0\n");
  EXPECT_EQ(IngressRuleset("p0", Shape(Duration::Zero()), false), "");
}

}  // namespace
}  // namespace punchlab::lab
