// The STUN applications on the demo topology: the client learns its address,
// CHANGE-REQUEST is answered from the alternate address and port, a lost
// request is retransmitted, a dead path times out at the deadline, and the
// same seed gives the same run.
#include <gtest/gtest.h>

#include <list>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "helper/stun-demo-topology.h"
#include "helper/stun-demo.h"
#include "helper/stun-helper.h"
#include "model/punchlab-ns3-convert.h"
#include "model/stun-client-application.h"
#include "model/stun-server-application.h"
#include "ns3/boolean.h"
#include "ns3/error-model.h"
#include "ns3/pointer.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

namespace ns3 {
namespace {

using punchlab::stun::StunErrorResponse;
using punchlab::stun::StunSuccess;
using punchlab::stun::StunTimeout;
using punchlab::Endpoint;

const Endpoint kPrimary(ToPunchlab(StunDemoTopology::ServerPrimaryAddress()), 3478);
const Endpoint kAlternate(ToPunchlab(StunDemoTopology::ServerAlternateAddress()), 3479);
// STUN datagrams here are ~150 bytes; 576 (the minimum every IPv4 host takes)
// bounds their serialization time generously.
constexpr uint32_t kMaxDatagram = 576;

class StunAppsTest : public ::testing::Test {
 protected:
  StunAppsTest() {
    // Latencies unlike the demo defaults, and a round trip under the 100 ms
    // initial RTO so that a clean path has no retransmission.
    config.lanDelay = MilliSeconds(2);
    config.internetDelay = MilliSeconds(13);
    topology = std::make_unique<StunDemoTopology>(config);
  }
  ~StunAppsTest() override { Simulator::Destroy(); }

  Ptr<StunServerApplication> InstallServer(bool withAlternate = true) {
    StunServerHelper helper(StunDemoTopology::ServerPrimaryAddress(), 3478);
    if (withAlternate) helper.SetAlternate(StunDemoTopology::ServerAlternateAddress(), 3479);
    return DynamicCast<StunServerApplication>(helper.Install(topology->GetServer()).Get(0));
  }

  Ptr<StunClientApplication> InstallClient(bool changeIp = false, bool changePort = false) {
    StunClientHelper helper(StunDemoTopology::ServerPrimaryAddress(), 3478);
    helper.SetAttribute("ChangeIp", BooleanValue(changeIp));
    helper.SetAttribute("ChangePort", BooleanValue(changePort));
    return DynamicCast<StunClientApplication>(helper.Install(topology->GetClient()).Get(0));
  }

  // Drops the client's packets number `indices` (0-based) as the router
  // receives them from the LAN.
  void DropFromClient(const std::list<uint32_t>& indices) {
    auto model = CreateObject<ReceiveListErrorModel>();
    model->SetList(indices);
    topology->GetLanDevices().Get(1)->SetAttribute("ReceiveErrorModel", PointerValue(model));
  }

  Time PathRtt() const { return topology->GetOneWayDelay() * 2; }
  Time RttSlack() const { return topology->GetSerializationDelay(kMaxDatagram) * 2; }

  StunDemoTopologyConfig config;
  std::unique_ptr<StunDemoTopology> topology;
};

Time ToTime(punchlab::Duration d) { return NanoSeconds(d.nanos()); }

TEST_F(StunAppsTest, ClientLearnsItsOwnAddressAndTheRtt) {
  Ptr<StunServerApplication> server = InstallServer();
  Ptr<StunClientApplication> client = InstallClient();
  std::vector<std::tuple<std::string, Time, bool>> traced;
  client->TraceConnectWithoutContext(
      "Result", Callback<void, const std::string&, Time, bool>(
                    [&](const std::string& mapped, Time rtt, bool ok) {
                      traced.emplace_back(mapped, rtt, ok);
                    }));
  std::vector<std::pair<Endpoint, Endpoint>> requests;
  std::vector<std::pair<Endpoint, Endpoint>> responses;
  server->TraceConnectWithoutContext(
      "Request", Callback<void, const Address&, const Address&>(
                     [&](const Address& from, const Address& local) {
                       requests.emplace_back(ToPunchlabEndpoint(from), ToPunchlabEndpoint(local));
                     }));
  server->TraceConnectWithoutContext(
      "Response", Callback<void, const Address&, const Address&>(
                      [&](const Address& source, const Address& destination) {
                        responses.emplace_back(ToPunchlabEndpoint(source),
                                               ToPunchlabEndpoint(destination));
                      }));
  Simulator::Run();

  const Endpoint own(ToPunchlab(StunDemoTopology::ClientAddress()),
                     client->GetLocalEndpoint().port);
  ASSERT_NE(own.port, 0);
  auto result = client->GetLastResult();
  ASSERT_TRUE(result.has_value());
  const auto* ok = std::get_if<StunSuccess>(&*result);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->mapped, own);  // no NAT: the server saw the client's own address
  EXPECT_EQ(ok->retransmits, 0u);
  EXPECT_EQ(ok->response_origin, kPrimary);
  EXPECT_EQ(ok->other_address, kAlternate);
  EXPECT_EQ(ok->response_source, kPrimary);
  const Time rtt = ToTime(ok->rtt);
  EXPECT_GE(rtt, PathRtt());
  EXPECT_LE(rtt, PathRtt() + RttSlack());

