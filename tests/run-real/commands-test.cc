// The lab processes' command lines.
#include "run-real/commands.h"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run-real-test-util.h"
#include "scenario/node-timers.h"

namespace punchlab::runreal {
namespace {

using ::testing::ElementsAre;
using testing::LoadOk;

const char* kYaml = R"(
stop_time: 60s
derp: {regions: [{id: 7, name: fra}, {id: 9, name: nyc}]}
control: {domains: [corp, Home_Net]}
nats: {home: {}}
nodes:
  a: {behind: home, domain: Home_Net}
  b: {domain: Home_Net}
traffic:
  - {from: a, to: b, start: 5s, every: 100ms, size: 64B, idle: [{at: 20s, for: 10s}]}
  - {from: b, to: a, every: 1s}
  - {from: a, to: b, start: 30s, stop: 40s, every: 200ms, size: 8B}
)";

std::vector<NodeIdentity> Identities() {
  return {{"privkey:" + std::string(64, '1'), "nodekey:" + std::string(64, 'a'), "pltoken1.a"},
          {"privkey:" + std::string(64, '2'), "nodekey:" + std::string(64, 'b'), "pltoken1.b"}};
}

TEST(Commands, DerpServerListensOnItsAddressWithStun) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  EXPECT_THAT(DerpServerArgv("/bin/node", plan.derp[1], "privkey:x", s.stop_time,
                             {"/tmp/d/c.crt", "/tmp/d/c.key", "sha256-raw:ab", ""}),
              ElementsAre("/bin/node", "derp-server", "--listen", "203.0.113.3:3340", "--stun",
                          "203.0.113.3:3478", "--private-key", "privkey:x", "--duration",
                          "90s", "--tls-cert", "/tmp/d/c.crt", "--tls-key", "/tmp/d/c.key"));
  // A captured run's server logs its TLS secrets beside the captures.
  EXPECT_THAT(DerpServerArgv("/bin/node", plan.derp[1], "privkey:x", s.stop_time,
                             {"/tmp/d/c.crt", "/tmp/d/c.key", "sha256-raw:ab", "/out/pcap/k.log"}),
              ElementsAre("/bin/node", "derp-server", "--listen", "203.0.113.3:3340", "--stun",
                          "203.0.113.3:3478", "--private-key", "privkey:x", "--duration",
                          "90s", "--tls-cert", "/tmp/d/c.crt", "--tls-key", "/tmp/d/c.key",
                          "--tls-keylog", "/out/pcap/k.log"));
}

TEST(Commands, ControlServerHoldsEveryDomainAndRegion) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  EXPECT_THAT(ControlServerArgv("/bin/node", plan, s, "idpkey:x", "privkey:y",
                                {"nodekey:7", "nodekey:9"},
                                {{"", "", "sha256-raw:07", ""}, {"", "", "sha256-raw:09", ""}}),
              ElementsAre("/bin/node", "control-server", "--listen", "203.0.113.4:8080",
                          "--idp-key", "idpkey:x", "--domains", "corp,home-net",
                          "--private-key", "privkey:y", "--duration", "90s", "--derp",
                          "7:fra:203.0.113.2:3340:3478@nodekey:7,cert=sha256-raw:07", "--derp",
                          "9:nyc:203.0.113.3:3340:3478@nodekey:9,cert=sha256-raw:09"));
}

// A captured run's control server appends what it seals to the control key
// log beside the captures (results/key-log.h).
TEST(Commands, ControlServerLogsItsSealedFramesWhenCaptured) {
  const scenario::Scenario s = LoadOk(kYaml);
  KeyLogFiles keys;
  keys.tls = "/out/pcap/tls-keys.log";
  keys.control = "/out/pcap/control-keys.log";
  keys.disco = "/out/pcap/disco-keys.log";
  const std::vector<std::string> argv =
      ControlServerArgv("/bin/node", PlanLab(s), s, "idpkey:x", "privkey:y",
                        {"nodekey:7", "nodekey:9"},
                        {{"", "", "sha256-raw:07", ""}, {"", "", "sha256-raw:09", ""}}, keys);
  EXPECT_THAT(std::vector<std::string>(argv.end() - 2, argv.end()),
              ElementsAre("--control-keylog", "/out/pcap/control-keys.log"));
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "/out/pcap/tls-keys.log"), 0);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "/out/pcap/disco-keys.log"), 0);
}

