// The real lab's address plan: what PlanLab builds for a scenario.
#include "run-real/lab-plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "results/run-options.h"
#include "run-real-test-util.h"

namespace punchlab::runreal {
namespace {

using ::testing::ElementsAre;
using testing::LoadOk;

TEST(LabPlan, PublicThingsHangOffTheInternetInFileOrder) {
  const LabPlan plan = PlanLab(LoadOk(R"(
derp: {regions: [{id: 1, name: fra}, {id: 2, name: nyc}]}
nats: {home: {preset: full-cone}}
nodes: {laptop: {behind: home}, server: {}}
)"));
  ASSERT_EQ(plan.derp.size(), 2u);
  EXPECT_EQ(plan.derp[0].ns, "derp0");
  EXPECT_EQ(plan.derp[0].uplink.address, "203.0.113.2");
  EXPECT_EQ(plan.derp[1].uplink.address, "203.0.113.3");
  EXPECT_EQ(plan.control.uplink.address, "203.0.113.4");
  ASSERT_EQ(plan.nats.size(), 1u);
  EXPECT_EQ(plan.nats[0].ns, "nat0");
  EXPECT_EQ(plan.nats[0].uplink.ifname, "wan");
  EXPECT_EQ(plan.nats[0].uplink.address, "203.0.113.5");
  EXPECT_EQ(plan.nats[0].uplink.gateway, "203.0.113.1");
  EXPECT_TRUE(plan.nats[0].uplink.to_internet);
  EXPECT_EQ(plan.nats[0].lan_address, "10.1.0.1");
  EXPECT_EQ(plan.nats[0].lan_subnet, "10.1.0.0/24");
  const HostPlan* laptop = plan.FindNode("laptop");
  ASSERT_NE(laptop, nullptr);
  EXPECT_EQ(laptop->uplink.address, "10.1.0.2");
  EXPECT_EQ(laptop->uplink.gateway, "10.1.0.1");
  EXPECT_EQ(laptop->uplink.parent_ns, "nat0");
  EXPECT_EQ(laptop->uplink.parent_bridge, "lan");
  EXPECT_FALSE(laptop->uplink.to_internet);
  EXPECT_EQ(plan.FindNode("server")->uplink.address, "203.0.113.6");
  EXPECT_EQ(plan.FindNode("server")->uplink.parent_ns, "inet");
  // Bridge ports are numbered per network.
  EXPECT_EQ(plan.derp[0].uplink.parent_port, "p0");
  EXPECT_EQ(plan.FindNode("server")->uplink.parent_port, "p4");
  EXPECT_EQ(laptop->uplink.parent_port, "p0");
  EXPECT_TRUE(plan.routes.empty());
}

TEST(LabPlan, NestedNatsAreBuiltParentFirstAndGetSpareAddressesForChanges) {
  const scenario::Scenario s = LoadOk(R"(
nats:
  home: {preset: full-cone, behind: carrier}
  carrier: {preset: cgnat}
nodes: {a: {behind: home}, b: {behind: carrier}}
events:
  - {at: 10s, nat: home, action: change-address}
  - {at: 20s, nat: home, action: change-address}
)");
  const LabPlan plan = PlanLab(s);
  const BoxPlan* home = plan.FindBox("home");
  const BoxPlan* carrier = plan.FindBox("carrier");
  ASSERT_TRUE(home && carrier);
  EXPECT_EQ(carrier->uplink.parent_ns, "inet");
  EXPECT_EQ(home->uplink.parent_ns, carrier->ns);
  EXPECT_EQ(home->uplink.address, "10.2.0.2");  // carrier is nats[1]: 10.2.0.0/24
  EXPECT_THAT(home->uplink.spare_addresses, ElementsAre("10.2.0.3", "10.2.0.4"));
  EXPECT_EQ(plan.FindNode("b")->uplink.address, "10.2.0.5");
  // A NAT with an address pool gets all of it, and a pool's worth of spares per change.
  const LabPlan pool = PlanLab(LoadOk(R"(
nats: {carrier: {preset: cgnat, external_ips: 3}}
nodes: {a: {behind: carrier}}
events: [{at: 10s, nat: carrier, action: change-address}]
)"));
  const Uplink& u = pool.FindBox("carrier")->uplink;
  EXPECT_EQ(u.address, "203.0.113.4");
  EXPECT_THAT(u.more_addresses, ElementsAre("203.0.113.5", "203.0.113.6"));
  EXPECT_THAT(u.spare_addresses, ElementsAre("203.0.113.7", "203.0.113.8", "203.0.113.9"));
  EXPECT_EQ(plan.FindNode("a")->uplink.address, "10.1.0.2");
  const std::vector<const BoxPlan*> order = plan.BoxesInBuildOrder();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->name, "carrier");
  EXPECT_EQ(order[1]->name, "home");
}

TEST(LabPlan, FirewallLansAreRoutedFromEveryRouterAboveThem) {
  const LabPlan plan = PlanLab(LoadOk(R"(
firewalls:
  corp-fw: {}
  inner-fw: {behind: corp-fw}
  home-fw: {behind: home}
nats:
  home: {preset: full-cone}
nodes: {ws: {behind: inner-fw}, pc: {behind: home-fw}}
)"));
  const BoxPlan* corp = plan.FindBox("corp-fw");
  const BoxPlan* inner = plan.FindBox("inner-fw");
  const BoxPlan* home_fw = plan.FindBox("home-fw");
  ASSERT_TRUE(corp && inner && home_fw);
  // No NAT above: public blocks of 198.51.100.0/24.
  EXPECT_EQ(corp->lan_subnet, "198.51.100.0/27");
  EXPECT_EQ(inner->lan_subnet, "198.51.100.32/27");
  EXPECT_EQ(plan.FindNode("ws")->uplink.address, "198.51.100.34");
  // Behind a NAT: private.
  EXPECT_EQ(home_fw->lan_subnet, "192.168.1.0/24");
  std::vector<std::string> routes;
  for (const RoutePlan& r : plan.routes) routes.push_back(r.ns + " " + r.destination + " via " + r.via);
  EXPECT_THAT(routes, ::testing::UnorderedElementsAre(
                          "inet 198.51.100.0/27 via " + corp->uplink.address,
                          "fw0 198.51.100.32/27 via " + inner->uplink.address,
                          "inet 198.51.100.32/27 via " + corp->uplink.address,
                          "nat0 192.168.1.0/24 via " + home_fw->uplink.address));
}

TEST(LabPlan, TooManyPublicFirewallsIsARunError) {
  std::string yaml = "firewalls:\n";
  for (int i = 0; i < 9; ++i) yaml += "  fw" + std::to_string(i) + ": {}\n";
  yaml += "nodes: {a: {}}\n";
  try {
    PlanLab(LoadOk(yaml));
    FAIL() << "9 public firewalls fit the plan";
  } catch (const results::RunError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("at most 8 firewalls"));
  }
}

TEST(LabPlan, AFullNetworkIsARunError) {
  std::string yaml = "nodes:\n";
  for (int i = 0; i < 260; ++i) yaml += "  n" + std::to_string(i) + ": {}\n";
  try {
    PlanLab(LoadOk(yaml));
    FAIL() << "260 public nodes fit one /24";
  } catch (const results::RunError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("the internet (203.0.113.0/24) is full"));
  }
}

TEST(LabPlan, UplinksListEveryAttachmentOnce) {
  const LabPlan plan = PlanLab(LoadOk(R"(
nats: {home: {}}
firewalls: {fw: {behind: home}}
nodes: {a: {behind: fw}, b: {}}
)"));
  std::vector<std::string> labels;
  for (const Uplink* u : plan.Uplinks()) labels.push_back(u->label);
  EXPECT_THAT(labels, ElementsAre("nat-home", "firewall-fw", "derp-default", "control", "node-a",
                                  "node-b"));
}

}  // namespace
}  // namespace punchlab::runreal
