// What a run writes: the same scenario and seed give byte-identical results,
// another seed another run; pcaps are per link and readable by tshark;
// traffic keeps its idle gaps; tiny packets are noted, not silently grown;
// a big domain's silent pairs are counted, not listed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <utility>
#include <string>

#include "results/write-json.h"
#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

using testing::PairYaml;
using testing::Probes;
using testing::RunYaml;

const std::string kFaulty = PairYaml(
    "port-restricted-cone", "full-cone",
    "events:\n"
    "  - {at: 8s, nat: home, action: change-address}\n"
    "  - {at: 15s, node: bob, action: restart}\n");

TEST(RunSimOutputs, SameSeedGivesByteIdenticalResults) {
  const std::string first = results::ResultsJsonText(RunYaml(kFaulty));
  const std::string second = results::ResultsJsonText(RunYaml(kFaulty));
  EXPECT_EQ(first, second);
}

TEST(RunSimOutputs, AnotherSeedIsAnotherRun) {
  results::RunOptions seven;
  seven.seed = 7;
  const results::Results a = RunYaml(kFaulty);
  const results::Results b = RunYaml(kFaulty, seven);
  EXPECT_EQ(b.seed, 7u);
  // Keys, txids and random ports differ; the outcome need not.
  EXPECT_NE(results::ResultsJsonText(a), results::ResultsJsonText(b));
}

