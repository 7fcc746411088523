// NodeApplication's own surface on the NAT-pair world: Send(), the Rtt
// trace, per-path stats and the stop.
#include <gtest/gtest.h>

#include <vector>

#include "helper/nat-pair-world.h"
#include "ns3/simulator.h"

namespace ns3 {
namespace {

using punchlab::NodePublicKey;
using punchlab::node::Path;
using punchlab::node::SendResult;

class NodeApplicationTest : public ::testing::Test {
 protected:
  ~NodeApplicationTest() override { Simulator::Destroy(); }
};

TEST_F(NodeApplicationTest, SendsDirectMeasuresRttAndCountsPerPath) {
  NatPairWorldConfig config;
  config.natA = "full-cone";
  config.natB = "full-cone";
  NatPairWorld world(config);
  const NodePublicKey keyA = world.a->GetPublicKey();
  const NodePublicKey keyB = world.b->GetPublicKey();
  std::vector<Time> directRtts;
  world.a->TraceConnectWithoutContext(
      "Rtt", Callback<void, const NodePublicKey&, const Path&, Time>(
                 [&](const NodePublicKey& peer, const Path& path, Time rtt) {
                   if (peer == keyB && path.direct()) directRtts.push_back(rtt);
                 }));
  std::vector<SendResult> results;
  // B answers on its own at 5 s, once A's traffic has made the path direct.
  Simulator::Schedule(Seconds(5), [&] {
    const punchlab::Bytes hello = {'h', 'i'};
    results.push_back(world.b->Send(keyA, hello));
  });
  Simulator::Stop(Seconds(6));
  Simulator::Run();

  // Four 5 ms links each way: 40 ms plus serialization.
  ASSERT_FALSE(directRtts.empty());
  for (Time rtt : directRtts) {
    EXPECT_GE(rtt, MilliSeconds(40));
    EXPECT_LT(rtt, MilliSeconds(41));
  }
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], SendResult::kDirect);

  const Path path = world.a->GetPathTo(keyB);
  ASSERT_TRUE(path.direct()) << path.ToString();
  const std::optional<punchlab::node::PeerStats> stats = world.a->FindPeerStats(keyB);
  ASSERT_TRUE(stats.has_value());
  const auto direct = stats->paths.find(path);
  ASSERT_NE(direct, stats->paths.end());
  EXPECT_GT(direct->second.packets_sent, 0u);
  EXPECT_EQ(direct->second.bytes_sent, direct->second.packets_sent * config.packetSize);
  EXPECT_EQ(direct->second.packets_received, 1u);  // B's "hi"
  EXPECT_EQ(world.a->GetStats().data_sent_direct + world.a->GetStats().data_sent_derp,
            world.a->GetTrafficSent());
  EXPECT_TRUE(world.a->GetMachine()->registered());
}

TEST_F(NodeApplicationTest, StopLeavesTheControlPlane) {
  NatPairWorld world(NatPairWorldConfig{});
  world.b->SetStopTime(Seconds(3));
  size_t nodesBeforeStop = 0;
  Simulator::Schedule(Seconds(2.9), [&] { nodesBeforeStop = world.controlServer->GetNodeCount(); });
  Simulator::Stop(Seconds(4));
  Simulator::Run();
  EXPECT_EQ(nodesBeforeStop, 2u);
  // The node said goodbye: the server forgot it at once, not after its idle timeout.
  EXPECT_EQ(world.controlServer->GetNodeCount(), 1u);
  EXPECT_TRUE(world.b->GetMachine()->stopped());
  // Sends after the stop are refused, not crashes.
  EXPECT_EQ(world.b->Send(world.a->GetPublicKey(), punchlab::Bytes{1}), SendResult::kDropped);
}

}  // namespace
}  // namespace ns3
