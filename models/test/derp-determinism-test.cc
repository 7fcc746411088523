// A DERP and control-plane run traced end to end: the same seed gives the
// same trace, event for event and nanosecond for nanosecond; another seed
// gives other keys (and so another trace).
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "helper/control-helper.h"
#include "helper/derp-helper.h"
#include "model/control-client-application.h"
#include "model/control-server-application.h"
#include "model/derp-client-application.h"
#include "model/derp-server-application.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "test/relay-test-world.h"

namespace ns3 {
namespace {

using punchlab::NodePublicKey;
using relaytest::RelayWorld;

// Every trace source of every application, one line per event.
class TraceLog {
 public:
  std::ostream& Line(const std::string& who) {
    m_out << Simulator::Now().GetNanoSeconds() << " " << who << " ";
    return m_out;
  }
  std::string Text() const { return m_out.str(); }

 private:
  std::ostringstream m_out;
};

void TraceDerpClient(Ptr<DerpClientApplication> app, const std::string& who, TraceLog& log) {
  app->TraceConnectWithoutContext(
      "Connected", Callback<void, const NodePublicKey&>([&log, who](const NodePublicKey& k) {
        log.Line(who) << "connected " << k.ToString() << "\n";
      }));
  app->TraceConnectWithoutContext(
      "Disconnected", Callback<void, const std::string&>([&log, who](const std::string& why) {
        log.Line(who) << "disconnected " << why << "\n";
      }));
  app->TraceConnectWithoutContext(
      "Rx", Callback<void, const NodePublicKey&, Ptr<const Packet>>(
                [&log, who](const NodePublicKey& k, Ptr<const Packet> p) {
                  uint8_t seq[4] = {};
                  p->CopyData(seq, 4);
                  log.Line(who) << "rx " << k.ShortString() << " " << p->GetSize() << " #"
                                << int(seq[3]) << "\n";
                }));
  app->TraceConnectWithoutContext(
      "Tx", Callback<void, const NodePublicKey&, Ptr<const Packet>>(
                [&log, who](const NodePublicKey& k, Ptr<const Packet> p) {
                  log.Line(who) << "tx " << k.ShortString() << " " << p->GetSize() << "\n";
                }));
  app->TraceConnectWithoutContext(
      "PeerGone", Callback<void, const NodePublicKey&, punchlab::derp::PeerGoneReason>(
                      [&log, who](const NodePublicKey& k, punchlab::derp::PeerGoneReason r) {
                        log.Line(who) << "gone " << k.ShortString() << " "
                                      << punchlab::derp::PeerGoneReasonName(r) << "\n";
                      }));
}

void TraceControlClient(Ptr<ControlClientApplication> app, const std::string& who, TraceLog& log) {
  app->TraceConnectWithoutContext(
      "Registered", Callback<void, const punchlab::control::Registered&>(
                        [&log, who](const punchlab::control::Registered& r) {
                          log.Line(who) << "registered " << r.address.ToString() << "\n";
                        }));
  app->TraceConnectWithoutContext("NetmapUpdated",
                                  Callback<void, const punchlab::control::Netmap&>(
                                      [&log, who](const punchlab::control::Netmap& n) {
                                        std::ostream& out = log.Line(who);
                                        out << "netmap self " << n.self.disco_key.ShortString();
                                        for (const auto& p : n.peers)
                                          out << " " << p.node_key.ShortString();
                                        out << "\n";
                                      }));
}

std::string RunOnce(uint64_t seed) {
  TraceLog log;
  {
    RelayWorld world;
    DerpServerHelper derpHelper(RelayWorld::DerpAddress());
    derpHelper.SetAttribute("Seed", UintegerValue(seed));
    derpHelper.SetAttribute("KeepAliveInterval", TimeValue(Seconds(1)));
    ApplicationContainer derp = derpHelper.Install(world.derp);
    derp.Get(0)->TraceConnectWithoutContext(
        "ClientConnected", Callback<void, const NodePublicKey&, uint64_t>(
                               [&log](const NodePublicKey& k, uint64_t conn) {
                                 log.Line("derp")
                                     << "client " << k.ShortString() << " " << conn << "\n";
                               }));

    DerpClientHelper clients(RelayWorld::DerpAddress());
    clients.SetAttribute("Seed", UintegerValue(seed));
    clients.SetAttribute("MaxPackets", UintegerValue(5));
    clients.SetAttribute("Interval", TimeValue(MilliSeconds(300)));
    clients.SetAttribute("PacketSize", UintegerValue(100));
    auto a = DynamicCast<DerpClientApplication>(clients.Install(world.a.Get(0)).Get(0));
    auto b = DynamicCast<DerpClientApplication>(clients.Install(world.b.Get(0)).Get(0));
    auto c = DynamicCast<DerpClientApplication>(clients.Install(world.a.Get(1)).Get(0));
    a->SetAttribute("Peer", StringValue(b->GetPublicKey().ToString()));
    b->SetAttribute("Peer", StringValue(a->GetPublicKey().ToString()));
    c->SetAttribute("Peer", StringValue(a->GetPublicKey().ToString()));
    a->SetStopTime(Seconds(1));
    TraceDerpClient(a, "a", log);
    TraceDerpClient(b, "b", log);
    TraceDerpClient(c, "c", log);

    punchlab::DeterministicRandom idpRandom(seed);
    punchlab::control::IdentityProvider idp(punchlab::SigningKey::Generate(idpRandom));
    ControlServerHelper controlHelper(RelayWorld::ControlAddress());
    controlHelper.SetAttribute("Seed", UintegerValue(seed));
    controlHelper.AddTrustedIssuer(idp.verify_key(), {"lab.example"});
    controlHelper.SetDerpMap({{DerpServerHelper::MakeRegion(1, "lab", derp)}});
    auto control =
        DynamicCast<ControlServerApplication>(controlHelper.Install(world.control).Get(0));
    ControlClientHelper nodes(control);
    nodes.SetAttribute("Seed", UintegerValue(seed));
    for (uint32_t i : {2u, 1u}) {
      Ptr<Node> node = i == 2 ? world.a.Get(2) : world.b.Get(1);
      auto app = DynamicCast<ControlClientApplication>(nodes.Install(node).Get(0));
      app->SetAttribute("Token", StringValue(ControlServerHelper::IssueToken(
                                     idp, "user" + std::to_string(i), "lab.example",
                                     app->GetPublicKey(), Seconds(60))));
      app->SetStartTime(MilliSeconds(100 * i));
      TraceControlClient(app, "n" + std::to_string(i), log);
    }

    Simulator::Stop(Seconds(3));
    Simulator::Run();
  }
  Simulator::Destroy();
  return log.Text();
}

TEST(DerpDeterminism, SameSeedGivesTheSameTraceAndAnotherSeedDoesNot) {
  const std::string first = RunOnce(1);
  const std::string again = RunOnce(1);
  EXPECT_EQ(first, again);
  // Something happened: connects, packets both ways, PeerGone, netmaps.
  for (const char* what : {" connected ", " rx ", " gone ", " netmap ", " registered "}) {
    EXPECT_NE(first.find(what), std::string::npos) << what << "\n" << first;
  }
  EXPECT_NE(first, RunOnce(2));
}

}  // namespace
}  // namespace ns3
