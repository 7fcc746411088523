// punchlab-node's JSON lines as observations: timelines, probes and counters.
#include "run-real/node-log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "results/disco-step.h"
#include "run-real-test-util.h"

namespace punchlab::runreal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LoadOk;

const std::string kA = "nodekey:" + std::string(64, 'a');
const std::string kB = "nodekey:" + std::string(64, 'b');
const std::string kC = "nodekey:" + std::string(64, 'c');

const char* kYaml = R"(
stop_time: 10s
nats: {home: {}}
nodes:
  a: {behind: home}
  b: {behind: home}
  c: {}
traffic:
  - {from: a, to: c, every: 1s}
  - {from: c, to: a, every: 1s}
)";

NodeDirectory Directory() {
  NodeDirectory d;
  d.name_by_key = {{kA, "a"}, {kB, "b"}, {kC, "c"}};
  return d;
}

// Where a, b and c listen in this (hand-made) lab.
scenario::PathClassifier Paths(const scenario::Scenario& s) {
  return scenario::PathClassifier(s, {*Endpoint::Parse("10.1.0.2:41641"),
                                      *Endpoint::Parse("10.1.0.3:41641"),
                                      *Endpoint::Parse("203.0.113.6:41641")});
}

std::string Timeline(const results::Results& r) {
  std::string out;
  for (const auto& c : r.timeline) {
    out += c.at.ToString() + " " + c.node + ">" + c.peer + " " + scenario::ToString(c.path) + " (" +
           c.reason + ")\n";
  }
  return out;
}

TEST(NodeLog, PathLinesBecomeTheTimeline) {
  const scenario::Scenario s = LoadOk(kYaml);
  results::Results r;
  const std::string out =
      R"({"event":"started","at_ms":1.5,"node_key":")" + kA + R"("})" "\n"
      R"({"event":"peer_added","at_ms":10,"peer":")" + kC + R"(","path":"derp 1"})" "\n"
      R"({"event":"peer_added","at_ms":10,"peer":")" + kB + R"(","path":"none"})" "\n"
      R"({"event":"path_changed","at_ms":250.5,"peer":")" + kC + R"(","to":"direct 203.0.113.6:41641","reason":"pong"})" "\n"
      R"({"event":"path_changed","at_ms":300,"peer":")" + kB + R"(","to":"direct 10.1.0.3:41641","reason":"call-me-maybe"})" "\n"
      R"({"event":"peer_removed","at_ms":9000,"peer":")" + kB + R"("})" "\n";
  CollectNodeLog(s, Directory(), Paths(s), "a", {{out, std::nullopt}}, r);
  FinishObservations(s, r);
  EXPECT_EQ(Timeline(r),
            "10ms a>b none (peer-added)\n"
            "10ms a>c derp (peer-added)\n"
            "250500us a>c direct (pong)\n"
            "300ms a>b local (call-me-maybe)\n"
            "9s a>b none (peer-removed)\n");
  EXPECT_EQ(r.timeline[2].detail, "direct 203.0.113.6:41641");
  EXPECT_TRUE(r.notes.empty());
}

TEST(NodeLog, ARestartEndsEveryPathAndTheNextRunStartsOver) {
  const scenario::Scenario s = LoadOk(kYaml);
  results::Results r;
  const std::string first =
      R"({"event":"peer_added","at_ms":10,"peer":")" + kC + R"(","path":"derp 1"})" "\n"
      R"({"event":"summary","at_ms":4000,"probes_sent":4,"path":"derp 1"})" "\n";
  const std::string second =
      R"({"event":"peer_added","at_ms":4100,"peer":")" + kC + R"(","path":"derp 1"})" "\n"
      R"({"event":"summary","at_ms":10000,"probes_sent":6})" "\n";
  CollectNodeLog(s, Directory(), Paths(s), "a", {{first, Duration::Seconds(4)}, {second, std::nullopt}}, r);
  EXPECT_EQ(Timeline(r),
            "10ms a>c derp (peer-added)\n"
            "4s a>c none (restart)\n"
            "4100ms a>c derp (peer-added)\n");
  EXPECT_EQ(r.counters["node/a"]["probes_sent"], 10u);
  EXPECT_EQ(r.counters["node/a"]["process_runs"], 2u);
  EXPECT_EQ(r.counters["node/a"].count("at_ms"), 0u);
}