// control.batch_delay reaches the real server as the ns-3 one (its
// BatchDelay attribute): the same ControlServerConfig::batch_delay.
TEST(Commands, ControlServerBatchesAsTheScenarioSays) {
  std::string yaml = kYaml;
  const std::string domains = "control: {domains: [corp, Home_Net]}";
  yaml.replace(yaml.find(domains), domains.size(),
               "control: {domains: [corp, Home_Net], batch_delay: 800ms}");
  const scenario::Scenario s = LoadOk(yaml);
  EXPECT_EQ(s.control.batch_delay, Duration::Millis(800));
  const std::vector<std::string> argv =
      ControlServerArgv("/bin/node", PlanLab(s), s, "idpkey:x", "privkey:y",
                        {"nodekey:7", "nodekey:9"},
                        {{"", "", "sha256-raw:07", ""}, {"", "", "sha256-raw:09", ""}});
  const auto flag = std::find(argv.begin(), argv.end(), "--batch-delay");
  ASSERT_NE(flag, argv.end());
  ASSERT_NE(flag + 1, argv.end());
  EXPECT_EQ(*(flag + 1), "800ms");
}

TEST(Commands, NodeTokensNameTheNodeAndItsControlDomain) {
  const scenario::Scenario s = LoadOk(kYaml);
  const NodePublicKey key = *NodePublicKey::Parse("nodekey:" + std::string(64, 'b'));
  const Timestamp expires = Timestamp::FromNanos(123);
  const control::IdentityClaims claims = NodeClaims(s, 1, key, expires);
  EXPECT_EQ(claims.user, "b");
  EXPECT_EQ(claims.domain, "home-net");  // the --domains name of Home_Net
  EXPECT_EQ(claims.node_key, key);
  EXPECT_EQ(claims.expires, expires);
}

TEST(Commands, PathsAreClassifiedAtTheNodesListenEndpoints) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const scenario::PathClassifier paths = LabPathClassifier(s, plan);
  ASSERT_EQ(paths.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(paths.Own(i), NodeEndpoint(plan.nodes[i]));
    EXPECT_EQ(paths.Own(i).ToString(), plan.nodes[i].uplink.address + ":41641");
  }
}

TEST(Commands, FlowsAreTheSendersTrafficEntriesByIndex) {
  const scenario::Scenario s = LoadOk(kYaml);
  const std::vector<cli::FlowSpec> flows = FlowsFrom(s, "a", Identities(), s.seed);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(cli::FormatFlowSpec(flows[0]),
            "id=0,to=nodekey:" + std::string(64, 'b') +
                ",start=5s,stop=60s,every=100ms,size=64,idle=20s+10s");
  EXPECT_EQ(cli::FormatFlowSpec(flows[1]),
            "id=2,to=nodekey:" + std::string(64, 'b') + ",start=30s,stop=40s,every=200ms,size=8");
  ASSERT_EQ(FlowsFrom(s, "b", Identities(), s.seed).size(), 1u);
  EXPECT_EQ(FlowsFrom(s, "b", Identities(), s.seed)[0].id, 1u);
}

TEST(Commands, NodeGetsItsKeyTokenAddressEpochAndFlows) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const std::vector<NodeIdentity> ids = Identities();
  const auto argv = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address,
                             "nodekey:c", ids[1], FlowsFrom(s, "b", ids, s.seed), 1234567890, s.stop_time);
  EXPECT_THAT(argv, ElementsAre("/bin/node", "node", "--control", "203.0.113.4:8080",
                                "--control-key", "nodekey:c", "--token", "pltoken1.b",
                                "--private-key", "privkey:" + std::string(64, '2'), "--listen",
                                "203.0.113.6:41641", "--epoch-unix-ns", "1234567890",
                                "--duration", "90s", "--json", "--flow",
                                // b's flow starts at 0s, shifted by its turn: with
                                // seed 0 it is second of two, 500 ms (1 s / 2).
                                "id=1,to=nodekey:" + std::string(64, 'a') +
                                    ",start=500ms,stop=60s,every=1s,size=200,turn=500ms"));
}

