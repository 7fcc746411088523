// The control-plane applications in ns-3 (relay-test-world.h: two LANs
// behind routers, the control server on the services LAN): nodes of a
// domain see each other and nothing of other domains; a provider trusted for
// one domain cannot register a node into another; tokens expire on the
// simulation clock; garbage on a connection closes only that connection;
// a node that leaves disappears from its peers' netmaps.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "helper/control-helper.h"
#include "helper/derp-helper.h"
#include "model/control-client-application.h"
#include "model/control-server-application.h"
#include "model/derp-server-application.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "test/relay-test-world.h"

namespace ns3 {
namespace {

using punchlab::Endpoint;
using punchlab::NodePublicKey;
using punchlab::control::IdentityProvider;
using punchlab::control::Netmap;
using relaytest::InstallStreamActor;
using relaytest::RelayWorld;
using relaytest::StreamActor;
using relaytest::ToBytes;

constexpr const char* kAlpha = "alpha.example";
constexpr const char* kBeta = "beta.example";

// What one client application saw, from its trace sources.
struct NodeLog {
  std::vector<punchlab::control::Registered> registered;
  std::vector<std::string> refused;
  std::vector<Netmap> netmaps;
  std::vector<std::string> disconnected;
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ControlPlaneAppsTest : public ::testing::Test {
 protected:
  ControlPlaneAppsTest()
      : rng(11),
        alphaIdp(punchlab::SigningKey::Generate(rng)),
        betaIdp(punchlab::SigningKey::Generate(rng)) {
    DerpServerHelper derpHelper(RelayWorld::DerpAddress());
    ApplicationContainer derp = derpHelper.Install(world.derp);
    derpMap.regions.push_back(DerpServerHelper::MakeRegion(1, "lab", derp));

    ControlServerHelper helper(RelayWorld::ControlAddress());
    helper.AddTrustedIssuer(alphaIdp.verify_key(), {kAlpha});
    helper.AddTrustedIssuer(betaIdp.verify_key(), {kBeta});
    helper.SetDerpMap(derpMap);
    server = DynamicCast<ControlServerApplication>(helper.Install(world.control).Get(0));
    server->TraceConnectWithoutContext("NodeRefused", Callback<void, uint64_t, const std::string&>(
                                                          [this](uint64_t, const std::string& why) {
                                                            serverRefused.push_back(why);
                                                          }));
    server->TraceConnectWithoutContext(
        "ConnectionClosed",
        Callback<void, uint64_t, const std::string&>([this](uint64_t conn, const std::string& why) {
          serverClosed.emplace_back(conn, why);
        }));
    server->TraceConnectWithoutContext(
        "NodeRemoved", Callback<void, const NodePublicKey&, const std::string&, const std::string&>(
                           [this](const NodePublicKey& key, const std::string&,
                                  const std::string&) { serverRemoved.push_back(key); }));
    // Clients ping every 20 s forever.
    Simulator::Stop(Seconds(10));
  }
  ~ControlPlaneAppsTest() override { Simulator::Destroy(); }

  // A node on `node` registering as `user` of `domain` with a token from
  // `idp` (bound to the app's key, so issued once it is installed); it
  // reports its own address and port 41641 as its endpoint.
  Ptr<ControlClientApplication> Join(Ptr<Node> node, Ipv4Address address,
                                     const IdentityProvider& idp, const std::string& user,
                                     const std::string& domain, Time expires = Seconds(3600)) {
    ControlClientHelper helper(server);
    helper.SetAttribute("HomeRegion", UintegerValue(1));
    auto app = DynamicCast<ControlClientApplication>(helper.Install(node).Get(0));
    app->SetAttribute("Token", StringValue(ControlServerHelper::IssueToken(
                                   idp, user, domain, app->GetPublicKey(), expires)));
    app->SetEndpoints({Endpoint(ToPunchlab(address), 41641)});
    NodeLog& log = logs[PeekPointer(app)];
    app->TraceConnectWithoutContext(
        "Registered",
        Callback<void, const punchlab::control::Registered&>(
            [&log](const punchlab::control::Registered& r) { log.registered.push_back(r); }));
    app->TraceConnectWithoutContext(
        "Refused", Callback<void, const std::string&>(
                       [&log](const std::string& why) { log.refused.push_back(why); }));
    app->TraceConnectWithoutContext(
        "NetmapUpdated",
        Callback<void, const Netmap&>([&log](const Netmap& n) { log.netmaps.push_back(n); }));
    app->TraceConnectWithoutContext("Disconnected", Callback<void, const std::string&, bool>(
                                                        [&log](const std::string& why, bool) {
                                                          log.disconnected.push_back(why);
                                                        }));
    return app;
  }

  const NodeLog& Log(Ptr<ControlClientApplication> app) { return logs[PeekPointer(app)]; }
  static std::vector<NodePublicKey> PeerKeys(const Netmap& netmap) {
    std::vector<NodePublicKey> out;
    for (const auto& p : netmap.peers) out.push_back(p.node_key);
    return out;
  }

  RelayWorld world;
  punchlab::DeterministicRandom rng;
  IdentityProvider alphaIdp;
  IdentityProvider betaIdp;
  punchlab::control::DerpMap derpMap;
  Ptr<ControlServerApplication> server;
  std::map<ControlClientApplication*, NodeLog> logs;
  std::vector<std::string> serverRefused;
  std::vector<std::pair<uint64_t, std::string>> serverClosed;
  std::vector<NodePublicKey> serverRemoved;
};

TEST_F(ControlPlaneAppsTest, NodesOfADomainSeeEachOtherAndNothingOfOtherDomains) {
  auto alice = Join(world.a.Get(0), RelayWorld::A(0), alphaIdp, "alice", kAlpha);
  auto bob = Join(world.b.Get(0), RelayWorld::B(0), alphaIdp, "bob", kAlpha);
  auto carol = Join(world.b.Get(1), RelayWorld::B(1), betaIdp, "carol", kBeta);
  Simulator::Run();

  ASSERT_TRUE(alice->IsRegistered() && bob->IsRegistered() && carol->IsRegistered());
  EXPECT_EQ(Log(alice).registered.at(0).domain, kAlpha);
  EXPECT_EQ(Log(alice).registered.at(0).user, "alice");
  EXPECT_EQ(Log(carol).registered.at(0).domain, kBeta);

  const Netmap a = *alice->GetNetmap();
  EXPECT_EQ(a.domain, kAlpha);
  EXPECT_EQ(a.self.node_key, alice->GetPublicKey());
  EXPECT_EQ(a.self.disco_key, alice->GetDiscoKey());
  ASSERT_EQ(PeerKeys(a), std::vector<NodePublicKey>{bob->GetPublicKey()});
  EXPECT_EQ(a.peers[0].endpoints,
            std::vector<Endpoint>{Endpoint(ToPunchlab(RelayWorld::B(0)), 41641)});
  EXPECT_EQ(a.peers[0].user, "bob");
  EXPECT_EQ(a.peers[0].home_region, 1);
  EXPECT_EQ(a.derp_map, derpMap);
  EXPECT_EQ(a.derp_map.regions.at(0).nodes.at(0).derp,
            Endpoint(ToPunchlab(RelayWorld::DerpAddress()), 443));
  EXPECT_EQ(PeerKeys(*bob->GetNetmap()), std::vector<NodePublicKey>{alice->GetPublicKey()});

  // carol learns nothing of alpha, now or at any point; nor they of her.
  EXPECT_EQ(carol->GetNetmap()->domain, kBeta);
  for (const Netmap& n : Log(carol).netmaps) EXPECT_TRUE(n.peers.empty());
  for (auto app : {alice, bob}) {
    ASSERT_FALSE(Log(app).netmaps.empty());
    for (const Netmap& n : Log(app).netmaps) EXPECT_FALSE(n.FindPeer(carol->GetPublicKey()));
  }
  EXPECT_EQ(server->GetNodeCount(), 3u);
  EXPECT_EQ(server->FindNode(bob->GetPublicKey())->user, "bob");
}

TEST_F(ControlPlaneAppsTest, ProviderOfTheSecondDomainCannotRegisterIntoTheFirst) {
  auto alice = Join(world.a.Get(0), RelayWorld::A(0), alphaIdp, "alice", kAlpha);
  // carol's provider vouches for a user of alpha.example: not its domain.
  auto mallory = Join(world.b.Get(0), RelayWorld::B(0), betaIdp, "mallory", kAlpha);
  Simulator::Run();

  ASSERT_EQ(Log(mallory).refused.size(), 1u);
  EXPECT_TRUE(Contains(Log(mallory).refused[0],
                       "not signed by an identity provider trusted for domain \"alpha.example\""))
      << Log(mallory).refused[0];
  EXPECT_FALSE(mallory->IsRegistered());
  EXPECT_FALSE(mallory->GetNetmap());
  EXPECT_EQ(mallory->GetStats().connects, 1u);  // a refusal is final
  ASSERT_EQ(serverRefused.size(), 1u);
  EXPECT_EQ(serverRefused[0], Log(mallory).refused[0]);
  EXPECT_TRUE(alice->IsRegistered());
  for (const Netmap& n : Log(alice).netmaps) EXPECT_TRUE(n.peers.empty());
  EXPECT_EQ(server->GetNodeCount(), 1u);
}

TEST_F(ControlPlaneAppsTest, TokensExpireOnTheSimulationClock) {
  auto early = Join(world.a.Get(0), RelayWorld::A(0), alphaIdp, "early", kAlpha, Seconds(2));
  auto late = Join(world.a.Get(1), RelayWorld::A(1), alphaIdp, "late", kAlpha, Seconds(2));
  late->SetStartTime(Seconds(3));
  Simulator::Run();

  EXPECT_TRUE(early->IsRegistered());
  ASSERT_EQ(Log(late).refused.size(), 1u);
  EXPECT_TRUE(Contains(Log(late).refused[0], "expired")) << Log(late).refused[0];
  EXPECT_FALSE(late->IsRegistered());
}

TEST_F(ControlPlaneAppsTest, GarbageClosesOnlyItsOwnConnection) {
  auto alice = Join(world.a.Get(0), RelayWorld::A(0), alphaIdp, "alice", kAlpha);
  auto bob = Join(world.b.Get(0), RelayWorld::B(0), alphaIdp, "bob", kAlpha);
  Ptr<StreamActor> raw = InstallStreamActor(world.a.Get(2));
  raw->ConnectAt(Seconds(1), 1, server->GetEndpoint(), ToBytes("GET / HTTP/1.1\r\n\r\n"));
  const Endpoint moved(ToPunchlab(RelayWorld::A(0)), 50000);
  Simulator::Schedule(Seconds(2), [&]() { alice->SetEndpoints({moved}); });
  Simulator::Run();

  EXPECT_TRUE(raw->IsClosed(1));
  ASSERT_EQ(serverClosed.size(), 1u);
  EXPECT_GE(serverClosed[0].first, MachineHost::kFirstAcceptedId);
  EXPECT_EQ(server->GetStats().oversized, 1u);  // "GET " read as a frame length
  EXPECT_EQ(server->GetTcpCounters().accepted, 3u);

  // Everyone else carries on: alice's move reaches bob.
  EXPECT_TRUE(alice->IsRegistered() && bob->IsRegistered());
  EXPECT_TRUE(Log(alice).disconnected.empty());
  EXPECT_TRUE(Log(bob).disconnected.empty());
  const Netmap bobs = *bob->GetNetmap();
  const auto* seen = bobs.FindPeer(alice->GetPublicKey());
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->endpoints, std::vector<Endpoint>{moved});
  EXPECT_EQ(server->GetNodeCount(), 2u);
}

TEST_F(ControlPlaneAppsTest, NodeThatLeavesDisappearsFromItsPeersNetmaps) {
  auto alice = Join(world.a.Get(0), RelayWorld::A(0), alphaIdp, "alice", kAlpha);
  auto bob = Join(world.b.Get(0), RelayWorld::B(0), alphaIdp, "bob", kAlpha);
  bob->SetStopTime(Seconds(2));
  Simulator::Run();

  ASSERT_EQ(serverRemoved.size(), 1u);
  EXPECT_EQ(serverRemoved[0], bob->GetPublicKey());
  // alice saw bob come and go.
  bool sawBob = false;
  for (const Netmap& n : Log(alice).netmaps) sawBob = sawBob || n.FindPeer(bob->GetPublicKey());
  EXPECT_TRUE(sawBob);
  EXPECT_TRUE(alice->GetNetmap()->peers.empty());
  EXPECT_EQ(server->GetNodeCount(), 1u);
}

}  // namespace
}  // namespace ns3