  ASSERT_EQ(traced.size(), 1u);
  EXPECT_EQ(std::get<0>(traced[0]), own.ToString());
  EXPECT_EQ(std::get<1>(traced[0]), rtt);
  EXPECT_TRUE(std::get<2>(traced[0]));

  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0], std::make_pair(own, kPrimary));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0], std::make_pair(kPrimary, own));
  EXPECT_EQ(server->GetStats().requests, 1u);
  EXPECT_EQ(server->GetStats().success_responses, 1u);
  EXPECT_EQ(client->GetStats().successes, 1u);
}

TEST_F(StunAppsTest, ChangeRequestIsAnsweredFromTheOtherAddressAndPort) {
  Ptr<StunServerApplication> server = InstallServer();
  Ptr<StunClientApplication> both = InstallClient(true, true);
  Ptr<StunClientApplication> ipOnly = InstallClient(true, false);
  Ptr<StunClientApplication> portOnly = InstallClient(false, true);
  Simulator::Run();

  struct Case {
    Ptr<StunClientApplication> app;
    Endpoint expectedOrigin;
  };
  for (const Case& c : {Case{both, kAlternate}, Case{ipOnly, Endpoint(kAlternate.ip, 3478)},
                        Case{portOnly, Endpoint(kPrimary.ip, 3479)}}) {
    auto result = c.app->GetLastResult();
    ASSERT_TRUE(result.has_value());
    const auto* ok = std::get_if<StunSuccess>(&*result);
    ASSERT_NE(ok, nullptr);
    EXPECT_EQ(ok->response_origin, c.expectedOrigin);
    EXPECT_EQ(ok->response_source, c.expectedOrigin);  // it really came from there
    EXPECT_EQ(ok->mapped.ip, ToPunchlab(StunDemoTopology::ClientAddress()));
  }
  EXPECT_EQ(server->GetStats().changed_responses, 3u);
  EXPECT_EQ(server->GetLocalEndpoints().size(), 4u);
}

TEST_F(StunAppsTest, ChangeRequestWithoutAlternateGets420) {
  Ptr<StunServerApplication> server = InstallServer(false);
  Ptr<StunClientApplication> client = InstallClient(true, true);
  Simulator::Run();
  auto result = client->GetLastResult();
  ASSERT_TRUE(result.has_value());
  const auto* refused = std::get_if<StunErrorResponse>(&*result);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->error->code, 420);
  EXPECT_EQ(server->GetStats().error_responses, 1u);
  EXPECT_EQ(server->GetLocalEndpoints().size(), 1u);
}

TEST_F(StunAppsTest, LostRequestIsRetransmittedAfterTheInitialRto) {
  Ptr<StunServerApplication> server = InstallServer();
  Ptr<StunClientApplication> client = InstallClient();
  DropFromClient({0});
  Simulator::Run();

  auto result = client->GetLastResult();
  ASSERT_TRUE(result.has_value());
  const auto* ok = std::get_if<StunSuccess>(&*result);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->retransmits, 1u);
  // The retransmission went out 100 ms after the first send.
  const Time sinceLast = ToTime(ok->rtt_since_last_send);
  EXPECT_GE(sinceLast, PathRtt());
  EXPECT_LE(sinceLast, PathRtt() + RttSlack());
  EXPECT_EQ(ToTime(ok->rtt) - sinceLast, MilliSeconds(100));
  EXPECT_EQ(client->GetStats().requests_sent, 2u);
  EXPECT_EQ(server->GetStats().requests, 1u);  // the first never arrived
}