// The lab's own start skew is said: a run whose "started" line comes 100 ms
// or more after its instant (a loaded machine) gets a note, an earlier one
// none; a restart's instant is its own.
TEST(NodeLog, ARunThatStartedLateIsNoted) {
  const scenario::Scenario s = LoadOk(kYaml);
  results::Results r;
  const auto started = [](double at_ms) {
    return R"({"event":"started","at_ms":)" + std::to_string(at_ms) + R"(,"node_key":")" + kA +
           R"("})" "\n";
  };
  CollectNodeLog(s, Directory(), Paths(s), "a",
                 {{started(99.9), Duration::Seconds(4), Duration::Zero()},
                  {started(4237), std::nullopt, Duration::Seconds(4)}},
                 r);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_EQ(r.notes[0], "node a (run 1) started 237ms after its instant 4s (the lab's own start "
                        "skew; the simulation starts it on time)");
  results::Results on_time;
  CollectNodeLog(s, Directory(), Paths(s), "a", {{started(0.061), std::nullopt, Duration::Zero()}},
                 on_time);
  EXPECT_TRUE(on_time.notes.empty());
}

// The summary's "portmap" object (results/portmap-counters.h) is the
// group portmap/<node>, summed over the node's process runs as the
// simulation names it; it is not a node/ counter.
TEST(NodeLog, PortMappingCountersAreTheirOwnGroup) {
  const scenario::Scenario s = LoadOk(kYaml);
  results::Results r;
  const std::string first =
      R"({"event":"summary","at_ms":4000,"probes_sent":4,"portmap":{"probes":2,"mappings_created":1}})" "\n";
  const std::string second =
      R"({"event":"summary","at_ms":10000,"probes_sent":6,"portmap":{"probes":1,"epoch_resets":1}})" "\n";
  CollectNodeLog(s, Directory(), Paths(s), "a", {{first, Duration::Seconds(4)}, {second, std::nullopt}}, r);
  EXPECT_EQ(r.counters["portmap/a"]["probes"], 3u);
  EXPECT_EQ(r.counters["portmap/a"]["mappings_created"], 1u);
  EXPECT_EQ(r.counters["portmap/a"]["epoch_resets"], 1u);
  EXPECT_EQ(r.counters["node/a"].count("portmap"), 0u);
  EXPECT_EQ(r.counters["node/a"]["probes_sent"], 10u);
}

