// The world each scenario key builds, seen through what a run measures:
// latencies add up link by link, NAT behaviour decides the path, nodes on
// one LAN talk locally, firewalls and nesting route, domains stay apart.
#include <gtest/gtest.h>

#include "results/run-options.h"
#include "model/punchlab-ns3-convert.h"
#include "run-sim/address-plan.h"
#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

using results::PathKind;
using testing::P50Ms;
using testing::Pair;
using testing::PairYaml;
using testing::RunYaml;

// One way: node link + the NAT's access link + its share of the internet,
// twice; the RTT is twice that. 1 + (1 + 10) + (1 + 10) + 1 = 24 ms each way.
TEST(RunSimWorld, DirectRttIsTheSumOfTheLinksBothWays) {
  const results::Results r = RunYaml(PairYaml("full-cone", "full-cone"));
  const results::PairSummary p = Pair(r, "alice", "bob");
  EXPECT_EQ(p.final_path, PathKind::kDirect);
  EXPECT_NEAR(P50Ms(p, results::RoundTripPath::kDirect), 48.0, 0.1);
}

// Relayed: each side to the DERP server is 1 + 11 + (10 + 10) = 32 ms.
TEST(RunSimWorld, RelayedRttCrossesTheDerpServerAndItsRegionLatency) {
  const results::Results r = RunYaml(PairYaml("symmetric", "symmetric"));
  const results::PairSummary p = Pair(r, "alice", "bob");
  EXPECT_EQ(p.final_path, PathKind::kDerp);
  EXPECT_FALSE(p.time_to_direct.has_value());
  EXPECT_NEAR(P50Ms(p, results::RoundTripPath::kDerp), 128.0, 0.5);
}

TEST(RunSimWorld, LinkLatencyKeysChangeTheRtt) {
  const results::Results r = RunYaml(
      "stop_time: 20s\n"
      "internet: {latency: 50ms}\n"
      "nats: {home: {preset: full-cone, link: {latency: 5ms}}}\n"
      "nodes:\n"
      "  alice: {behind: home, link: {latency: 3ms}}\n"
      "  server: {}\n"
      "traffic: [{from: alice, to: server, every: 500ms}]\n");
  // alice 3 + home 5 + 25, server (public) 1 + 25: 59 ms each way.
  EXPECT_NEAR(P50Ms(Pair(r, "alice", "server"), results::RoundTripPath::kDirect), 118.0, 0.1);
}

// Address-and-port-dependent filtering on one side and a fresh port per
// destination on the other: RFC 4787 says no; the path says derp.
TEST(RunSimWorld, PathFollowsTheNatBehaviour) {
  EXPECT_EQ(Pair(RunYaml(PairYaml("port-restricted-cone", "symmetric")), "alice", "bob").final_path,
            PathKind::kDerp);
  EXPECT_EQ(Pair(RunYaml(PairYaml("restricted-cone", "symmetric")), "alice", "bob").final_path,
            PathKind::kDirect);
}

TEST(RunSimWorld, NodesBehindOneNatTalkLocally) {
  const results::Results r = RunYaml(
      "stop_time: 20s\n"
      "nats: {office: {preset: symmetric}}\n"
      "nodes: {alice: {behind: office}, bob: {behind: office}}\n"
      "traffic: [{from: alice, to: bob, start: 1s, every: 200ms}]\n"
      "expect: [{between: [alice, bob], path: local, by: 5s}]\n");
  EXPECT_TRUE(r.AllExpectationsOk()) << r.expectations[0].observed;
  // 1 ms each way over each node's LAN link: 4 ms round trip, no internet.
  EXPECT_NEAR(P50Ms(Pair(r, "alice", "bob"), results::RoundTripPath::kLocal), 4.0, 0.1);
}