// The node's flows wait for it to be up until --up-deadline; a restarted
// process is told the anchor its node's earlier run started its flows from
// (--up-at), read from that run's output, and keeps the schedule it gave.
TEST(Commands, NodeGetsItsUpDeadlineAndAnEarlierUp) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const std::vector<NodeIdentity> ids = Identities();
  const auto argv = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address, "nodekey:c",
                             ids[1], {}, 1, s.stop_time, {}, false, false,
                             node::DataPlane::kSealedFrame, Duration::Seconds(20), false, {},
                             Duration::Seconds(5), Duration::Millis(543));
  const auto deadline = std::find(argv.begin(), argv.end(), "--up-deadline");
  ASSERT_NE(deadline, argv.end());
  EXPECT_EQ(*(deadline + 1), "5s");
  const auto up = std::find(argv.begin(), argv.end(), "--up-at");
  ASSERT_NE(up, argv.end());
  EXPECT_EQ(*(up + 1), "543ms");
  // The anchor punchlab-node printed, exact to the nanosecond: its first
  // flows_anchor line (a run that came up after its deadline prints the
  // deadline, not its up).
  EXPECT_EQ(FlowsAnchorOf("{\"event\":\"started\",\"at_ms\":1.5}\n"
                          "{\"event\":\"up\",\"home_region\":1,\"at_ms\":7012.5}\n"
                          "{\"event\":\"flows_anchor\",\"at_ms\":5000.0,"
                          "\"at_ns\":5000000001,\"by\":\"deadline\"}\n"
                          "{\"event\":\"flows_anchor\",\"at_ms\":900,\"at_ns\":900000000}\n"),
            Duration::Nanos(5000000001));
  // An up line is no anchor; nor is a cut or malformed line.
  EXPECT_EQ(FlowsAnchorOf("{\"event\":\"started\",\"at_ms\":1.5}\n"
                          "{\"event\":\"up\",\"home_region\":1,\"at_ms\":543.25}\n"
                          "{\"event\":\"flows_anchor\",\"at_ms\":5000\n"),
            std::nullopt);
  EXPECT_EQ(FlowsAnchorOf("{\"event\":\"flows_anchor\",\"at_ns\":5.5}\n"), std::nullopt);
}

// The schedule step's instant reaches punchlab-node as --start-at, after the
// epoch: a process that comes up late still sends the probes due since then.
TEST(Commands, NodeGetsTheInstantItWasMeantToStart) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const std::vector<NodeIdentity> ids = Identities();
  const auto argv = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address, "nodekey:c",
                             ids[1], {}, 1, s.stop_time, {}, false, false,
                             node::DataPlane::kSealedFrame, Duration::Millis(1500));
  const auto at = std::find(argv.begin(), argv.end(), "--start-at");
  ASSERT_NE(at, argv.end());
  EXPECT_EQ(*(at + 1), "1500ms");
  EXPECT_EQ(*(at - 5), "--epoch-unix-ns");
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--start-gate"), 0);
  // Gated (schedule.h): it also waits for the runner's word on stdin.
  const auto gated = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address,
                              "nodekey:c", ids[1], {}, 1, s.stop_time, {}, false, false,
                              node::DataPlane::kSealedFrame, Duration::Millis(1500), true);
  EXPECT_EQ(std::count(gated.begin(), gated.end(), "--start-gate"), 1);
}

// The scenario's disco_log reaches punchlab-node as --disco-log, last.
TEST(Commands, DiscoLogBecomesTheDiscoLogFlag) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const std::vector<NodeIdentity> ids = Identities();
  const auto with = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address, "nodekey:c",
                             ids[1], {}, 1, s.stop_time, {}, true);
  EXPECT_EQ(with.back(), "--disco-log");
  const auto without = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address,
                                "nodekey:c", ids[1], {}, 1, s.stop_time, {}, false);
  EXPECT_EQ(std::count(without.begin(), without.end(), "--disco-log"), 0);
}