TEST(NodeLog, ProbesAndTheirEchoesPairUpPerFlowAndSeq) {
  const scenario::Scenario s = LoadOk(kYaml);
  results::Results r;
  const std::string out =
      R"({"event":"probe_sent","at_ms":1000,"flow":0,"seq":0,"path":"derp 1","result":"derp"})" "\n"
      R"({"event":"probe_sent","at_ms":2000,"flow":0,"seq":1,"path":"direct 203.0.113.6:41641","result":"direct"})" "\n"
      R"({"event":"echo_received","at_ms":2001.25,"flow":0,"seq":1,"path":"direct 203.0.113.6:41641"})" "\n"
      R"({"event":"echo_received","at_ms":1080,"flow":0,"seq":0,"path":"derp 1"})" "\n"
      R"({"event":"echo_received","at_ms":1090,"flow":0,"seq":0,"path":"derp 1"})" "\n"
      R"({"event":"probe_sent","at_ms":3000,"flow":0,"seq":2,"path":"none","result":"no route"})" "\n"
      // Held for a WireGuard handshake: relayed, as the simulation counts it,
      // though the node already has a direct path.
      R"({"event":"probe_sent","at_ms":4000,"flow":0,"seq":3,"path":"direct 203.0.113.6:41641","result":"queued"})" "\n"
      // No result: a line this runner cannot count.
      R"({"event":"probe_sent","at_ms":5000,"flow":0,"seq":4,"path":"direct 203.0.113.6:41641"})" "\n"
      R"({"event":"probe_sent","at_ms":10000,"flow":0,"seq":9,"path":"derp 1","result":"derp"})" "\n";
  CollectNodeLog(s, Directory(), Paths(s), "a", {{out, std::nullopt}}, r);
  FinishObservations(s, r);
  ASSERT_EQ(r.probes.size(), 4u);  // the one at stop_time does not count
  EXPECT_EQ(r.probes[0].src, "a");
  EXPECT_EQ(r.probes[0].dst, "c");
  EXPECT_EQ(r.probes[0].path, scenario::PathKind::kDerp);
  EXPECT_EQ(r.probes[0].Rtt(), Duration::Millis(80));  // the first echo counts
  EXPECT_EQ(r.probes[1].path, scenario::PathKind::kDirect);
  EXPECT_EQ(r.probes[1].Rtt(), Duration::Micros(1250));
  EXPECT_EQ(r.probes[2].path, scenario::PathKind::kNone);
  EXPECT_FALSE(r.probes[2].echoed_at);
  EXPECT_EQ(r.probes[3].path, scenario::PathKind::kDerp);
  EXPECT_THAT(r.notes, ::testing::Contains(::testing::HasSubstr("node a: 1 output lines were not")));
}

// The disco log from the real lab: a node's events become punchlab-node's
// "disco" lines (results::DiscoStepJsonLine, what `node --disco-log` prints)
// and the runner reads them back into the same steps the simulation records
// (results::DiscoStepOf), with the peer by its scenario name, merged in time
// order across nodes.
TEST(NodeLog, DiscoLinesBecomeTheDiscoLogStepForStep) {
  const scenario::Scenario s = LoadOk(kYaml);
  const NodePublicKey a = *NodePublicKey::Parse(kA);
  const NodePublicKey c = *NodePublicKey::Parse(kC);
  node::DiscoSent ping;
  ping.peer = c;
  ping.type = disco::MessageType::kPing;
  ping.via = node::Path::Direct(*Endpoint::Parse("203.0.113.6:41641"));
  ping.txid = disco::TxId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255};
  ping.why = "discovery";
  node::DiscoReceived cmm;
  cmm.peer = c;
  cmm.type = disco::MessageType::kCallMeMaybe;
  cmm.via = node::Path::Derp(1);
  cmm.why = "their endpoints [203.0.113.6:41641]";
  node::PathChanged path{c, node::Path::Derp(1), node::Path::Direct(*Endpoint::Parse("203.0.113.6:41641")),
                         node::PathChangeReason::kPong, "pong from 203.0.113.6:41641", std::nullopt};
  node::DiscoReceived seen;  // on c's side: a's ping, after a's NAT
  seen.peer = a;
  seen.type = disco::MessageType::kPing;
  seen.via = node::Path::Direct(*Endpoint::Parse("198.51.100.9:1024"));
  seen.txid = ping.txid;
  seen.why = "answered";

  const auto line = [](const node::EventBody& e, double at_ms) {
    return results::DiscoStepJsonLine(*results::DiscoStepOf(e), at_ms) + "\n";
  };
  results::Results r;
  CollectNodeLog(s, Directory(), Paths(s), "a",
                 {{line(ping, 100) + line(cmm, 150.5) + line(path, 300), std::nullopt}}, r);
  CollectNodeLog(s, Directory(), Paths(s), "c", {{line(seen, 120), std::nullopt}}, r);
  FinishObservations(s, r);
  ASSERT_EQ(r.disco_log.size(), 4u);
  std::vector<std::string> rows;
  for (const results::DiscoStep& d : r.disco_log) {
    rows.push_back(d.at.ToString() + " " + d.node + ">" + d.peer + " " + results::ToString(d.what) +
                   " via=" + d.via + " ep=" + d.endpoint + " txid=" + d.txid + " (" + d.reason + ")");
  }
  EXPECT_THAT(rows, ElementsAre(
      "100ms a>c ping-sent via=udp ep=203.0.113.6:41641 txid=0102030405060708090a0bff (discovery)",
      "120ms c>a ping-received via=udp ep=198.51.100.9:1024 txid=0102030405060708090a0bff (answered)",
      "150500us a>c call-me-maybe-received via=derp 1 ep= txid= (their endpoints [203.0.113.6:41641])",
      "300ms a>c path via= ep=direct 203.0.113.6:41641 txid= (pong: pong from 203.0.113.6:41641)"));
  EXPECT_TRUE(r.notes.empty());

  // A step naming a peer outside the scenario, or no known kind, is counted.
  results::Results bad;
  CollectNodeLog(s, Directory(), Paths(s), "a",
                 {{R"({"event":"disco","at_ms":1,"peer":"nodekey:)" + std::string(64, 'f') +
                       R"(","what":"ping-sent","via":"udp","endpoint":"","txid":"","reason":""})"
                       "\n"
                       R"({"event":"disco","at_ms":1,"peer":")" + kC +
                       R"(","what":"pinged","via":"udp","endpoint":"","txid":"","reason":""})" "\n",
                   std::nullopt}},
                 bad);
  EXPECT_TRUE(bad.disco_log.empty());
  EXPECT_EQ(bad.notes.size(), 2u);
}

