// A scenario NAT's port_mapping in the real lab: its router's place in the
// address plan (11.0.0.0/24, because miniupnpd refuses reserved WANs), the
// daemon's configuration from the knobs, the nodes' --gateway, and the
// knobs miniupnpd cannot do refused by position.
#include "run-real/portmap-translation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "results/run-options.h"
#include "run-real-test-util.h"
#include "run-real/commands.h"
#include "run-real/lab-plan.h"
#include "run-real/nat-translation.h"
#include "scenario/meaning/port-mapping.h"

namespace punchlab::runreal {
namespace {

using ::testing::HasSubstr;
using testing::LoadOk;

const char* kPair = R"(
stop_time: 10s
derp: {regions: [{id: 1, name: fra}]}
nats:
  nat-a: {preset: symmetric, port_mapping: {protocols: [pmp]}}
  nat-b: {preset: symmetric}
nodes:
  alice: {behind: nat-a}
  bob: {behind: nat-b}
  carol: {}
)";

TEST(PortMappingLab, TheMappingRouterGetsItsWanFrom11OnTheCoresBridge) {
  const LabPlan plan = PlanLab(LoadOk(kPair));
  EXPECT_EQ(plan.core_portmap_cidr, "11.0.0.1/24");
  const BoxPlan* a = plan.FindBox("nat-a");
  const BoxPlan* b = plan.FindBox("nat-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->uplink.address, "11.0.0.2");
  EXPECT_EQ(a->uplink.gateway, "11.0.0.1");
  EXPECT_EQ(a->uplink.parent_ns, "inet");
  EXPECT_EQ(a->uplink.parent_bridge, "core");
  EXPECT_TRUE(a->uplink.to_internet);
  // The other NAT and everything else stay in 203.0.113.0/24; the bridge's
  // ports are numbered once for both networks.
  // (DERP .2/p0 and control .3/p1 come first.)
  EXPECT_EQ(b->uplink.address, "203.0.113.4");
  EXPECT_EQ(a->uplink.parent_port, "p2");
  EXPECT_EQ(b->uplink.parent_port, "p3");
  EXPECT_EQ(plan.FindNode("carol")->uplink.address, "203.0.113.5");
  EXPECT_EQ(plan.FindNode("carol")->uplink.parent_port, "p4");
}

TEST(PortMappingLab, NoMappingRouterNoSecondNetwork) {
  const LabPlan plan = PlanLab(LoadOk(R"(
nats: {home: {preset: symmetric}}
nodes: {a: {behind: home}}
)"));
  EXPECT_TRUE(plan.core_portmap_cidr.empty());
  EXPECT_EQ(plan.FindBox("home")->uplink.address, "203.0.113.4");
}

// Only a node whose box is a NAT asks; it asks that NAT's LAN address.
TEST(PortMappingLab, NodesBehindANatAskTheirGateway) {
  const scenario::Scenario s = LoadOk(kPair);
  const LabPlan plan = PlanLab(s);
  ASSERT_NE(scenario::PortMappingGateway(s, s.nodes[0]), nullptr);
  EXPECT_EQ(scenario::PortMappingGateway(s, s.nodes[0])->name, "nat-a");
  EXPECT_EQ(scenario::PortMappingGateway(s, s.nodes[1])->name, "nat-b");
  EXPECT_EQ(scenario::PortMappingGateway(s, s.nodes[2]), nullptr);
  const NodeIdentity id{"privkey:1", "nodekey:1", "pltoken1.x"};
  const auto asks = NodeArgv("/bin/node", plan.nodes[0], plan.control.uplink.address, "nodekey:c",
                             id, {}, 1, s.stop_time, {}, false, true);
  const auto it = std::find(asks.begin(), asks.end(), "--gateway");
  ASSERT_NE(it, asks.end());
  ASSERT_NE(it + 1, asks.end());
  EXPECT_EQ(*(it + 1), "10.1.0.1");
  const auto quiet = NodeArgv("/bin/node", plan.nodes[2], plan.control.uplink.address,
                              "nodekey:c", id, {}, 1, s.stop_time, {}, false, false);
  EXPECT_EQ(std::count(quiet.begin(), quiet.end(), "--gateway"), 0);
  const scenario::Scenario behind_fw = LoadOk(R"(
firewalls: {fw: {}}
nats: {home: {behind: fw}}
nodes: {a: {behind: fw}, b: {behind: home}}
)");
  EXPECT_EQ(scenario::PortMappingGateway(behind_fw, behind_fw.nodes[0]), nullptr);
  EXPECT_NE(scenario::PortMappingGateway(behind_fw, behind_fw.nodes[1]), nullptr);
}

TEST(PortMappingLab, TheDaemonIsConfiguredFromTheKnobs) {
  nat::PortMappingConfig c;
  c.pmp = c.pcp = true;
  LabPortMapping both = TranslatePortMapping(c, "10.1.0.0/24");
  EXPECT_EQ(both.daemon.lan_cidr, "10.1.0.0/24");
  EXPECT_TRUE(both.daemon.natpmp);
  EXPECT_FALSE(both.daemon.upnp);
  EXPECT_FALSE(both.daemon.drop_pmp);
  EXPECT_FALSE(both.daemon.drop_pcp);
  // The epoch restarts with the daemon, as the model's with the router.
  EXPECT_FALSE(both.daemon.system_uptime);
  EXPECT_TRUE(both.differences.empty());

  c.pcp = false;
  LabPortMapping pmp = TranslatePortMapping(c, "10.1.0.0/24");
  EXPECT_FALSE(pmp.daemon.drop_pmp);
  EXPECT_TRUE(pmp.daemon.drop_pcp);
  ASSERT_EQ(pmp.differences.size(), 1u);
  EXPECT_THAT(pmp.differences[0], HasSubstr("drops PCP requests unanswered"));
  const std::string rules = lab::MiniupnpdRuleset(pmp.daemon);
  EXPECT_THAT(rules, HasSubstr("udp dport 5351 @th,64,8 2 drop"));
  EXPECT_THAT(rules, ::testing::Not(HasSubstr("@th,64,8 0 drop")));

  nat::PortMappingConfig pcp;
  pcp.pcp = true;
  pcp.lease_limit = Duration::Seconds(60);
  LabPortMapping p = TranslatePortMapping(pcp, "10.1.0.0/24");
  EXPECT_TRUE(p.daemon.drop_pmp);
  EXPECT_FALSE(p.daemon.upnp);
  EXPECT_EQ(p.daemon.max_lifetime, Duration::Seconds(60));
  EXPECT_EQ(p.daemon.min_lifetime, Duration::Seconds(60));
  const std::string conf = lab::MiniupnpdConf(p.daemon, "/d");
  EXPECT_THAT(conf, HasSubstr("max_lifetime=60\n"));
  EXPECT_THAT(conf, HasSubstr("system_uptime=no\n"));

  // UPnP is miniupnpd's IGD; a lease limit on it is not (max_lifetime
  // bounds PCP only), so that pair is refused rather than not enforced.
  nat::PortMappingConfig igd;
  igd.upnp = true;
  EXPECT_TRUE(TranslatePortMapping(igd, "10.1.0.0/24").daemon.upnp);
  igd.lease_limit = Duration::Seconds(60);
  EXPECT_THROW(TranslatePortMapping(igd, "10.1.0.0/24"), results::RunError);
}

TEST(PortMappingLab, WhatMiniupnpdCannotDoIsRefusedByPosition) {
  try {
    CheckNatsBuildable(LoadOk(R"(
stop_time: 10s
nats:
  top: {preset: symmetric, port_mapping: {protocols: [pmp], error: out-of-resources}}
  low: {behind: top, port_mapping: {protocols: [pcp], answer_from: lan-address}}
  capped: {port_mapping: {protocols: [pmp, pcp], lease_limit: 60s}}
  moving: {port_mapping: {protocols: [pcp]}}
  igd: {port_mapping: {protocols: [upnp, pcp], lease_limit: 60s}}
nodes: {a: {behind: low}, b: {behind: capped}, c: {behind: moving}, d: {behind: igd}}
events: [{at: 5s, nat: moving, action: change-address}]
)"));
    FAIL() << "built";
  } catch (const results::RunError& e) {
    const std::string what = e.what();
    EXPECT_THAT(what, HasSubstr("\nt.yaml:4:28: nat top: port_mapping.error=out-of-resources: "))
        << what;
    EXPECT_THAT(what, HasSubstr("\nt.yaml:5:22: nat low: port_mapping.answer_from=lan-address: "))
        << what;
    EXPECT_THAT(what, HasSubstr("\nt.yaml:5:22: nat low: port_mapping behind top: miniupnpd "))
        << what;
    EXPECT_THAT(what, HasSubstr("\nt.yaml:6:12: nat capped: port_mapping.lease_limit=60s with "
                                "pmp: "))
        << what;
    EXPECT_THAT(what, HasSubstr("\nt.yaml:7:12: nat moving: port_mapping with a change-address "
                                "event"))
        << what;
    EXPECT_THAT(what, HasSubstr("\nt.yaml:8:9: nat igd: port_mapping.lease_limit=60s with "
                                "upnp: miniupnpd 2.3.1 grants UPnP lease durations as asked"))
        << what;
  }
  // The library's pair is buildable.
  EXPECT_NO_THROW(CheckNatsBuildable(LoadOk(kPair)));
}

}  // namespace
}  // namespace punchlab::runreal
