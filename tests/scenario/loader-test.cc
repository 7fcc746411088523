// What a valid file turns into: defaults applied, inheritance from
// `defaults`, nesting resolved into chains, quantities converted, NATs built
// through the NAT SPEC code path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "punchlab/nat/nat-config.h"
#include "scenario-test-util.h"
#include "scenario/schema.h"
#include "scenario/yaml-document.h"

namespace punchlab::scenario {
namespace {

using testing::Load;
using testing::LoadOk;

TEST(Loader, MinimalFileGetsEveryDefault) {
  const Scenario s = LoadOk("nodes: {a: {}, b: {}}\n");
  EXPECT_EQ(s.file, "t.yaml");
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.stop_time, Duration::Seconds(60));
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.internet.latency, Duration::Millis(20));
  EXPECT_EQ(s.internet.jitter, Duration::Zero());
  EXPECT_EQ(s.internet.loss, 0.0);
  EXPECT_EQ(s.internet.bandwidth_bps, 0u);
  ASSERT_EQ(s.derp_regions.size(), 1u);
  EXPECT_EQ(s.derp_regions[0].id, 1);
  EXPECT_EQ(s.derp_regions[0].name, "default");
  EXPECT_EQ(s.derp_regions[0].latency, Duration::Millis(10));
  EXPECT_EQ(s.control.latency, Duration::Millis(10));
  EXPECT_EQ(s.control.domains, std::vector<std::string>{"default"});
  ASSERT_EQ(s.nodes.size(), 2u);
  const NodeDef& a = s.nodes[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.where.line, 1);
  EXPECT_EQ(a.where.column, 9);
  EXPECT_EQ(a.behind, "");
  EXPECT_TRUE(a.chain.empty());
  EXPECT_EQ(a.link.latency, Duration::Millis(1));
  EXPECT_EQ(a.domain, "default");
  EXPECT_EQ(a.start, Duration::Zero());
  EXPECT_TRUE(s.traffic.empty());
  EXPECT_TRUE(s.events.empty());
  EXPECT_TRUE(s.expectations.empty());
}

