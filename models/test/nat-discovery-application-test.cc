// NatDiscoveryApplication on its own terms: its sockets and attributes, the
// Report trace, what it reports with no NAT on the path, and that a run is a
// function of its seed.
#include <gtest/gtest.h>

#include <vector>

#include "helper/classify-topology.h"
#include "helper/stun-demo-topology.h"
#include "helper/stun-helper.h"
#include "model/nat-discovery-application.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

namespace ns3 {
namespace {

using punchlab::Endpoint;
using punchlab::stun::NatBehavior;
using punchlab::stun::NatReport;
using punchlab::stun::PortAssignment;

void Collect(std::vector<NatReport>* out, const NatReport& r) { out->push_back(r); }

class NatDiscoveryApplicationTest : public ::testing::Test {
 protected:
  ~NatDiscoveryApplicationTest() override { Simulator::Destroy(); }
};

punchlab::nat::NatConfig Spec(const char* text) {
  return *punchlab::nat::ParseNatSpec(text).config;
}

TEST_F(NatDiscoveryApplicationTest, BindsConsecutivePortsAndReportsOnceOnTheTrace) {
  ClassifyTopologyConfig config;
  config.nat = Spec("full-cone");
  config.extraSockets = 5;
  ClassifyTopology topology(config);
  std::vector<NatReport> traced;
  topology.GetDiscovery()->TraceConnectWithoutContext("Report",
                                                      MakeBoundCallback(&Collect, &traced));
  EXPECT_FALSE(topology.GetDiscovery()->GetReport().has_value());

  const NatReport report = topology.Run();
  ASSERT_EQ(traced.size(), 1u);
  EXPECT_EQ(traced[0].ToString(), report.ToString());
  EXPECT_EQ(traced[0].mappings, report.mappings);

  const std::vector<Endpoint> locals = topology.GetDiscovery()->GetLocalEndpoints();
  ASSERT_EQ(locals.size(), 6u);
  for (size_t i = 0; i < locals.size(); ++i) {
    EXPECT_EQ(locals[i], Endpoint(ToPunchlab(ClassifyTopology::ClientAddress()),
                                  static_cast<uint16_t>(50000 + i)));
  }
  EXPECT_EQ(report.local, locals[0]);
  // Full cone, ports preserved: every socket kept its port on the NAT's address.
  ASSERT_EQ(report.mappings.size(), 6u);
  for (size_t i = 0; i < locals.size(); ++i) {
    EXPECT_EQ(report.mappings[i].first, locals[i]);
    EXPECT_EQ(report.mappings[i].second,
              Endpoint(ToPunchlab(ClassifyTopology::NatExternalAddress()), locals[i].port));
  }
  EXPECT_GT(topology.GetDiscovery()->GetStats().requests_sent, 0u);
}

TEST_F(NatDiscoveryApplicationTest, WithoutANatItSeesAnOpenInternet) {
  StunDemoTopology topology;
  StunServerHelper server(StunDemoTopology::ServerPrimaryAddress(), 3478);
  server.SetAlternate(StunDemoTopology::ServerAlternateAddress(), 3479);
  server.Install(topology.GetServer());
  Ptr<NatDiscoveryApplication> app = CreateObject<NatDiscoveryApplication>();
  app->SetAttribute("ServerAddress", AddressValue(StunDemoTopology::ServerPrimaryAddress()));
  app->SetAttribute("LocalPort", UintegerValue(4000));
  topology.GetClient()->AddApplication(app);
  app->SetStartTime(MilliSeconds(10));
  Simulator::Stop(Seconds(60));
  Simulator::Run();

  ASSERT_TRUE(app->GetReport().has_value());
  const NatReport& r = *app->GetReport();
  EXPECT_EQ(r.local, Endpoint(ToPunchlab(StunDemoTopology::ClientAddress()), 4000));
  ASSERT_TRUE(r.mapped.has_value());
  EXPECT_EQ(*r.mapped, r.local);
  EXPECT_FALSE(r.behind_nat());
  EXPECT_EQ(r.mapping, NatBehavior::kEndpointIndependent);
  EXPECT_EQ(r.filtering, NatBehavior::kEndpointIndependent);
  EXPECT_EQ(r.ports, PortAssignment::kPreserve);
}

NatReport RunSymmetric(uint64_t seed) {
  ClassifyTopologyConfig config;
  config.nat = Spec("symmetric");
  config.seed = seed;
  return ClassifyNat(config);
}

TEST_F(NatDiscoveryApplicationTest, SameSeedSameRunOtherSeedOtherPorts) {
  const NatReport a = RunSymmetric(7);
  const NatReport b = RunSymmetric(7);
  const NatReport c = RunSymmetric(8);
  EXPECT_EQ(a.ToString(), b.ToString());
  EXPECT_EQ(a.mappings, b.mappings);
  EXPECT_NE(a.mappings, c.mappings);  // random external ports come from the seed
  EXPECT_EQ(a.mapping, c.mapping);
  EXPECT_EQ(a.ports, c.ports);
}

}  // namespace
}  // namespace ns3
