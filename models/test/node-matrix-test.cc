// Two NodeApplications behind every pair of the classic four NATs: the path
// A settles on towards B is direct exactly when the NATs' configured mapping
// and filtering behaviours allow it (punchlab::nat::NatAllowsDirect, which
// argues from RFC 4787 behaviours, never from a table of answers), and data arrives either
// way. The time from A's first packet to its direct path is reported.
#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "helper/nat-pair-world.h"
#include "ns3/simulator.h"
#include "punchlab/nat/direct-path.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/node/events.h"

namespace ns3 {
namespace {

using punchlab::NodePublicKey;
using punchlab::node::Path;

const std::vector<std::string> kClassic = {"full-cone", "restricted-cone",
                                           "port-restricted-cone", "symmetric"};
const Time kRun = Seconds(30);

punchlab::nat::NatConfig Parse(const std::string& spec) {
  punchlab::nat::NatSpecResult parsed = punchlab::nat::ParseNatSpec(spec);
  EXPECT_TRUE(parsed) << parsed.error;
  return parsed.config.value_or(punchlab::nat::NatConfig());
}

struct PathLog {
  std::vector<std::pair<Time, Path>> changes;  // A's path to B
  std::optional<Time> firstDirect;
  uint64_t received = 0;  // by B from A
  uint64_t receivedDirect = 0;
};

class NodeMatrixTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  ~NodeMatrixTest() override { Simulator::Destroy(); }
};

TEST_P(NodeMatrixTest, PathFollowsNatBehaviour) {
  NatPairWorldConfig config;
  config.natA = std::get<0>(GetParam());
  config.natB = std::get<1>(GetParam());
  const bool expectDirect = punchlab::nat::NatAllowsDirect(Parse(config.natA), Parse(config.natB));

  NatPairWorld world(config);
  const NodePublicKey keyA = world.a->GetPublicKey();
  const NodePublicKey keyB = world.b->GetPublicKey();
  PathLog log;
  world.a->TraceConnectWithoutContext(
      "PathChanged",
      Callback<void, const NodePublicKey&, const Path&, const Path&, const std::string&>(
          [&](const NodePublicKey& peer, const Path&, const Path& to, const std::string&) {
            if (peer != keyB) return;
            log.changes.emplace_back(Simulator::Now(), to);
            if (to.direct() && !log.firstDirect) log.firstDirect = Simulator::Now();
          }));
  world.b->TraceConnectWithoutContext(
      "DataReceived", Callback<void, const NodePublicKey&, Ptr<const Packet>, const Path&>(
                          [&](const NodePublicKey& peer, Ptr<const Packet>, const Path& path) {
                            if (peer != keyA) return;
                            ++log.received;
                            if (path.direct()) ++log.receivedDirect;
                          }));
  Simulator::Stop(kRun);
  Simulator::Run();

  const Path final = world.a->GetPathTo(keyB);
  EXPECT_EQ(final.direct(), expectDirect) << "final path " << final.ToString();
  if (expectDirect) {
    // Direct on B's public address (the NAT's mapping of B's socket).
    EXPECT_EQ(final.endpoint.ip.ToString(), "192.0.2.2") << final.ToString();
    ASSERT_TRUE(log.firstDirect.has_value());
    EXPECT_GT(log.receivedDirect, 0u);
  } else {
    EXPECT_TRUE(final.derp()) << final.ToString();
    EXPECT_FALSE(log.firstDirect.has_value()) << "went direct at " << log.firstDirect->As(Time::S);
    EXPECT_EQ(log.receivedDirect, 0u);
  }
  // Traffic runs from 1 s at 10 packets a second, and nothing is lost on
  // either kind of path: the last packet (29.9 s) arrives well before the
  // stop even through DERP (about 25 ms here), and packets sent while the
  // DERP connection was coming up were queued, not dropped.
  const uint64_t sent = world.a->GetTrafficSent();
  EXPECT_EQ(sent, 290u);
  EXPECT_EQ(log.received, sent);

  const std::string timeToDirect =
      log.firstDirect ? std::to_string((*log.firstDirect - config.trafficStart).GetMilliSeconds()) +
                            " ms"
                      : std::string("never (DERP)");
  RecordProperty("time_to_direct", timeToDirect);
  std::cout << "[ node-matrix ] " << config.natA << " -> " << config.natB
            << ": expected " << (expectDirect ? "direct" : "DERP") << ", final "
            << final.ToString() << ", time to direct " << timeToDirect << ", data " << log.received
            << "/" << sent << "\n";
}

std::string PairName(const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
  std::string name = std::get<0>(info.param) + "__" + std::get<1>(info.param);
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(NodeNats, NodeMatrixTest,
                         ::testing::Combine(::testing::ValuesIn(kClassic),
                                            ::testing::ValuesIn(kClassic)),
                         PairName);

}  // namespace
}  // namespace ns3