// The node's protocol timers: per node, inherited from defaults key by key,
// unset ones left to the core's defaults; zero is refused with its position.
TEST(Loader, NodeTimersPerNodeAndFromDefaults) {
  const Scenario s = LoadOk(R"(
defaults: {heartbeat: 2s, trust_window: 5s}
nodes:
  a: {heartbeat: 1s, restun_interval: 10s}
  b: {}
  c: {idle_timeout: 2m, upgrade_interval: 30s, ping_timeout: 1500ms}
)");
  const NodeTimers& a = s.FindNode("a")->timers;
  EXPECT_EQ(a.heartbeat, Duration::Seconds(1));
  EXPECT_EQ(a.trust_window, Duration::Seconds(5));
  EXPECT_EQ(a.restun_interval, Duration::Seconds(10));
  EXPECT_FALSE(a.idle_timeout);
  const NodeTimers& b = s.FindNode("b")->timers;
  EXPECT_EQ(b.heartbeat, Duration::Seconds(2));
  EXPECT_FALSE(b.restun_interval);
  const NodeTimers& c = s.FindNode("c")->timers;
  EXPECT_EQ(c.idle_timeout, Duration::Seconds(120));
  EXPECT_EQ(c.upgrade_interval, Duration::Seconds(30));
  EXPECT_EQ(c.ping_timeout, Duration::Millis(1500));
  const std::vector<std::string> errors = testing::Errors("nodes: {a: {heartbeat: 0s}}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "t.yaml:1:24: heartbeat in nodes.a: must be longer than 0s");
}

TEST(Loader, NameDefaultsToTheFileStem) {
  auto r = LoadScenarioText("nodes: {a: {}}\n", "scenarios/home-vs-office.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.scenario->name, "home-vs-office");
  EXPECT_EQ(LoadOk("name: x\nnodes: {a: {}}\n").name, "x");
}

TEST(Loader, TopLevelValues) {
  const Scenario s = LoadOk(R"(
name: n
description: d
stop_time: 2m
seed: 18446744073709551615
internet: {latency: 35ms, jitter: 2ms, loss: 0.5%, bandwidth: 1Gbit}
derp:
  regions:
    - {id: 7, name: fra, latency: 15ms}
    - {id: 2, name: nyc}
control: {latency: 40ms, domains: [home, corp]}
nodes: {a: {domain: corp}}
)");
  EXPECT_EQ(s.stop_time, Duration::Seconds(120));
  EXPECT_EQ(s.seed, UINT64_MAX);
  EXPECT_EQ(s.internet.latency, Duration::Millis(35));
  EXPECT_EQ(s.internet.jitter, Duration::Millis(2));
  EXPECT_DOUBLE_EQ(s.internet.loss, 0.005);
  EXPECT_EQ(s.internet.bandwidth_bps, 1000000000u);
  ASSERT_EQ(s.derp_regions.size(), 2u);
  EXPECT_EQ(s.derp_regions[0].id, 7);
  EXPECT_EQ(s.derp_regions[0].latency, Duration::Millis(15));
  EXPECT_EQ(s.derp_regions[1].latency, Duration::Millis(10));
  EXPECT_EQ(s.FindDerpRegion("nyc")->id, 2);
  EXPECT_EQ(s.control.latency, Duration::Millis(40));
  EXPECT_EQ(s.control.domains, (std::vector<std::string>{"home", "corp"}));
  EXPECT_EQ(s.nodes[0].domain, "corp");
}

TEST(Loader, NoDerpRegions) {
  EXPECT_TRUE(LoadOk("derp: {regions: []}\nnodes: {a: {}}\n").derp_regions.empty());
}

TEST(Loader, NodesInheritDefaultsKeyByKey) {
  const Scenario s = LoadOk(R"(
control: {domains: [corp, home]}
nats: {office: {}}
defaults:
  behind: office
  domain: corp
  start: 2s
  link: {latency: 5ms, loss: 1%, bandwidth: 100Mbit}
nodes:
  a: {}
  b: {behind: internet, domain: home, start: 0s, link: {latency: 1ms, jitter: 1ms}}
)");
  const NodeDef& a = *s.FindNode("a");
  EXPECT_EQ(a.behind, "office");
  EXPECT_EQ(a.domain, "corp");
  EXPECT_EQ(a.start, Duration::Seconds(2));
  EXPECT_EQ(a.link.latency, Duration::Millis(5));
  EXPECT_DOUBLE_EQ(a.link.loss, 0.01);
  EXPECT_EQ(a.link.bandwidth_bps, 100000000u);
  ASSERT_EQ(a.chain.size(), 1u);
  EXPECT_EQ(a.chain[0].name, "office");
  const NodeDef& b = *s.FindNode("b");
  EXPECT_EQ(b.behind, "");
  EXPECT_TRUE(b.chain.empty());
  EXPECT_EQ(b.domain, "home");
  EXPECT_EQ(b.start, Duration::Zero());
  EXPECT_EQ(b.link.latency, Duration::Millis(1));  // its own
  EXPECT_EQ(b.link.jitter, Duration::Millis(1));   // its own
  EXPECT_DOUBLE_EQ(b.link.loss, 0.01);             // from defaults.link
  EXPECT_EQ(b.link.bandwidth_bps, 100000000u);     // from defaults.link
}

TEST(Loader, NestingResolvesIntoChains) {
  const Scenario s = LoadOk(R"(
firewalls:
  corp-fw: {block_udp: true}
nats:
  home: {behind: carrier}
  carrier: {preset: cgnat, behind: corp-fw}
  other: {}
nodes:
  a: {behind: home}
  b: {behind: carrier}
  c: {behind: corp-fw}
  d: {behind: other}
  e: {behind: home}
)");
  auto names = [](const std::vector<Hop>& chain) {
    std::vector<std::string> out;
    for (const Hop& h : chain) out.push_back(h.name);
    return out;
  };
  EXPECT_EQ(names(s.FindNode("a")->chain),
            (std::vector<std::string>{"home", "carrier", "corp-fw"}));
  EXPECT_EQ(s.FindNode("a")->chain[0].kind, Hop::Kind::kNat);
  EXPECT_EQ(s.FindNode("a")->chain[2].kind, Hop::Kind::kFirewall);
  EXPECT_EQ(names(s.FindNode("b")->chain), (std::vector<std::string>{"carrier", "corp-fw"}));
  EXPECT_EQ(names(s.FindNode("c")->chain), std::vector<std::string>{"corp-fw"});
  EXPECT_EQ(names(s.FindNode("d")->chain), std::vector<std::string>{"other"});
  EXPECT_EQ(names(s.FindNode("e")->chain), names(s.FindNode("a")->chain));
  EXPECT_EQ(names(s.FindNat("home")->chain), (std::vector<std::string>{"carrier", "corp-fw"}));
  EXPECT_EQ(s.FindNat("home")->behind, "carrier");
  EXPECT_TRUE(s.FindFirewall("corp-fw")->chain.empty());
  EXPECT_EQ(s.FindFirewall("corp-fw")->behind, "");
}

TEST(Loader, NatsAreBuiltLikeANatSpec) {
  const Scenario s = LoadOk(R"(
nats:
  plain: {}
  sym: {preset: symmetric, hairpin: true, udp_timeout: 30s}
  knobs:
    mapping: address-dependent
    filtering: endpoint-independent
    ports: sequential
    port_range: 20000-20999
    hairpin: off
    pooling: arbitrary
    refresh: both
    udp_timeout: 45s
    tcp_established_timeout: 2h
    tcp_transitory_timeout: 4m
    external_ips: 3
    link: {latency: 7ms}
nodes: {a: {}}
)");
  EXPECT_EQ(s.FindNat("plain")->preset, "port-restricted-cone");
  EXPECT_EQ(s.FindNat("plain")->config, nat::FindNatPreset("port-restricted-cone")->config);
  EXPECT_EQ(s.FindNat("plain")->external_ips, 1u);
  EXPECT_EQ(s.FindNat("plain")->link.latency, Duration::Millis(1));
  EXPECT_EQ(s.FindNat("sym")->config,
            *nat::ParseNatSpec("symmetric,hairpin=on,udp_timeout=30s").config);
  const NatDef& k = *s.FindNat("knobs");
  EXPECT_EQ(k.config,
            *nat::ParseNatSpec("mapping=address-dependent,filtering=endpoint-independent,"
                               "ports=sequential,port_range=20000-20999,hairpin=off,"
                               "pooling=arbitrary,refresh=both,udp_timeout=45s,"
                               "tcp_established_timeout=2h,tcp_transitory_timeout=4m")
                 .config);
  EXPECT_EQ(k.external_ips, 3u);
  EXPECT_EQ(k.link.latency, Duration::Millis(7));
}

TEST(Loader, Firewalls) {
  const Scenario s = LoadOk(R"(
firewalls:
  plain: {}
  corp:
    block_udp: true
    udp_timeout: 60s
    inbound_allow: [udp:41641, tcp:8000-8100]
    outbound_allow: [tcp]
nodes: {a: {behind: corp}}
)");
  const nat::FirewallConfig defaults;
  const FirewallDef& plain = *s.FindFirewall("plain");
  EXPECT_EQ(plain.config.block_udp, defaults.block_udp);
  EXPECT_EQ(plain.config.timeouts, defaults.timeouts);
  const FirewallDef& corp = *s.FindFirewall("corp");
  EXPECT_TRUE(corp.config.block_udp);
  EXPECT_EQ(corp.config.timeouts.udp, Duration::Seconds(60));
  ASSERT_EQ(corp.config.inbound_allow.size(), 2u);
  EXPECT_EQ(corp.config.inbound_allow[0].protocol, nat::Protocol::kUdp);
  EXPECT_EQ(corp.config.inbound_allow[0].first, 41641);
  EXPECT_EQ(corp.config.inbound_allow[0].last, 41641);
  EXPECT_EQ(corp.config.inbound_allow[1].protocol, nat::Protocol::kTcp);
  EXPECT_EQ(corp.config.inbound_allow[1].first, 8000);
  EXPECT_EQ(corp.config.inbound_allow[1].last, 8100);
  ASSERT_EQ(corp.config.outbound_allow.size(), 1u);
  EXPECT_EQ(corp.config.outbound_allow[0].first, 0);
  EXPECT_EQ(corp.config.outbound_allow[0].last, 65535);
}

TEST(Loader, Traffic) {
  const Scenario s = LoadOk(R"(
stop_time: 5m
nodes: {a: {start: 1s}, b: {start: 3s}}
traffic:
  - {from: a, to: b}
  - from: b
    to: a
    start: 10s
    stop: 4m
    rate: 16kbit
    size: 200B
    idle: [{at: 2m, for: 30s}, {at: 20s, for: 10s}]
  - {from: a, to: b, every: 20ms, size: 1.5KiB}
)");
  ASSERT_EQ(s.traffic.size(), 3u);
  const Flow& f0 = s.traffic[0];
  EXPECT_EQ(f0.from, "a");
  EXPECT_EQ(f0.to, "b");
  EXPECT_EQ(f0.start, Duration::Seconds(3));  // when both have started
  EXPECT_EQ(f0.stop, Duration::Seconds(300));
  EXPECT_EQ(f0.every, Duration::Seconds(1));
  EXPECT_EQ(f0.size_bytes, 200u);
  EXPECT_FALSE(f0.rate_bps);
  const Flow& f1 = s.traffic[1];
  EXPECT_EQ(f1.start, Duration::Seconds(10));
  EXPECT_EQ(f1.stop, Duration::Seconds(240));
  EXPECT_EQ(f1.rate_bps, 16000u);
  EXPECT_EQ(f1.every, Duration::Millis(100));  // 1600 bits at 16 kbit/s
  ASSERT_EQ(f1.idle.size(), 2u);
  EXPECT_EQ(f1.idle[0].from, Duration::Seconds(20));  // sorted
  EXPECT_EQ(f1.idle[0].until, Duration::Seconds(30));
  EXPECT_EQ(f1.idle[1].from, Duration::Seconds(120));
  EXPECT_EQ(f1.idle[1].until, Duration::Seconds(150));
  EXPECT_EQ(s.traffic[2].every, Duration::Millis(20));
  EXPECT_EQ(s.traffic[2].size_bytes, 1536u);
  EXPECT_EQ(s.traffic[2].where.line, 13);
}

TEST(Loader, Events) {
  const Scenario s = LoadOk(R"(
derp: {regions: [{id: 1, name: fra}]}
nats: {home: {}}
firewalls: {fw: {}}
nodes: {a: {behind: home}, b: {behind: fw}}
events:
  - {at: 10s, nat: home, action: reboot}
  - {at: 11s, nat: home, action: change-address}
  - {at: 12s, nat: home, mapping: address-and-port-dependent}
  - {at: 13s, firewall: fw, block_udp: true, for: 5s}
  - {at: 14s, node: a, action: restart}
  - {at: 15s, node: b, action: link-down, for: 2s}
  - {at: 16s, node: b, action: link-up}
  - {at: 17s, derp_region: fra, latency: 300ms, for: 1s}
  - {at: 18s, derp_region: fra, action: down}
  - {at: 19s, node: a, latency: 50ms, jitter: 5ms, loss: 2%, bandwidth: 1Mbit}
  - {at: 20s, nat: home, bandwidth: unlimited}
)");
  ASSERT_EQ(s.events.size(), 11u);
  EXPECT_EQ(s.events[0].at, Duration::Seconds(10));
  EXPECT_EQ(s.events[0].target_kind, TargetKind::kNat);
  EXPECT_EQ(s.events[0].target, "home");
  EXPECT_EQ(s.events[0].action, Action::kReboot);
  EXPECT_FALSE(s.events[0].duration);
  EXPECT_EQ(s.events[1].action, Action::kChangeAddress);
  EXPECT_EQ(s.events[2].action, Action::kSet);
  EXPECT_EQ(s.events[2].settings.mapping, nat::Dependence::kAddressAndPortDependent);
  EXPECT_FALSE(s.events[2].settings.latency);
  EXPECT_EQ(s.events[3].target_kind, TargetKind::kFirewall);
  EXPECT_EQ(s.events[3].settings.block_udp, true);
  EXPECT_EQ(s.events[3].duration, Duration::Seconds(5));
  EXPECT_EQ(s.events[4].target_kind, TargetKind::kNode);
  EXPECT_EQ(s.events[4].action, Action::kRestart);
  EXPECT_EQ(s.events[5].action, Action::kLinkDown);
  EXPECT_EQ(s.events[5].duration, Duration::Seconds(2));
  EXPECT_EQ(s.events[6].action, Action::kLinkUp);
  EXPECT_EQ(s.events[7].target_kind, TargetKind::kDerpRegion);
  EXPECT_EQ(s.events[7].settings.latency, Duration::Millis(300));
  EXPECT_EQ(s.events[7].duration, Duration::Seconds(1));
  EXPECT_EQ(s.events[8].action, Action::kDown);
  const Settings& set = s.events[9].settings;
  EXPECT_EQ(set.latency, Duration::Millis(50));
  EXPECT_EQ(set.jitter, Duration::Millis(5));
  EXPECT_DOUBLE_EQ(*set.loss, 0.02);
  EXPECT_EQ(set.bandwidth_bps, 1000000u);
  EXPECT_FALSE(set.mapping);
  EXPECT_FALSE(set.block_udp);
  EXPECT_EQ(s.events[10].settings.bandwidth_bps, 0u);  // unlimited
}

TEST(Loader, Expectations) {
  const Scenario s = LoadOk(R"(
stop_time: 90s
nats: {home: {}}
nodes: {a: {behind: home}, b: {behind: home, start: 5s}, c: {}}
traffic: [{from: a, to: c}]
expect:
  - {between: [a, c], path: direct, by: 10s}
  - {between: [a, b], path: local, from: 10s, until: 20s}
  - {between: [a, c], path: derp, from: 30s}
  - {between: [c, a], time_to_direct_max: 5s}
  - {between: [a, c], time_to_direct_max: 5s, from: 40s}
  - {between: [a, c], rtt_min: 40ms, rtt_max: 100ms, over: direct}
  - {between: [c, a], loss_max: 1%, from: 20s, until: 80s}
  - {between: [a, c], loss_min: 10%, from: 30s}
)");
  ASSERT_EQ(s.expectations.size(), 8u);
  const auto& e = s.expectations;
  EXPECT_EQ(e[0].check, CheckKind::kPath);
  EXPECT_EQ(e[0].a, "a");
  EXPECT_EQ(e[0].b, "c");
  EXPECT_EQ(e[0].path, PathKind::kDirect);
  EXPECT_EQ(e[0].by, Duration::Seconds(10));
  EXPECT_EQ(e[1].path, PathKind::kLocal);
  EXPECT_FALSE(e[1].by);
  EXPECT_EQ(e[1].from, Duration::Seconds(10));
  EXPECT_EQ(e[1].until, Duration::Seconds(20));
  EXPECT_EQ(e[2].path, PathKind::kDerp);
  EXPECT_EQ(e[2].until, Duration::Seconds(90));  // stop_time
  EXPECT_EQ(e[3].check, CheckKind::kTimeToDirect);
  EXPECT_EQ(e[3].time_to_direct_max, Duration::Seconds(5));
  EXPECT_EQ(e[3].from, Duration::Zero());  // both started
  EXPECT_EQ(e[4].from, Duration::Seconds(40));
  EXPECT_EQ(e[5].check, CheckKind::kRtt);
  EXPECT_EQ(e[5].rtt_min, Duration::Millis(40));
  EXPECT_EQ(e[5].rtt_max, Duration::Millis(100));
  EXPECT_EQ(e[5].over, PathKind::kDirect);
  EXPECT_EQ(e[6].check, CheckKind::kLoss);
  EXPECT_DOUBLE_EQ(e[6].loss_max, 0.01);
  EXPECT_DOUBLE_EQ(e[6].loss_min, 0.0);  // no lower bound
  EXPECT_FALSE(e[6].over);
  EXPECT_EQ(e[6].where.line, 13);
  EXPECT_EQ(e[6].where.column, 5);
  EXPECT_EQ(e[7].check, CheckKind::kLoss);
  EXPECT_DOUBLE_EQ(e[7].loss_min, 0.1);
  EXPECT_DOUBLE_EQ(e[7].loss_max, 1.0);  // no upper bound
}

TEST(Loader, ExpectationWindowStartsWhenBothNodesRun) {
  const Scenario s = LoadOk(R"(
nodes: {a: {start: 3s}, b: {start: 7s}}
expect: [{between: [a, b], rtt_max: 1s}]
)");
  EXPECT_EQ(s.expectations[0].from, Duration::Seconds(7));
}

TEST(Loader, PathNoneBetweenDomains) {
  const Scenario s = LoadOk(R"(
control: {domains: [home, corp]}
nodes: {a: {domain: home}, b: {domain: corp}}
expect: [{between: [a, b], path: none, from: 5s}]
)");
  EXPECT_EQ(s.expectations[0].path, PathKind::kNone);
}

// A rule naming no node is for the only domain, whatever the nodes' default
// domain would be (not `default`: defaults say corp here).
TEST(Loader, AccessRuleNamingNoNodeIsForTheOnlyDomain) {
  Scenario s = LoadOk("control:\n  domains: [corp]\n  acls: [{src: ['*'], dst: ['*']}]\n"
                      "defaults: {domain: corp}\nnodes: {a: {}, b: {}}\n");
  ASSERT_EQ(s.control.acls.size(), 1u);
  EXPECT_EQ(s.control.acls[0].domain, "corp");
  EXPECT_EQ(s.control.acls[0].src, std::vector<std::string>{"*"});
  // Written, the domain is the written one.
  s = LoadOk("control:\n  domains: [default, corp]\n"
             "  acls: [{domain: corp, src: ['*'], dst: ['*']}]\n"
             "defaults: {domain: corp}\nnodes: {a: {}, b: {domain: default}}\n");
  ASSERT_EQ(s.control.acls.size(), 1u);
  EXPECT_EQ(s.control.acls[0].domain, "corp");
}

TEST(Loader, ReferenceExampleLoads) { LoadOk(std::string(SchemaExample())); }

TEST(Loader, YamlAnchorsAndQuotedValuesWork) {
  const Scenario s = LoadOk(R"(
defaults: {link: &lan {latency: "3ms"}}
nats: {home: {link: *lan}}
nodes: {a: {}}
)");
  EXPECT_EQ(s.FindNat("home")->link.latency, Duration::Millis(3));
  EXPECT_EQ(s.nodes[0].link.latency, Duration::Millis(3));
}

TEST(Loader, FilesAreReadWholeUpToTheCapAndNoFurther) {
  // A file longer than one read piece loads whole; one past the cap and an
  // endless one (/dev/zero) are refused as too big, not read to the end.
  const std::string name = ::testing::TempDir() + "loader-test-long.yaml";
  std::string text = "nodes: {a: {}}\n";
  while (text.size() < 200 * 1024) text += "# padding of a long file\n";
  std::ofstream(name, std::ios::binary) << text;
  EXPECT_TRUE(LoadScenarioFile(name).ok());
  std::ofstream(name, std::ios::binary) << text << std::string(kMaxScenarioBytes, '#');
  auto big = LoadScenarioFile(name);
  ASSERT_EQ(big.errors.size(), 1u);
  EXPECT_THAT(big.errors[0].ToString(), ::testing::HasSubstr("the file holds more than"));
  std::remove(name.c_str());
  auto endless = LoadScenarioFile("/dev/zero");
  ASSERT_EQ(endless.errors.size(), 1u);
  EXPECT_THAT(endless.errors[0].ToString(), ::testing::HasSubstr("the file holds more than"));
}

TEST(Loader, FileThatCannotBeRead) {
  auto r = LoadScenarioFile("/nonexistent/scenario.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "/nonexistent/scenario.yaml: cannot read the file: No such file or directory");
}

}  // namespace
}  // namespace punchlab::scenario
