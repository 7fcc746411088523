// Generated scenarios go through the loader like a user's file: they must load,
// and say what they were asked to.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scenario/generate.h"
#include "scenario/yaml-document.h"
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

// The loader's size caps (yaml-document.h) stay well above the largest
// scenario the tools make: `punchlab bench --nodes 2000`.
TEST(Generate, LargestCrowdFitsTheLoadersCaps) {
  CrowdScenarioSpec spec;
  spec.nodes = 2000;
  const std::string yaml = CrowdScenarioYaml(spec);
  EXPECT_LT(yaml.size(), kMaxScenarioBytes / 4);
  const LoadResult r = LoadScenarioText(yaml, "crowd.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.scenario->nodes.size(), 2000u);
}

TEST(Generate, CrowdScenarioPutsEachGroupInItsOwnTailnetTalkingToItsPeers) {
  CrowdScenarioSpec spec;
  spec.nodes = 22;  // five groups of four and a last group of two
  spec.peers_per_node = 3;
  const LoadResult r = LoadScenarioText(CrowdScenarioYaml(spec), "crowd.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.nodes.size(), 22u);
  EXPECT_EQ(s.nats.size(), 22u);
  EXPECT_EQ(s.control.domains.size(), 6u);
  EXPECT_EQ(s.traffic.size(), 5u * 4 * 3 + 2);
  EXPECT_EQ(s.FindNat("nat00003")->preset, "symmetric");
  EXPECT_EQ(s.FindNode("n00004")->domain, s.FindNode("n00007")->domain);
  EXPECT_NE(s.FindNode("n00003")->domain, s.FindNode("n00004")->domain);
  // Every flow stays inside its group, and each node of a full group sends to three peers.
  std::map<std::string, int> sends;
  for (const Flow& f : s.traffic) {
    EXPECT_EQ(s.FindNode(f.from)->domain, s.FindNode(f.to)->domain) << f.from << " -> " << f.to;
    EXPECT_NE(f.from, f.to);
    ++sends[f.from];
  }
  EXPECT_EQ(sends["n00000"], 3);
  EXPECT_EQ(sends["n00021"], 1);
}

}  // namespace
}  // namespace punchlab::scenario