// A home NAT behind a carrier NAT: two translations, and two homes behind
// one carrier reach each other only by hairpinning at the carrier.
TEST(RunSimWorld, NestedNatsTranslateTwiceAndHairpinDecides) {
  const std::string base =
      "stop_time: 30s\n"
      "nats:\n"
      "  carrier: {preset: cgnat, hairpin: HAIRPIN}\n"
      "  home-a: {preset: full-cone, behind: carrier}\n"
      "  home-b: {preset: full-cone, behind: carrier}\n"
      "nodes: {alice: {behind: home-a}, bob: {behind: home-b}}\n"
      "traffic: [{from: alice, to: bob, every: 200ms}]\n";
  auto with = [&](const std::string& hairpin) {
    std::string y = base;
    y.replace(y.find("HAIRPIN"), 7, hairpin);
    return RunYaml(y);
  };
  const results::Results on = with("true");
  EXPECT_EQ(Pair(on, "alice", "bob").final_path, PathKind::kDirect);
  EXPECT_GT(testing::Counter(on, "nat/carrier", "hairpinned"), 0u);
  const results::Results off = with("false");
  EXPECT_EQ(Pair(off, "alice", "bob").final_path, PathKind::kDerp);
  EXPECT_GT(testing::Counter(off, "nat/carrier", "hairpin_refused"), 0u);
}

// Behind stateful firewalls hosts keep public addresses; hole punching works
// as through port-restricted NATs without translation, and blocking UDP
// leaves DERP.
TEST(RunSimWorld, FirewallsFilterWithoutTranslating) {
  const std::string yaml =
      "stop_time: 30s\n"
      "firewalls: {fw-a: {block_udp: BLOCK}, fw-b: {}}\n"
      "nodes: {alice: {behind: fw-a}, bob: {behind: fw-b}}\n"
      "traffic: [{from: alice, to: bob, every: 200ms}]\n";
  std::string open = yaml;
  open.replace(open.find("BLOCK"), 5, "false");
  const results::Results r = RunYaml(open);
  EXPECT_EQ(Pair(r, "alice", "bob").final_path, PathKind::kDirect);
  EXPECT_GT(testing::Counter(r, "firewall/fw-a", "passed_inbound"), 0u);
  std::string blocked = yaml;
  blocked.replace(blocked.find("BLOCK"), 5, "true");
  const results::Results b = RunYaml(blocked);
  EXPECT_EQ(Pair(b, "alice", "bob").final_path, PathKind::kDerp);
  EXPECT_GT(testing::Counter(b, "firewall/fw-a", "dropped_udp_blocked"), 0u);
}

// (Traffic across domains is refused by the loader: it could never flow.)
TEST(RunSimWorld, NodesLearnOnlyThePeersOfTheirOwnDomain) {
  const results::Results r = RunYaml(
      "stop_time: 20s\n"
      "control: {domains: [home, corp]}\n"
      "nodes:\n"
      "  alice: {domain: home}\n"
      "  bob: {domain: home}\n"
      "  carol: {domain: corp}\n"
      "  dave: {domain: corp}\n"
      "traffic: [{from: alice, to: bob}, {from: carol, to: dave}]\n");
  for (const results::PathChange& c : r.timeline) {
    const bool homeNode = c.node == "alice" || c.node == "bob";
    const bool homePeer = c.peer == "alice" || c.peer == "bob";
    EXPECT_EQ(homeNode, homePeer) << c.node << " learned of " << c.peer;
  }
  EXPECT_FALSE(testing::Timeline(r, "alice", "bob").empty());
  EXPECT_FALSE(testing::Timeline(r, "dave", "carol").empty());
  EXPECT_EQ(testing::Counter(r, "control", "registrations"), 4u);
}

TEST(RunSimWorld, AddressPlanRefusesMoreLinksThanItHolds) {
  AddressPlan plan;
  for (uint32_t i = 0; i < plan.public_links(); ++i) plan.NextPublic();
  EXPECT_THROW(plan.NextPublic(), results::RunError);
  const Subnet s = plan.NextPrivate();
  EXPECT_EQ(s.network, ns3::Ipv4Address("10.0.0.0"));
  EXPECT_EQ(s.Lower(), ns3::Ipv4Address("10.0.0.2"));
}