std::string Capture(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

TEST(RunSimOutputs, PcapPerLinkThatTsharkDecodes) {
  // A directory of its own: two trees' test runs may share the machine.
  std::string templ =
      (std::filesystem::temp_directory_path() / "punchlab-runsim-pcap-XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr) << templ;
  const std::filesystem::path dir = templ;
  results::RunOptions options;
  options.pcap = true;
  options.out_dir = dir.string();
  RunYaml(PairYaml("full-cone", "full-cone"), options);
  for (const char* link : {"node-alice", "node-bob", "nat-home", "nat-office", "derp-fra", "control"}) {
    const std::filesystem::path file = dir / "pcap" / (std::string(link) + ".pcap");
    ASSERT_TRUE(std::filesystem::exists(file)) << file;
    EXPECT_GT(std::filesystem::file_size(file), 24u) << file << " holds no packets";
  }
  if (std::system("command -v tshark >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "tshark is not installed (scripts/setup.sh installs it)";
  }
  // The DERP server's link carries the nodes' STUN binding requests.
  const std::string stun = Capture("tshark -r " + (dir / "pcap" / "derp-fra.pcap").string() +
                                   " -Y stun -T fields -e stun.type 2>&1");
  EXPECT_NE(stun.find("0x0001"), std::string::npos) << stun;
  EXPECT_NE(stun.find("0x0101"), std::string::npos) << stun;
  // Behind the NAT the node's own address; outside it the NAT's.
  const std::string inside = Capture("tshark -r " + (dir / "pcap" / "node-alice.pcap").string() +
                                     " -T fields -e ip.src 2>&1 | sort -u");
  const std::string outside = Capture("tshark -r " + (dir / "pcap" / "nat-home.pcap").string() +
                                      " -T fields -e ip.src 2>&1 | sort -u");
  EXPECT_NE(inside.find("10.0."), std::string::npos) << inside;
  EXPECT_EQ(outside.find("10.0."), std::string::npos) << outside;
  std::filesystem::remove_all(dir);
}

TEST(RunSimOutputs, IdleGapsSendNothingAndTrafficResumesAtTheirEnd) {
  const results::Results r = RunYaml(
      "stop_time: 30s\n"
      "nodes: {alice: {}, bob: {}}\n"
      "traffic: [{from: alice, to: bob, start: 2s, stop: 25s, every: 500ms,\n"
      "           idle: [{at: 5s, for: 10s}]}]\n");
  EXPECT_EQ(Probes(r, "alice", 0, 2).sent, 0u);
  EXPECT_EQ(Probes(r, "alice", 2, 5).sent, 6u);   // 2, 2.5, ... 4.5
  EXPECT_EQ(Probes(r, "alice", 5, 15).sent, 0u);
  EXPECT_EQ(Probes(r, "alice", 15, 25).sent, 20u);  // from 15 on again
  EXPECT_EQ(Probes(r, "alice", 25, 30).sent, 0u);
  EXPECT_DOUBLE_EQ(r.probes[6].sent_at.seconds(), 15.0);
}

TEST(RunSimOutputs, PacketsBelowTheProbeHeaderAreNoted) {
  const results::Results r = RunYaml(
      "stop_time: 5s\n"
      "nodes: {alice: {}, bob: {}}\n"
      "traffic: [{from: alice, to: bob, size: 8B}]\n");
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("t.yaml:3:11"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[0].find("sent as 16 B"), std::string::npos) << r.notes[0];
}

TEST(RunSimOutputs, EventsAreCountedAndCountersNameEveryBox) {
  const results::Results r = RunYaml(PairYaml("full-cone", "symmetric"));
  EXPECT_GT(r.events_executed, 1000u);
  for (const char* group : {"nat/home", "nat/office", "node/alice", "node/bob", "derp/fra",
                            "control", "traffic"}) {
    EXPECT_EQ(r.counters.count(group), 1u) << group;
  }
  // Every 200 ms from 1 s (plus alice's turn) until 30 s.
  EXPECT_EQ(testing::Counter(r, "traffic", "probes_sent"), 145u);
  EXPECT_EQ(testing::Counter(r, "traffic", "misdirected"), 0u);
}

// Port mapping's counters: the client's per node asking a gateway
// (portmap/<node>, results/portmap-counters.h, named as the real lab names
// them) and the router's server in its NAT's group (portmap_*).
TEST(RunSimOutputs, PortMappingIsCountedOnBothEnds) {
  const results::Results r = RunYaml(
      "stop_time: 10s\n"
      "nats:\n"
      "  home: {preset: symmetric, port_mapping: {protocols: [pmp]}}\n"
      "  office: {preset: symmetric}\n"
      "nodes: {alice: {behind: home}, bob: {behind: office}, carol: {}}\n");
  EXPECT_EQ(testing::Counter(r, "portmap/alice", "mappings_created"), 1u);
  EXPECT_GE(testing::Counter(r, "portmap/alice", "pmp_requests_sent"), 2u);
  EXPECT_EQ(testing::Counter(r, "nat/home", "portmap_granted"), 1u);
  // A PCP ANNOUNCE to a NAT-PMP-only router: "unsupported version".
  EXPECT_GE(testing::Counter(r, "nat/home", "portmap_unsupported_version"), 1u);
  EXPECT_GE(testing::Counter(r, "node/alice", "portmap_datagrams"), 2u);
  // bob asks a router that offers nothing and gets nothing; carol asks nobody.
  EXPECT_GE(testing::Counter(r, "portmap/bob", "probes"), 1u);
  EXPECT_EQ(testing::Counter(r, "portmap/bob", "mappings_created"), 0u);
  ASSERT_EQ(r.counters.count("nat/office"), 1u);
  EXPECT_EQ(r.counters.at("nat/office").count("portmap_granted"), 0u);  // no server there
  EXPECT_EQ(r.counters.count("portmap/carol"), 0u);
}

// 150 nodes in one domain: 11,175 possible pairs, beyond the 10,000 up to
// which every pair is listed (path-recorder.h). Ten talk in a ring and one
// expectation names a silent pair: those 11 pairs are listed and judged;
// the other pairs' entries (each node's "peer-added" of each peer, path derp:
// its home region) are counted, not listed.
TEST(RunSimOutputs, ABigDomainsSilentPairsAreCountedNotListed) {
  constexpr int kNodes = 150;
  std::string yaml = "stop_time: 4s\ncontrol: {domains: [corp]}\nnodes:\n";
  for (int i = 0; i < kNodes; ++i) yaml += "  n" + std::to_string(i) + ": {domain: corp}\n";
  yaml += "traffic:\n";
  for (int i = 0; i < 10; ++i) {
    yaml += "  - {from: n" + std::to_string(i) + ", to: n" + std::to_string((i + 1) % 10) +
            ", start: 1s, every: 500ms}\n";
  }
  yaml += "expect:\n  - {between: [n20, n140], path: derp, by: 2s}\n";
  const results::Results r = RunYaml(yaml);
  ASSERT_EQ(r.expectations.size(), 1u);
  EXPECT_TRUE(r.expectations[0].ok) << r.expectations[0].observed;
  std::set<std::pair<std::string, std::string>> listed;
  for (const results::PairSummary& p : r.pairs) listed.insert(std::minmax(p.a, p.b));
  std::set<std::pair<std::string, std::string>> want = {std::minmax(std::string("n20"), std::string("n140"))};
  for (int i = 0; i < 10; ++i) {
    want.insert(std::minmax("n" + std::to_string(i), "n" + std::to_string((i + 1) % 10)));
  }
  EXPECT_EQ(listed, want);
  for (const results::PairSummary& p : r.pairs) {
    if (p.a == "n20" || p.b == "n20") {
      EXPECT_EQ(p.final_path, results::PathKind::kDerp);
    } else {
      EXPECT_EQ(p.final_path, results::PathKind::kDirect) << p.a << "-" << p.b;
    }
  }
  // Every node learned of every peer (at least one entry each way for each
  // of the other pairs: peer-added, then derp once its home region is known),
  // and none of them got a direct path.
  EXPECT_GE(testing::Counter(r, "timeline", "unlisted_entries"),
            uint64_t{kNodes} * (kNodes - 1) - 2 * 11);
  EXPECT_EQ(r.counters.at("timeline").at("unlisted_direct_entries"), 0u);
  for (const results::PathChange& c : r.timeline) {
    EXPECT_TRUE(want.count(std::minmax(c.node, c.peer))) << c.node << " " << c.peer;
  }
}

}  // namespace
}  // namespace punchlab::runsim
