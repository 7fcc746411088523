// One scenario, both runners: the ns-3 runner (run-sim) and the real runner's
// planning (run-real, no root) must read the scenario through the same
// functions (scenario/meaning/): the probes each sends and when, what kind
// of path each calls a node's path, what the control plane calls each domain
// and node. A runner that grew its own copy of any of these fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "model/punchlab-ns3-convert.h"
#include "node/flow-spec.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "punchlab/control/identity.h"
#include "results/run-options.h"
#include "run-real/commands.h"
#include "run-real/lab-plan.h"
#include "run-real/node-log.h"
#include "run-sim/run-sim.h"
#include "run-sim/scenario-world.h"
#include "scenario/loader.h"
#include "scenario/meaning/control-names.h"
#include "scenario/meaning/path-classifier.h"
#include "scenario/meaning/probe-schedule.h"

namespace punchlab {
namespace {

using ::testing::ElementsAre;
using Slots = std::vector<std::pair<uint64_t, int64_t>>;  // (seq, ns)

// a and b share a LAN behind one NAT (their path ends up local), c and d are
// public in another domain; flows with idle gaps, one starting inside a gap.
// a, c and d have the default start_skew (their turns shift their flows), b none.
const char* kYaml = R"(
stop_time: 8s
internet: {latency: 10ms}
derp: {regions: [{id: 1, name: fra, latency: 5ms}]}
control: {domains: [Home_Net, corp.example]}
nats: {home: {preset: port-restricted-cone}}
nodes:
  a: {behind: home, domain: Home_Net}
  b: {behind: home, domain: Home_Net, start_skew: 0s}
  c: {domain: corp.example}
  d: {domain: corp.example}
traffic:
  - {from: a, to: b, start: 1s, stop: 7s, every: 300ms, idle: [{at: 2s, for: 1100ms}, {at: 5s, for: 10ms}]}
  - {from: b, to: a, start: 2500ms, every: 700ms, idle: [{at: 2500ms, for: 400ms}]}
  - {from: c, to: d, start: 3s, every: 1s}
)";

scenario::Scenario Load() {
  scenario::LoadResult r = scenario::LoadScenarioText(kYaml, "t.yaml");
  for (const scenario::Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  return r.scenario.value_or(scenario::Scenario{});
}

Slots Walk(const scenario::ProbeSchedule& s) {
  Slots out;
  for (auto slot = s.SlotAtOrAfter(Duration::Zero()); slot; slot = s.After(*slot)) {
    out.emplace_back(slot->seq, slot->at.nanos());
  }
  return out;
}

// The probes the ns-3 run sent from `src` to `dst`, as (seq, sent_at).
Slots SimProbes(const results::Results& r, const std::string& src, const std::string& dst) {
  Slots out;
  for (const results::Probe& p : r.probes) {
    if (p.src == src && p.dst == dst) out.emplace_back(p.seq, p.sent_at.nanos());
  }
  return out;
}

std::vector<runreal::NodeIdentity> Identities(size_t n) {
  std::vector<runreal::NodeIdentity> ids;
  for (size_t i = 0; i < n; ++i) {
    const std::string hex(64, static_cast<char>('a' + i));
    ids.push_back({"privkey:" + hex, "nodekey:" + hex, "pltoken1." + hex});
  }
  return ids;
}

// Builds the ns-3 world (nothing runs) and hands it to `check`.
template <typename F>
void WithSimWorld(const scenario::Scenario& s, F check) {
  ns3::Simulator::Destroy();
  {
    runsim::ScenarioWorld world(s, s.seed);
    check(world);
  }
  ns3::Simulator::Destroy();
}

// `seed`: the run's, as `--seed` gives it (nullopt: the file's). It picks
// the nodes' start turns, so both runners must use the run's, not the file's.
void ExpectSameProbes(std::optional<uint64_t> seed) {
  const scenario::Scenario s = Load();
  results::RunOptions options;
  options.seed = seed;
  const results::Results sim = runsim::RunInSimulation(s, options);
  const std::vector<runreal::NodeIdentity> ids = Identities(s.nodes.size());
  const uint64_t run_seed = seed.value_or(s.seed);
  for (size_t i = 0; i < s.traffic.size(); ++i) {
    const scenario::Flow& f = s.traffic[i];
    const Slots expected = Walk(scenario::ProbeSchedule::Of(s, f, run_seed));
    ASSERT_FALSE(expected.empty());
    // ns-3: the probes the run sent.
    EXPECT_EQ(SimProbes(sim, f.from, f.to), expected) << "flow " << i << " in ns-3";
    // The lab: the --flow punchlab-node is given, read back as the node reads it.
    bool found = false;
    for (const cli::FlowSpec& spec : runreal::FlowsFrom(s, f.from, ids, run_seed)) {
      if (spec.id != i) continue;
      found = true;
      std::string error;
      const auto parsed = cli::ParseFlowSpec(cli::FormatFlowSpec(spec), error);
      ASSERT_TRUE(parsed) << error;
      EXPECT_EQ(Walk(parsed->schedule), expected) << "flow " << i << " in the lab";
    }
    EXPECT_TRUE(found) << "flow " << i << " has no --flow";
  }
}

TEST(BothRunners, SendTheScenariosProbesAtTheSameTimes) {
  ExpectSameProbes(std::nullopt);
  const scenario::Scenario s = Load();
  // b's flow, spelled out: it starts inside a gap, so at the gap's end.
  EXPECT_EQ(Walk(scenario::ProbeSchedule::Of(s, s.traffic[1], s.seed)),
            (Slots{{0, 2'900'000'000}, {1, 3'600'000'000}, {2, 4'300'000'000},
                   {3, 5'000'000'000}, {4, 5'700'000'000}, {5, 6'400'000'000},
                   {6, 7'100'000'000}, {7, 7'800'000'000}}));
  // a's and c's flows start in their turns: k/4 of 1 s late, k < 4.
  for (size_t i : {size_t{0}, size_t{2}}) {
    const Duration skew =
        scenario::ProbeSchedule::Of(s, s.traffic[i], s.seed).start - s.traffic[i].start;
    EXPECT_GE(skew, Duration::Zero());
    EXPECT_LT(skew, Duration::Seconds(1));
    EXPECT_EQ(skew.nanos() % 250'000'000, 0) << "flow " << i;
  }
}

// `punchlab run --seed` (and --real --seed) shift the flows by the turns of
// the run's seed in both runners (before, both used the file's).
TEST(BothRunners, TheRunsSeedPicksTheStartTurnsInBoth) {
  const scenario::Scenario s = Load();
  bool differs = false;
  for (uint64_t seed = 2; seed < 12 && !differs; ++seed) {
    differs = scenario::ProbeSchedule::Of(s, s.traffic[0], seed).start !=
              scenario::ProbeSchedule::Of(s, s.traffic[0], s.seed).start;
    if (differs) ExpectSameProbes(seed);
  }
  EXPECT_TRUE(differs) << "no seed from 2 to 11 gives node a another turn";
}

// Every pair (from, to) and the paths a node could report to `to`: its own
// endpoint, its address on another port, a NAT mapping, DERP, none.
std::vector<scenario::PathKind> Kinds(const scenario::PathClassifier& paths) {
  std::vector<scenario::PathKind> out;
  for (size_t from = 0; from < paths.size(); ++from) {
    for (size_t to = 0; to < paths.size(); ++to) {
      const Endpoint own = paths.Own(to);
      for (const node::Path& p :
           {node::Path::Direct(own), node::Path::Direct(Endpoint(own.ip, own.port + 1)),
            node::Path::Direct(*Endpoint::Parse("203.0.113.77:50000")), node::Path::Derp(1),
            node::Path::None()}) {
        out.push_back(paths.Classify(from, to, p));
      }
    }
  }
  return out;
}

TEST(BothRunners, ClassifyPathsAtWhereTheirNodesListen) {
  const scenario::Scenario s = Load();
  const runreal::LabPlan plan = runreal::PlanLab(s);
  const scenario::PathClassifier lab = runreal::LabPathClassifier(s, plan);
  const std::vector<runreal::NodeIdentity> ids = Identities(s.nodes.size());
  // The lab: each node's --listen is its endpoint in the classifier.
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const std::vector<std::string> argv = runreal::NodeArgv(
        "/bin/node", plan.nodes[i], plan.control.uplink.address, "nodekey:c", ids[i], {}, 0,
        s.stop_time);
    const auto listen = std::find(argv.begin(), argv.end(), "--listen");
    ASSERT_NE(listen, argv.end());
    EXPECT_EQ(*(listen + 1), lab.Own(i).ToString());
  }
  WithSimWorld(s, [&](runsim::ScenarioWorld& world) {
    const scenario::PathClassifier& sim = world.paths();
    // ns-3: each node's socket (LocalAddress, LocalPort) is its endpoint.
    ASSERT_EQ(sim.size(), s.nodes.size());
    for (size_t i = 0; i < world.nodes.size(); ++i) {
      ns3::AddressValue address;
      ns3::UintegerValue port;
      world.nodes[i].app->GetAttribute("LocalAddress", address);
      world.nodes[i].app->GetAttribute("LocalPort", port);
      EXPECT_EQ(sim.Own(i),
                Endpoint(ns3::ToPunchlab(ns3::Ipv4Address::ConvertFrom(address.Get())),
                         static_cast<uint16_t>(port.Get())));
    }
    // The same answers in both worlds, though the addresses differ.
    EXPECT_EQ(Kinds(sim), Kinds(lab));
  });
  // Spelled out for a -> b (one LAN): own endpoint local, anything else not.
  using K = scenario::PathKind;
  const std::vector<K> kinds = Kinds(lab);
  EXPECT_THAT(std::vector<K>(kinds.begin() + 5, kinds.begin() + 10),
              ElementsAre(K::kLocal, K::kDirect, K::kDirect, K::kDerp, K::kNone));
}

TEST(BothRunners, RecordTheKindTheSharedRuleGivesEachPath) {
  // Every path the ns-3 run recorded (timeline and probes) has the kind the
  // shared classifier gives its text, read back as the lab's node log is.
  const scenario::Scenario s = Load();
  const results::Results sim = runsim::RunInSimulation(s, results::RunOptions{});
  std::vector<Endpoint> own;
  WithSimWorld(s, [&](runsim::ScenarioWorld& world) {
    for (size_t i = 0; i < s.nodes.size(); ++i) own.push_back(world.paths().Own(i));
  });
  const scenario::PathClassifier paths(s, own);
  bool local = false;
  ASSERT_FALSE(sim.timeline.empty());
  for (const results::PathChange& c : sim.timeline) {
    EXPECT_EQ(runreal::ClassifyPath(paths, c.node, c.peer, c.detail), c.path)
        << c.node << ">" << c.peer << " " << c.detail;
    local = local || c.path == scenario::PathKind::kLocal;
  }
  EXPECT_TRUE(local) << "a and b share a LAN: some path between them should be local";
}

TEST(BothRunners, NameDomainsAndNodesAlikeToTheControlPlane) {
  const scenario::Scenario s = Load();
  const runreal::LabPlan plan = runreal::PlanLab(s);
  // The lab: the control server's --domains and each node's token claims.
  const std::vector<std::string> argv =
      runreal::ControlServerArgv("/bin/node", plan, s, "idpkey:x", "privkey:y",
                                 std::vector<std::string>(s.derp_regions.size(), "nodekey:z"),
                                 std::vector<runreal::DerpTls>(s.derp_regions.size()));
  const auto domains = std::find(argv.begin(), argv.end(), "--domains");
  ASSERT_NE(domains, argv.end());
  EXPECT_EQ(*(domains + 1), "home-net,corp.example");
  EXPECT_EQ(*(domains + 1), scenario::ControlDomain(s.control.domains[0]) + "," +
                                scenario::ControlDomain(s.control.domains[1]));
  WithSimWorld(s, [&](runsim::ScenarioWorld& world) {
    for (size_t i = 0; i < world.nodes.size(); ++i) {
      ns3::StringValue token;
      world.nodes[i].app->GetAttribute("Token", token);
      std::string error;
      const auto parsed = control::ParseToken(token.Get(), error);
      ASSERT_TRUE(parsed) << error;
      const control::IdentityClaims lab =
          runreal::NodeClaims(s, i, parsed->claims.node_key, parsed->claims.expires);
      // ns-3's token names the node and its domain as the lab's does.
      EXPECT_EQ(parsed->claims, lab) << s.nodes[i].name;
      EXPECT_EQ(parsed->claims.domain, scenario::ControlDomain(s.nodes[i].domain));
      EXPECT_EQ(parsed->claims.user, scenario::ControlUser(s.nodes[i]));
    }
  });
}

}  // namespace
}  // namespace punchlab