// The node's own port-mapping steps (probe, grant, renewal, loss, release,
// failure) have no peer; both runners record them with peer "".
TEST(NodeLog, PortMappingStepsAreTheNodesOwn) {
  const scenario::Scenario s = LoadOk(kYaml);
  portmap::Mapping m;
  m.protocol = portmap::MappingProtocol::kUpnp;
  m.internal = *Endpoint::Parse("10.1.0.2:41641");
  m.external = *Endpoint::Parse("11.0.0.2:40000");
  m.renew_after = Timestamp::FromNanos(3600500000000);
  m.good_until = Timestamp::FromNanos(7200500000000);
  const auto line = [](const node::EventBody& e, double at_ms) {
    return results::DiscoStepJsonLine(*results::DiscoStepOf(e), at_ms) + "\n";
  };
  results::Results r;
  CollectNodeLog(s, Directory(), Paths(s), "a",
                 {{line(node::PortMappingProbed{false, false, true}, 250) +
                       line(node::PortMappingCreated{m, false}, 500) +
                       line(node::PortMappingCreated{m, true}, 3600500) +
                       line(node::PortMappingLost{m, portmap::LossReason::kReleased}, 9000000) +
                       line(node::PortMappingFailed{portmap::MappingProtocol::kPmp, "timeout"}, 9000001),
                   std::nullopt}},
                 r);
  std::vector<std::string> rows;
  for (const results::DiscoStep& d : r.disco_log) {
    rows.push_back(d.node + ">" + d.peer + " " + results::ToString(d.what) + " via=" + d.via +
                   " ep=" + d.endpoint + " (" + d.reason + ")");
  }
  EXPECT_THAT(rows, ElementsAre(
      "a> portmap via= ep= (probe: upnp)",
      "a> portmap via=upnp ep=11.0.0.2:40000 (granted: good until 7200.500s, renew after 3600.500s)",
      "a> portmap via=upnp ep=11.0.0.2:40000 (renewed: good until 7200.500s, renew after 3600.500s)",
      "a> portmap via=upnp ep=11.0.0.2:40000 (released)",
      "a> portmap via=pmp ep= (failed: timeout)"));
  EXPECT_TRUE(r.notes.empty());
}

