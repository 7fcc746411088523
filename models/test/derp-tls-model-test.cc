// DERP over the modelled TLS handshake (model/tls-model.h) in ns-3, on the
// relay test world (relay-test-world.h: a0 is 12 ms from the DERP server,
// one way): a client pinned to the server's certificate registers exactly
// one round trip later than over plain HTTP, as the lab's client does; a
// client pinned to another certificate never registers and both hosts count
// the refused handshake; a connection that never starts its handshake is
// given up after TlsHandshakeTimeout.
#include <gtest/gtest.h>

#include <vector>

#include "helper/derp-helper.h"
#include "model/derp-client-application.h"
#include "model/derp-server-application.h"
#include "ns3/boolean.h"
#include "ns3/config.h"
#include "ns3/uinteger.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "test/relay-test-world.h"

namespace ns3 {
namespace {

using relaytest::InstallStreamActor;
using relaytest::RelayWorld;
using relaytest::StreamActor;

const punchlab::Endpoint kDerp(punchlab::IpAddress::V4(203, 0, 113, 10), 443);

struct Outcome {
  std::vector<Time> connected;  // the client's DERP handshakes completed
  MachineHostCounters server;
  MachineHostCounters client;
  uint64_t registered = 0;
};

// One client on a0, started at 1 s, against a server with or without TLS.
Outcome RunOne(bool tls, const std::string& certName) {
  Outcome run;
  // The scenario worlds' segment size (run-sim.cc), so the server's flight
  // is one segment as in the lab; ns-3's default (536) would split it, and
  // the CSMA LANs hold each frame's channel for their 1 ms delay.
  Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(1448));
  {
    RelayWorld world;
    DerpServerHelper serverHelper(RelayWorld::DerpAddress());
    serverHelper.SetAttribute("Tls", BooleanValue(tls));
    auto server = DynamicCast<DerpServerApplication>(serverHelper.Install(world.derp).Get(0));
    DerpClientHelper clientHelper(RelayWorld::DerpAddress());
    clientHelper.SetServerKey(server->GetPublicKey());
    clientHelper.SetAttribute("Tls", BooleanValue(tls));
    clientHelper.SetAttribute("CertName",
                              StringValue(certName == "pin" ? server->GetCertificatePin() : certName));
    auto client = DynamicCast<DerpClientApplication>(clientHelper.Install(world.a.Get(0)).Get(0));
    client->SetStartTime(Seconds(1));
    client->TraceConnectWithoutContext(
        "Connected", Callback<void, const punchlab::NodePublicKey&>(
                         [&run](const punchlab::NodePublicKey&) {
                           run.connected.push_back(Simulator::Now());
                         }));
    Simulator::Stop(Seconds(5));
    Simulator::Run();
    run.server = server->GetTcpCounters();
    run.client = client->GetTcpCounters();
    run.registered = server->GetStats().clients_registered;
  }
  Simulator::Destroy();
  Config::SetDefault("ns3::TcpSocket::SegmentSize", UintegerValue(536));
  return run;
}

TEST(DerpTlsModel, PinnedClientRegistersOneRoundTripLaterThanOverPlainHttp) {
  const Outcome plain = RunOne(false, "");
  const Outcome tls = RunOne(true, "pin");
  ASSERT_EQ(plain.connected.size(), 1u);
  ASSERT_EQ(tls.connected.size(), 1u);
  EXPECT_EQ(plain.server.tlsHandshakes, 0u);
  EXPECT_EQ(tls.server.tlsHandshakes, 1u);
  EXPECT_EQ(tls.client.tlsHandshakes, 1u);
  EXPECT_EQ(tls.server.tlsFailures + tls.client.tlsFailures, 0u);
  // One round trip of 24 ms (12 ms each way), plus the flights' 1 KB at
  // 100 Mbit/s on the two LANs (well under 1 ms).
  const Time extra = tls.connected[0] - plain.connected[0];
  EXPECT_GE(extra, MilliSeconds(24)) << extra.As(Time::MS);
  EXPECT_LT(extra, MilliSeconds(25)) << extra.As(Time::MS);
}

TEST(DerpTlsModel, AClientPinnedToAnotherCertificateNeverRegisters) {
  const std::string other = punchlab::tlsmodel::Certificate("derp-x", "other").Pin();
  const Outcome run = RunOne(true, other);
  EXPECT_TRUE(run.connected.empty());
  EXPECT_EQ(run.registered, 0u);
  EXPECT_EQ(run.server.tlsHandshakes, 0u);
  // The client refuses (and retries with its backoff); the server sees each
  // refusal's alert.
  EXPECT_GE(run.client.tlsFailures, 1u);
  EXPECT_EQ(run.client.connectsFailed, run.client.tlsFailures);
  EXPECT_EQ(run.server.tlsFailures, run.client.tlsFailures);
  EXPECT_EQ(run.server.accepted, run.client.tlsFailures) << "accepted, never handed on";
}

TEST(DerpTlsModel, AConnectionThatNeverSpeaksIsGivenUpAfterTheHandshakeTimeout) {
  RelayWorld world;
  DerpServerHelper serverHelper(RelayWorld::DerpAddress());
  auto server = DynamicCast<DerpServerApplication>(serverHelper.Install(world.derp).Get(0));
  Ptr<StreamActor> silent = InstallStreamActor(world.a.Get(1));
  // Plain TCP that never sends a ClientHello.
  silent->ConnectAt(Seconds(1), 1, kDerp, punchlab::Bytes{});
  Simulator::Stop(Seconds(20));
  Simulator::Run();
  ASSERT_TRUE(silent->IsClosed(1));
  const double closedAt =
      static_cast<double>(silent->Script().closedAt.at(1).nanos()) / 1e9;
  // 10 s after the server accepted it (the connect starts at 1 s; ARP and
  // the SYN take ~60 ms), plus the FIN's way back (13 ms).
  EXPECT_GT(closedAt, 11.0);
  EXPECT_LT(closedAt, 11.1);
  EXPECT_EQ(server->GetTcpCounters().tlsFailures, 1u);
  EXPECT_EQ(server->GetStats().connections_accepted, 0u) << "the relay never saw it";
  Simulator::Destroy();
}

}  // namespace
}  // namespace ns3
