// Scenario firewalls as nftables rules.
#include "run-real/firewall-ruleset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::runreal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(FirewallRuleset, StatefulByDefault) {
  const std::string r = FirewallRuleset(nat::FirewallConfig{});
  EXPECT_THAT(r, HasSubstr("table inet punchlab_fw\ndelete table inet punchlab_fw\n"));
  EXPECT_THAT(r, HasSubstr("    ct state established,related accept\n"
                           "    iifname \"wan\" drop\n"));
  EXPECT_THAT(r, Not(HasSubstr("l4proto udp drop")));
  EXPECT_THAT(r, Not(HasSubstr("oifname \"wan\" drop")));
  // The router itself takes nothing unsolicited from outside.
  EXPECT_THAT(r, HasSubstr("type filter hook input priority filter; policy accept;\n"
                           "    iifname \"wan\" ct state new drop\n"));
}

TEST(FirewallRuleset, BlockUdpDropsUdpCrossingWanBeforeAnyFlowIsAccepted) {
  nat::FirewallConfig c;
  c.block_udp = true;
  const std::string r = FirewallRuleset(c);
  const size_t drop_in = r.find("iifname \"wan\" meta l4proto udp drop");
  const size_t drop_out = r.find("oifname \"wan\" meta l4proto udp drop");
  const size_t flows = r.find("ct state established,related accept");
  ASSERT_NE(drop_in, std::string::npos);
  ASSERT_NE(drop_out, std::string::npos);
  EXPECT_LT(drop_in, flows);
  EXPECT_LT(drop_out, flows);
}

TEST(FirewallRuleset, AllowListsBecomePortMatches) {
  nat::FirewallConfig c;
  c.inbound_allow = {{nat::Protocol::kUdp, 41641, 41641}, {nat::Protocol::kTcp, 1000, 2000},
                     {nat::Protocol::kUdp, 0, 65535}};
  c.outbound_allow = {{nat::Protocol::kTcp, 443, 443}};
  const std::string r = FirewallRuleset(c);
  EXPECT_THAT(r, HasSubstr("    iifname \"wan\" udp dport 41641 accept\n"
                           "    iifname \"wan\" tcp dport 1000-2000 accept\n"
                           "    iifname \"wan\" meta l4proto udp accept\n"
                           "    iifname \"wan\" drop\n"
                           "    oifname \"wan\" tcp dport 443 accept\n"
                           "    oifname \"wan\" drop\n"));
}

}  // namespace
}  // namespace punchlab::runreal