TEST(NodeLog, GarbageIsCountedInANoteNotFatal) {
  const scenario::Scenario s = LoadOk(kYaml);
  results::Results r;
  const std::string out = "not json\n[1,2]\n{\"event\":\"peer_added\"}\n"
      R"({"event":"peer_added","at_ms":1,"peer":"nodekey:)" + std::string(64, 'f') + R"(","path":"derp 1"})" "\n"
      R"({"event":"probe_sent","at_ms":1,"flow":1,"seq":0,"path":"derp 1"})" "\n"
      R"({"event":"path_changed","at_ms":"soon","peer":")" + kC + R"(","to":"derp 1"})" "\n";
  CollectNodeLog(s, Directory(), Paths(s), "a", {{out, std::nullopt}}, r);
  EXPECT_TRUE(r.timeline.empty());
  EXPECT_TRUE(r.probes.empty());
  EXPECT_THAT(r.notes, ElementsAre(HasSubstr("node a: 4 output lines were not JSON objects"),
                                   HasSubstr("node a: 2 lines named a peer or flow that is not")));
}

TEST(NodeLog, LocalNeedsTheSameLanAndThePeersOwnAddress) {
  const scenario::Scenario s = LoadOk(kYaml);
  const scenario::PathClassifier d = Paths(s);
  EXPECT_EQ(ClassifyPath(d, "a", "b", "direct 10.1.0.3:41641"), scenario::PathKind::kLocal);
  EXPECT_EQ(ClassifyPath(d, "a", "b", "direct 203.0.113.5:41641"), scenario::PathKind::kDirect);
  // c is public: its own address is not a LAN both share.
  EXPECT_EQ(ClassifyPath(d, "a", "c", "direct 203.0.113.6:41641"), scenario::PathKind::kDirect);
  EXPECT_EQ(ClassifyPath(d, "a", "c", "derp 3"), scenario::PathKind::kDerp);
  EXPECT_EQ(ClassifyPath(d, "a", "c", "none"), scenario::PathKind::kNone);
}

TEST(NodeLog, LocalNeedsThePeersOwnPortToo) {
  // This reader used to compare the address alone and called a path to b's
  // address on another port local; the ns-3 runner never did.
  const scenario::Scenario s = LoadOk(kYaml);
  const scenario::PathClassifier d = Paths(s);
  EXPECT_EQ(ClassifyPath(d, "a", "b", "direct 10.1.0.3:50000"), scenario::PathKind::kDirect);
  results::Results r;
  const std::string out =
      R"({"event":"path_changed","at_ms":300,"peer":")" + kB + R"(","to":"direct 10.1.0.3:50000","reason":"pong"})" "\n"
      R"({"event":"path_changed","at_ms":400,"peer":")" + kB + R"(","to":"direct 10.1.0.3:41641","reason":"better-path"})" "\n";
  CollectNodeLog(s, Directory(), d, "a", {{out, std::nullopt}}, r);
  FinishObservations(s, r);
  EXPECT_EQ(Timeline(r), "300ms a>b direct (pong)\n400ms a>b local (better-path)\n");
}

TEST(NodeLog, PathTextIsNodePathToString) {
  for (const node::Path& p : {node::Path::None(), node::Path::Derp(7),
                              node::Path::Direct(*Endpoint::Parse("10.1.0.3:41641")),
                              node::Path::Direct(*Endpoint::Parse("[2001:db8::1]:5"))}) {
    EXPECT_EQ(ParsePath(p.ToString()), p) << p.ToString();
  }
  for (const char* bad : {"", "direct", "direct 10.1.0.3", "derp", "derp x", "derp 1 2", "relay 1"}) {
    EXPECT_FALSE(ParsePath(bad)) << bad;
  }
  const scenario::Scenario s = LoadOk(kYaml);
  EXPECT_EQ(ClassifyPath(Paths(s), "a", "b", "derp x"), scenario::PathKind::kNone);
  EXPECT_EQ(ClassifyPath(Paths(s), "a", "nobody", "direct 10.1.0.3:41641"),
            scenario::PathKind::kNone);
}

}  // namespace
}  // namespace punchlab::runreal