TEST_F(StunAppsTest, DeadPathTimesOutAtTheDeadline) {
  Ptr<StunServerApplication> server = InstallServer();
  Ptr<StunClientApplication> client = InstallClient();
  client->SetStartTime(Seconds(1));
  DropFromClient({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  std::vector<std::pair<Time, bool>> traced;
  client->TraceConnectWithoutContext(
      "Result", Callback<void, const std::string&, Time, bool>(
                    [&](const std::string& mapped, Time, bool ok) {
                      EXPECT_TRUE(mapped.empty());
                      traced.emplace_back(Simulator::Now(), ok);
                    }));
  Simulator::Run();

  ASSERT_EQ(traced.size(), 1u);
  EXPECT_EQ(traced[0].first, Seconds(4));  // start + the 3 s deadline, exactly
  EXPECT_FALSE(traced[0].second);
  EXPECT_TRUE(std::holds_alternative<StunTimeout>(*client->GetLastResult()));
  // Sends at 0, 100, 300, 700 and 1500 ms; 3100 ms is past the deadline.
  EXPECT_EQ(client->GetStats().requests_sent, 5u);
  EXPECT_EQ(server->GetStats().requests, 0u);
}

TEST_F(StunAppsTest, SeveralProbesIntervalApart) {
  InstallServer();
  Ptr<StunClientApplication> client = InstallClient();
  client->SetAttribute("MaxProbes", UintegerValue(3));
  client->SetAttribute("Interval", TimeValue(MilliSeconds(500)));
  std::vector<Time> at;
  client->TraceConnectWithoutContext(
      "Result", Callback<void, const std::string&, Time, bool>(
                    [&](const std::string&, Time rtt, bool) { at.push_back(Simulator::Now() - rtt); }));
  Simulator::Run();
  EXPECT_EQ(at, (std::vector<Time>{Seconds(0), MilliSeconds(500), MilliSeconds(1000)}));
  EXPECT_EQ(client->GetStats().transactions_started, 3u);
}

// One whole demo run, as `punchlab demo` does it, reduced to what it observed.
struct DemoTrace {
  std::vector<std::string> lines;
  std::string report;
};

DemoTrace RunDemo(const StunDemoConfig& config) {
  DemoTrace trace;
  {
    StunDemo demo(config);
    for (Ptr<StunClientApplication> app : {demo.GetBindingClient(), demo.GetChangeClient()}) {
      app->TraceConnectWithoutContext(
          "Result", Callback<void, const std::string&, Time, bool>(
                        [&trace](const std::string& mapped, Time rtt, bool ok) {
                          std::ostringstream line;
                          line << Simulator::Now().GetNanoSeconds() << " " << mapped << " "
                               << rtt.GetNanoSeconds() << " " << ok;
                          trace.lines.push_back(line.str());
                        }));
    }
    demo.Run();
    for (Ptr<StunClientApplication> app : {demo.GetBindingClient(), demo.GetChangeClient()}) {
      for (const auto& ev : app->GetResults()) {
        trace.lines.push_back(punchlab::stun::Exchange(ev).transaction_id.ToString());
      }
    }
    std::ostringstream report;
    demo.Report(report);
    trace.report = report.str();
  }
  Simulator::Destroy();
  return trace;
}

TEST(StunDemoTest, SameSeedSameRunOtherSeedOtherTransactionIds) {
  StunDemoConfig config;
  config.probes = 3;
  config.topology.internetDelay = MilliSeconds(60);  // past the RTO: retransmissions too
  config.seed = 7;
  const DemoTrace first = RunDemo(config);
  const DemoTrace second = RunDemo(config);
  config.seed = 8;
  const DemoTrace other = RunDemo(config);
  ASSERT_EQ(first.lines.size(), 8u);  // 4 results + 4 transaction ids
  EXPECT_EQ(first.lines, second.lines);
  EXPECT_EQ(first.report, second.report);
  // Timing does not depend on the seed; the transaction ids do.
  EXPECT_EQ(std::vector<std::string>(first.lines.begin(), first.lines.begin() + 4),
            std::vector<std::string>(other.lines.begin(), other.lines.begin() + 4));
  for (size_t i = 4; i < 8; ++i) EXPECT_NE(first.lines[i], other.lines[i]);
  // Two clients on one node draw from different streams.
  EXPECT_NE(first.lines[4], first.lines[7]);
}

TEST(StunDemoTest, ReportSaysWhatTheClientLearned) {
  const DemoTrace run = RunDemo(StunDemoConfig());
  const std::string& r = run.report;
  EXPECT_NE(r.find("mapped address   192.168.1.2:"), std::string::npos) << r;
  EXPECT_NE(r.find("the client's own address: no NAT on the path"), std::string::npos) << r;
  EXPECT_NE(r.find("response origin  203.0.113.10:3478"), std::string::npos) << r;
  EXPECT_NE(r.find("response origin  203.0.113.11:3479"), std::string::npos) << r;
  EXPECT_NE(r.find("other address    203.0.113.11:3479"), std::string::npos) << r;
  EXPECT_NE(r.find("changed responses 1"), std::string::npos) << r;
}

}  // namespace
}  // namespace ns3
