// Generated scenarios go through the loader like a user's file: they must load,
// and say what they were asked to.
#include <gtest/gtest.h>

#include "scenario/generate.h"
#include "scenario/loader.h"

namespace punchlab::scenario {
namespace {

TEST(Generate, PairScenarioLoadsWithBothNatsAndTrafficBothWays) {
  PairScenarioSpec spec;
  spec.nat_a = "symmetric";
  spec.nat_b = "full-cone";
  spec.duration = Duration::Seconds(30);
  spec.packets_per_second = 4;
  spec.seed = 9;
  const LoadResult r = LoadScenarioText(PairScenarioYaml(spec), "pair.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "matrix-symmetric--full-cone");
  EXPECT_EQ(s.seed, 9u);
  EXPECT_EQ(s.stop_time, Duration::Seconds(30));
  ASSERT_NE(s.FindNat("nat-a"), nullptr);
  EXPECT_EQ(s.FindNat("nat-a")->preset, "symmetric");
  EXPECT_EQ(s.FindNat("nat-b")->preset, "full-cone");
  ASSERT_EQ(s.traffic.size(), 2u);
  EXPECT_EQ(s.traffic[0].every, Duration::Millis(250));
  EXPECT_EQ(s.traffic[1].from, "bob");
}

TEST(Generate, CrowdScenarioHasEveryNodeTalkingToItsPeers) {
  CrowdScenarioSpec spec;
  spec.nodes = 20;
  spec.peers_per_node = 3;
  const LoadResult r = LoadScenarioText(CrowdScenarioYaml(spec), "crowd.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.scenario->nodes.size(), 20u);
  EXPECT_EQ(r.scenario->nats.size(), 20u);
  EXPECT_EQ(r.scenario->traffic.size(), 60u);
  EXPECT_EQ(r.scenario->FindNat("nat00003")->preset, "symmetric");
  EXPECT_EQ(r.scenario->traffic.back().to, "n00002");  // wraps around
}

}  // namespace
}  // namespace punchlab::scenario
