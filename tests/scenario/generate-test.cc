// Generated scenarios go through the loader like a user's file: they must load,
// and say what they were asked to.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <vector>
#include <string>

#include "scenario/generate.h"
#include "scenario/yaml-document.h"
#include "scenario/loader.h"
#include "support/read-file.h"

namespace punchlab::scenario {
namespace {

using testsupport::ReadFile;

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
  // punchlab's own nodes start together (start_skew spreads their flows).
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].start, Duration());
  EXPECT_EQ(s.nodes[1].start, Duration());
}

// `punchlab matrix --program`: both nodes run the program, no probes; the
// committed WireGuard program fits every cell. bob starts 1 s after alice:
// WireGuard peers launched together cross their first initiations
// (sim/run-real/README.md, "Peers that start together").
TEST(Generate, PairScenarioWithAProgramOnBothSides) {
  PairScenarioSpec spec;
  spec.nat_a = "symmetric";
  spec.nat_b = "full-cone";
  spec.program_yaml = ReadFile(std::string(PUNCHLAB_SOURCE_DIR) + "/scenarios/programs/wireguard.run");
  ASSERT_FALSE(spec.program_yaml.empty());
  const LoadResult r = LoadScenarioText(PairScenarioYaml(spec), "pair.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  EXPECT_TRUE(s.traffic.empty());
  ASSERT_EQ(s.nodes.size(), 2u);
  for (const NodeDef& n : s.nodes) {
    ASSERT_TRUE(n.run) << n.name;
    EXPECT_EQ(n.run->command, (std::vector<std::string>{"sh", "peer.sh"}));
    ASSERT_EQ(n.run->files.size(), 1u);
    EXPECT_NE(n.run->files[0].second.find("{{peer.public_address}}"), std::string::npos);
  }
  EXPECT_EQ(s.nodes[0].name, "alice");
  EXPECT_EQ(s.nodes[0].start, Duration());
  EXPECT_EQ(s.nodes[1].name, "bob");
  EXPECT_EQ(s.nodes[1].start, Duration::Seconds(1));
}

// `punchlab matrix --program --service NAME=FILE`: Tailscale's client on both
// sides and its control server as a service on the internet side; the blocks
// say which lines came from which file.
TEST(Generate, PairScenarioWithAServiceBesideTheProgram) {
  PairScenarioSpec spec;
  spec.nat_a = "full-cone";
  spec.nat_b = "symmetric";
  const std::string dir = std::string(PUNCHLAB_SOURCE_DIR) + "/scenarios/programs/tailscale/";
  spec.program_yaml = ReadFile(dir + "tailscaled.run");
  spec.services.emplace_back("control", ReadFile(dir + "testcontrol.run"));
  ASSERT_FALSE(spec.program_yaml.empty());
  ASSERT_FALSE(spec.services[0].second.empty());
  const std::string yaml = PairScenarioYaml(spec);
  const LoadResult r = LoadScenarioText(yaml, "pair.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  ASSERT_EQ(s.nodes.size(), 3u);
  ASSERT_TRUE(s.nodes[2].run);
  EXPECT_EQ(s.nodes[2].name, "control");
  EXPECT_TRUE(s.nodes[2].run->service);
  EXPECT_TRUE(s.nodes[2].behind.empty());
  EXPECT_EQ(s.nodes[2].run->command.front(), "testcontrol-lab");
  EXPECT_FALSE(s.nodes[0].run->service);

  const std::vector<GeneratedBlock> blocks = PairScenarioBlocks(spec);
  ASSERT_EQ(blocks.size(), 2u);
  std::vector<std::string> lines;
  std::istringstream in(yaml);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(blocks[0].service, 1u);
  EXPECT_EQ(blocks[0].indent, 6);
  EXPECT_EQ(lines.at(static_cast<size_t>(blocks[0].first_line - 1)),
            "      " + spec.services[0].second.substr(0, spec.services[0].second.find('\n')));
  EXPECT_EQ(blocks[1].service, 0u);
  EXPECT_EQ(blocks[1].indent, 4);
  EXPECT_EQ(blocks[1].last_line, static_cast<int>(lines.size()));
  EXPECT_EQ(lines.at(static_cast<size_t>(blocks[1].first_line - 1)),
            "    " + spec.program_yaml.substr(0, spec.program_yaml.find('\n')));
}

// A program is a relay or a service, not both.
TEST(Generate, AServiceThatIsAlsoARelayIsRejected) {
  const LoadResult r = LoadScenarioText(R"(
stop_time: 10s
nodes:
  control: {run: {command: [ctl], service: true, relay: true}}
)", "both.yaml");
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const Diagnostic& d : r.errors) all += d.ToString() + "\n";
  EXPECT_NE(all.find("both.yaml:4:44: service in nodes.control.run: a program is a relay or a "
                     "service, not both"),
            std::string::npos)
      << all;
}

// The loader's size caps (yaml-document.h) stay above the largest scenarios
// the tools make: `punchlab bench`'s crowd and tailnet of 10,000 nodes (by
// size; loading one takes tens of seconds, so a 2,000-node crowd is loaded).
TEST(Generate, LargestCrowdAndTailnetFitTheLoadersCaps) {
  for (uint32_t tailnet : {0u, 10000u}) {
    CrowdScenarioSpec spec;
    spec.nodes = 10000;
    spec.tailnet_size = tailnet;
    EXPECT_LT(CrowdScenarioYaml(spec).size(), kMaxScenarioBytes * 3 / 4);
  }
  {
    // The tailnet with a rule per node (bench's tailnet-acl): 3.4 MB, so
    // about 12,000 such nodes fit.
    CrowdScenarioSpec spec;
    spec.nodes = 10000;
    spec.tailnet_size = 10000;
    spec.acls = true;
    EXPECT_LT(CrowdScenarioYaml(spec).size(), kMaxScenarioBytes * 7 / 8);
  }
  CrowdScenarioSpec spec;
  spec.nodes = 2000;
  const LoadResult r = LoadScenarioText(CrowdScenarioYaml(spec), "crowd.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.scenario->nodes.size(), 2000u);
  EXPECT_EQ(r.scenario->traffic.size(), 6000u);
  EXPECT_EQ(r.scenario->control.domains.size(), 500u);
}

TEST(Generate, OneBigTailnetSendsToTheNextPeersWrappingAround) {
  CrowdScenarioSpec spec;
  spec.nodes = 10;
  spec.tailnet_size = 10;
  const LoadResult r = LoadScenarioText(CrowdScenarioYaml(spec), "tailnet.yaml");
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.control.domains.size(), 1u);
  std::map<std::string, std::set<std::string>> to;
  for (const Flow& f : s.traffic) to[f.from].insert(f.to);
  EXPECT_EQ(to.size(), 10u);
  EXPECT_EQ(to["n00000"], (std::set<std::string>{"n00001", "n00002", "n00003"}));
  EXPECT_EQ(to["n00008"], (std::set<std::string>{"n00009", "n00000", "n00001"}));
}

// With acls each node gets one rule: it may reach the peers it sends to.
TEST(Generate, ATailnetWithRulesLetsEachNodeReachExactlyThePeersItSendsTo) {
  CrowdScenarioSpec spec;
  spec.nodes = 10;
  spec.tailnet_size = 10;
  spec.acls = true;
  const LoadResult r = LoadScenarioText(CrowdScenarioYaml(spec), "tailnet.yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  std::map<std::string, std::set<std::string>> to, may_reach;
  for (const Flow& f : s.traffic) to[f.from].insert(f.to);
  ASSERT_EQ(s.control.acls.size(), 10u);
  for (const AccessRuleDef& rule : s.control.acls) {
    ASSERT_EQ(rule.src.size(), 1u);
    EXPECT_EQ(rule.domain, "tailnet00000");
    may_reach[rule.src[0]].insert(rule.dst.begin(), rule.dst.end());
  }
  EXPECT_EQ(may_reach, to);
  spec.acls = false;
  EXPECT_TRUE(LoadScenarioText(CrowdScenarioYaml(spec), "t.yaml").scenario->control.acls.empty());
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
  EXPECT_EQ(s.name, "crowd-22");
  EXPECT_EQ(s.description,
            "22 nodes behind mixed NATs in tailnets of 4, each talking to the 3 others");
}

// A generated scenario's name and words say what it is: `punchlab bench`'s
// workload name, and how many others a node has and talks to (a tailnet of
// N: N - 1 others, of which it talks to the next few).
TEST(Generate, NamesAndDescriptionsSayWhichWorkloadAndHowManyOthers) {
  struct Case {
    uint32_t nodes, tailnet_size;
    bool acls;
    const char* name;
    const char* description;
  };
  const Case cases[] = {
      {10, 10, false, "tailnet-10",
       "10 nodes behind mixed NATs in one tailnet, each talking to the next 3 of its 9 others"},
      {10, 10, true, "tailnet-acl-10",
       "10 nodes behind mixed NATs in one tailnet, each talking to the next 3 of its 9 others, "
       "access rules letting each see only those it talks with"},
      // Tailnets smaller than the nodes: several, each node with tailnet_size - 1 others.
      {12, 6, false, "tailnet-12",
       "12 nodes behind mixed NATs in tailnets of 6, each talking to the next 3 of its 5 others"},
      // A tailnet as small as a crowd's group: a node talks to all its others.
      {4, 4, false, "tailnet-4",
       "4 nodes behind mixed NATs in one tailnet, each talking to the 3 others"},
      // A crowd keeps its words (its results are compared byte for byte).
      {200, 0, false, "crowd-200",
       "200 nodes behind mixed NATs in tailnets of 4, each talking to the 3 others"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CrowdScenarioSpec spec;
    spec.nodes = c.nodes;
    spec.tailnet_size = c.tailnet_size;
    spec.acls = c.acls;
    const LoadResult r = LoadScenarioText(CrowdScenarioYaml(spec), "t.yaml");
    for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.scenario->name, c.name);
    EXPECT_EQ(r.scenario->description, c.description);
  }
}

}  // namespace
}  // namespace punchlab::scenario