// A captured run's node appends the control frames it seals to the control
// key log, and with the disco log on the disco messages it sends to the
// disco key log (without it the node emits no such events: no flag).
TEST(Commands, NodeLogsWhatItSealsWhenCaptured) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const std::vector<NodeIdentity> ids = Identities();
  KeyLogFiles keys;
  keys.tls = "/out/pcap/tls-keys.log";
  keys.control = "/out/pcap/control-keys.log";
  keys.disco = "/out/pcap/disco-keys.log";
  auto argv_with = [&](bool disco_log, const KeyLogFiles& files) {
    return NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address, "nodekey:c", ids[1],
                    {}, 1, s.stop_time, {}, disco_log, false, node::DataPlane::kSealedFrame,
                    std::nullopt, false, files);
  };
  const auto with = argv_with(true, keys);
  EXPECT_THAT(std::vector<std::string>(with.end() - 5, with.end()),
              ElementsAre("--disco-log", "--control-keylog", "/out/pcap/control-keys.log",
                          "--disco-keylog", "/out/pcap/disco-keys.log"));
  EXPECT_EQ(std::count(with.begin(), with.end(), "/out/pcap/tls-keys.log"), 0);
  const auto no_disco_log = argv_with(false, keys);
  EXPECT_THAT(std::vector<std::string>(no_disco_log.end() - 2, no_disco_log.end()),
              ElementsAre("--control-keylog", "/out/pcap/control-keys.log"));
  EXPECT_EQ(std::count(no_disco_log.begin(), no_disco_log.end(), "--disco-keylog"), 0);
  const auto uncaptured = argv_with(true, {});
  EXPECT_EQ(uncaptured.back(), "--disco-log");
}

// The scenario's node timers reach punchlab-node as --timer flags, in a
// fixed order, which `node` applies with the same function the simulation uses.
TEST(Commands, NodeTimersBecomeTimerFlags) {
  const scenario::Scenario s = LoadOk(kYaml);
  const LabPlan plan = PlanLab(s);
  const std::vector<NodeIdentity> ids = Identities();
  scenario::NodeTimers timers;
  timers.ping_timeout = Duration::Seconds(2);
  timers.heartbeat = Duration::Millis(1500);
  const auto argv = NodeArgv("/bin/node", plan.nodes[1], plan.control.uplink.address,
                             "nodekey:c", ids[1], {}, 1, s.stop_time, timers);
  ASSERT_GE(argv.size(), 4u);
  EXPECT_THAT(std::vector<std::string>(argv.end() - 4, argv.end()),
              ElementsAre("--timer", "heartbeat=1500ms", "--timer", "ping_timeout=2s"));

  scenario::NodeTimers back;
  EXPECT_FALSE(scenario::SetNodeTimer(back, "heartbeat=1500ms"));
  EXPECT_FALSE(scenario::SetNodeTimer(back, "ping_timeout=2s"));
  EXPECT_EQ(back, timers);
  EXPECT_EQ(*scenario::SetNodeTimer(back, "heartbeats=1s"),
            "'heartbeats=1s': unknown timer 'heartbeats' (timers: heartbeat, trust_window, "
            "idle_timeout, restun_interval, upgrade_interval, ping_timeout, "
            "persistent_keepalive)");
  EXPECT_EQ(*scenario::SetNodeTimer(back, "heartbeat=0s"),
            "'heartbeat=0s': expected heartbeat=DURATION longer than 0s (e.g. heartbeat=2s)");

  node::NodeConfig config;
  const Duration default_trust = config.paths.trust_duration;
  timers.restun_interval = Duration::Seconds(10);
  scenario::ApplyNodeTimers(timers, config);
  EXPECT_EQ(config.paths.heartbeat_interval, Duration::Millis(1500));
  EXPECT_EQ(config.paths.ping_timeout, Duration::Seconds(2));
  EXPECT_EQ(config.netcheck.restun_min, Duration::Seconds(10));
  EXPECT_EQ(config.netcheck.restun_max, Duration::Seconds(13));
  EXPECT_EQ(config.paths.trust_duration, default_trust);  // unset: untouched
}

}  // namespace
}  // namespace punchlab::runreal