// Up to 2,048 public links every one is a /26, as it always was (so every
// scenario's addresses stay what they were); beyond, the subnets shrink so
// each of them still gets its own, down to /30s.
TEST(RunSimWorld, AddressPlanShrinksPublicSubnetsToGiveEveryLinkItsOwn) {
  AddressPlan small(2048);
  EXPECT_EQ(small.public_subnet_size(), 64u);
  EXPECT_EQ(small.NextPublic().network, ns3::Ipv4Address("198.18.0.0"));
  const Subnet second = small.NextPublic();
  EXPECT_EQ(second.network, ns3::Ipv4Address("198.18.0.64"));
  EXPECT_EQ(second.Lower(), ns3::Ipv4Address("198.18.0.66"));
  EXPECT_EQ(second.mask, ns3::Ipv4Mask("255.255.255.192"));

  EXPECT_EQ(AddressPlan(2049).public_subnet_size(), 32u);
  EXPECT_EQ(AddressPlan(8192).public_subnet_size(), 16u);

  // A crowd of 10,000 nodes behind their own NATs, DERP and control: /29s.
  AddressPlan crowd(10002);
  EXPECT_EQ(crowd.public_subnet_size(), 8u);
  Subnet last;
  for (uint32_t i = 0; i < 10002; ++i) {
    const Subnet s = crowd.NextPublic();
    EXPECT_EQ(s.mask, ns3::Ipv4Mask("255.255.255.248"));
    EXPECT_EQ(s.Usable(), 5u);
    EXPECT_EQ(s.network.CombineMask(s.mask), s.network) << "not aligned";
    EXPECT_FALSE(ns3::ToPunchlab(s.Lower()).IsPrivate());
    if (i > 0) {
      EXPECT_EQ(s.network.Get(), last.network.Get() + 8);
    }
    last = s;
  }
  EXPECT_EQ(last.network, ns3::Ipv4Address("198.19.56.136"));  // 198.18.0.0 + 8 * 10001

  AddressPlan most(AddressPlan::MaxPublicLinks());
  EXPECT_EQ(most.public_subnet_size(), 4u);
  EXPECT_EQ(most.public_links(), 32768u);
  for (uint32_t i = 0; i + 1 < most.public_links(); ++i) most.NextPublic();
  const Subnet top = most.NextPublic();
  EXPECT_EQ(top.Upper(), ns3::Ipv4Address("198.19.255.253"));
  EXPECT_EQ(top.Lower(), ns3::Ipv4Address("198.19.255.254"));
  EXPECT_THROW(most.NextPublic(), results::RunError);
  try {
    AddressPlan(32769);
    ADD_FAILURE() << "32,769 public links fit";
  } catch (const results::RunError& e) {
    EXPECT_NE(std::string(e.what()).find("room for 32768 links on public addresses (a /30 each"),
              std::string::npos)
        << e.what();
  }
}

// `count` nodes straight on the internet (a public link each), and `extra`.
std::string ManyPublicNodes(int count, const std::string& extra) {
  std::string yaml = "stop_time: 1s\n" + extra + "nodes:\n";
  for (int i = 0; i < count; ++i) yaml += "  n" + std::to_string(i) + ": {}\n";
  return yaml;
}

std::string RunErrorOf(const std::string& yaml) {
  try {
    RunYaml(yaml);
  } catch (const results::RunError& e) {
    return e.what();
  }
  return "(ran)";
}

// With more than 4,096 public links each gets a /28 (13 addresses for its
// lower end): a NAT of 16 external addresses no longer fits, and the run
// says so, and why, before it builds anything else.
TEST(RunSimWorld, ALinkThatOutgrowsItsSmallerPublicSubnetIsRefusedWithTheReason) {
  const std::string big = RunErrorOf(
      ManyPublicNodes(4100, "nats: {big: {preset: full-cone, external_ips: 16}}\n"));
  EXPECT_NE(big.find("link nat-big needs 16 addresses, more than its subnet holds (13): its "
                     "public subnet has 16 addresses because this scenario's 4103 public links "
                     "share 198.18.0.0/15"),
            std::string::npos)
      << big;
  // change-address needs a second set of external addresses in the subnet.
  const std::string moves = RunErrorOf(ManyPublicNodes(
      4100, "nats: {home: {preset: full-cone, external_ips: 8}}\n"
            "events: [{at: 500ms, nat: home, action: change-address}]\n"));
  EXPECT_NE(moves.find("NAT home changes address, but its uplink's subnet holds 13 addresses, "
                       "no second set of 8"),
            std::string::npos)
      << moves;
}

}  // namespace
}  // namespace punchlab::runsim
