// Every kind of rejection, with its exact file:line:col and the sentence
// that says what to write instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenario-test-util.h"
#include "scenario/yaml-document.h"

namespace punchlab::scenario {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::Errors;

// --- keys ---

TEST(Errors, UnknownKeySuggestsTheClosest) {
  EXPECT_THAT(Errors("internet:\n  latancy: 20ms\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:2:3: unknown key 'latancy' in internet; did you mean "
                          "'latency'? (keys: latency, jitter, loss, bandwidth)"));
}

TEST(Errors, UnknownKeyWithoutAnyCloseKey) {
  EXPECT_THAT(Errors("internet: {colour: blue}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:12: unknown key 'colour' in internet (keys: latency, "
                          "jitter, loss, bandwidth)"));
}

TEST(Errors, UnknownKeyKnownAsAnAlias) {
  EXPECT_THAT(Errors("nats: {home: {mapping_timeout: 30s}}\nnodes: {a: {}}\n"),
              ElementsAre(StartsWith("t.yaml:1:15: unknown key 'mapping_timeout' in nats.home; "
                                     "did you mean 'udp_timeout'? (keys: preset, mapping,")));
  EXPECT_THAT(Errors("expectations: []\nnodes: {a: {}}\n"),
              ElementsAre(StartsWith("t.yaml:1:1: unknown key 'expectations' at the top level; "
                                     "did you mean 'expect'? (keys: name, description,")));
  EXPECT_THAT(Errors("duration: 30s\nnodes: {a: {}}\n"),
              ElementsAre(StartsWith("t.yaml:1:1: unknown key 'duration' at the top level; did "
                                     "you mean 'stop_time'?")));
}

TEST(Errors, UnknownKeysInEveryKindOfSection) {
  EXPECT_THAT(Errors("nodes: {a: {bihind: internet}}\n"),
              ElementsAre(StartsWith("t.yaml:1:13: unknown key 'bihind' in nodes.a; did you "
                                     "mean 'behind'?")));
  EXPECT_THAT(Errors("nodes: {a: {link: {latecy: 1ms}}}\n"),
              ElementsAre(StartsWith("t.yaml:1:20: unknown key 'latecy' in nodes.a.link; did "
                                     "you mean 'latency'?")));
  EXPECT_THAT(Errors("defaults: {link: {los: 1%}}\nnodes: {a: {}}\n"),
              ElementsAre(StartsWith("t.yaml:1:19: unknown key 'los' in defaults.link; did you "
                                     "mean 'loss'?")));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b, evry: 1s}]\n"),
              ElementsAre(StartsWith("t.yaml:2:28: unknown key 'evry' in traffic[0]; did you "
                                     "mean 'every'?")));
  EXPECT_THAT(Errors("derp: {regions: [{id: 1, nmae: x}]}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:18: missing key 'name' in derp.regions[0]; write e.g. "
                          "name: fra",
                          StartsWith("t.yaml:1:26: unknown key 'nmae' in derp.regions[0]; did "
                                     "you mean 'name'?")));
}

TEST(Errors, RepeatedKey) {
  EXPECT_THAT(Errors("internet:\n  latency: 20ms\n  latency: 30ms\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:3:3: key 'latency' appears twice in internet (first at line "
                          "2); keep one"));
}

TEST(Errors, MissingRequiredKey) {
  EXPECT_THAT(Errors("stop_time: 10s\n"),
              ElementsAre("t.yaml:1:1: missing key 'nodes' at the top level; write e.g. nodes: "
                          "{laptop: {behind: home}, server: {}}"));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic:\n  - to: b\n"),
              ElementsAre("t.yaml:3:5: missing key 'from' in traffic[0]; write e.g. from: "
                          "laptop"));
}

// --- types and units ---

TEST(Errors, MapExpected) {
  EXPECT_THAT(Errors("internet: 20ms\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:11: internet must be a map of keys (latency, jitter, loss, "
                          "bandwidth), not a single value ('20ms'); write e.g. internet: "
                          "{latency: 20ms, loss: 0.1%}"));
  EXPECT_THAT(Errors("- a\n- b\n"),
              ElementsAre(StartsWith("t.yaml:1:1: a scenario file must be a map of keys (name, "
                                     "description, stop_time,")));
}

TEST(Errors, ListExpected) {
  EXPECT_THAT(Errors("nodes: {a: {}}\ntraffic: {from: a}\n"),
              ElementsAre("t.yaml:2:10: traffic must be a list (entries start with '- '), not a "
                          "map; write e.g. traffic: [{from: laptop, to: server, every: 100ms}]"));
}

TEST(Errors, SingleValueExpected) {
  EXPECT_THAT(Errors("stop_time: [1s]\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:12: stop_time must be a single value, not a list; write "
                          "e.g. stop_time: 2m"));
  EXPECT_THAT(Errors("stop_time:\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:1: stop_time has no value; write e.g. stop_time: 2m"));
}

TEST(Errors, DurationsNeedUnits) {
  EXPECT_THAT(Errors("internet: {latency: 20}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:21: latency in internet: '20' has no unit; write a duration "
                          "like 20ms or 1.5s (units: ns, us, ms, s, m, h)"));
  EXPECT_THAT(Errors("stop_time: soon\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:12: stop_time: 'soon' is not a duration; write a duration "
                          "like 20ms or 1.5s (units: ns, us, ms, s, m, h)"));
}

TEST(Errors, OtherQuantities) {
  EXPECT_THAT(Errors("internet: {loss: 1}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:18: loss in internet: '1' has no unit; write a percentage "
                          "from 0% to 100% like 1% or 0.5%"));
  EXPECT_THAT(Errors("internet: {loss: 150%}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:18: loss in internet: '150%' is not a percentage; write a "
                          "percentage from 0% to 100% like 1% or 0.5%"));
  EXPECT_THAT(Errors("internet: {bandwidth: 10MB}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:23: bandwidth in internet: '10MB' is not a bit rate; write "
                          "a bit rate like 10Mbit or 1Gbit (or unlimited)"));
  EXPECT_THAT(Errors("internet: {bandwidth: 0Mbit}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:23: bandwidth in internet: '0Mbit' is no bit rate at all; "
                          "write a bit rate like 10Mbit or 1Gbit (or unlimited)"));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b, size: 0.5B}]\n"),
              ElementsAre("t.yaml:2:34: size in traffic[0]: '0.5B' is not a whole number of "
                          "bytes; write a size like 200B or 1.5KiB"));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b, rate: 1000}]\n"),
              ElementsAre("t.yaml:2:34: rate in traffic[0]: '1000' has no unit; write a bit "
                          "rate like 10Mbit or 1Gbit"));
  EXPECT_THAT(Errors("seed: -1\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:7: seed: '-1' is not a whole number from 0 to "
                          "18446744073709551615; write e.g. seed: 7"));
  EXPECT_THAT(Errors("firewalls: {fw: {block_udp: maybe}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:29: block_udp in firewalls.fw: 'maybe' is not true or "
                          "false; write e.g. block_udp: true"));
}

TEST(Errors, PacketTooLarge) {
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b, size: 64KiB}]\n"),
              ElementsAre("t.yaml:2:34: size in traffic[0]: 65536B does not fit; a packet "
                          "carries 1B to 65434B"));
}

TEST(Errors, Choices) {
  EXPECT_THAT(Errors("nats: {office: {preset: symetric}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:25: unknown preset 'symetric' in nats.office; did you mean "
                          "'symmetric'? (one of: full-cone, restricted-cone, "
                          "port-restricted-cone, symmetric, symmetric-port-preserving, cgnat)"));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\nexpect: [{between: [a, b], path: drect, by: 5s}]\n"),
              ElementsAre("t.yaml:2:34: unknown path 'drect' in expect[0]; did you mean "
                          "'direct'? (one of: direct, derp, local, none, asymmetric)"));
}

TEST(Errors, NatKnobValuesAreCheckedByTheNatSpecParser) {
  EXPECT_THAT(Errors("nats: {home: {port_range: 70000-80000}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:27: port_range in nats.home: bad value '70000-80000' for NAT "
                          "knob 'port_range': valid values are FIRST-LAST with 1 <= FIRST <= "
                          "LAST <= 65535, e.g. 1024-65535"));
  EXPECT_THAT(Errors("nats: {home: {udp_timeout: 0s}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:28: udp_timeout in nats.home: bad value '0s' for NAT knob "
                          "'udp_timeout': valid values are a positive duration such as 30s, "
                          "500ms, 4m or 2h"));
  // No smuggling of extra knobs through the SPEC.
  EXPECT_THAT(Errors("nats: {home: {port_range: '1-2,hairpin=on'}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:27: port_range in nats.home: '1-2,hairpin=on' is not a valid "
                          "value; write e.g. port_range: 20000-20999"));
}

TEST(Errors, BadNames) {
  EXPECT_THAT(Errors("nodes: {'my laptop': {}}\n"),
              ElementsAre("t.yaml:1:9: 'my laptop' in nodes is not a valid name; use letters, "
                          "digits, '-', '_' and '.', starting with a letter or digit (at most "
                          "32 characters)"));
  EXPECT_THAT(Errors("nats: {internet: {}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:8: 'internet' is a reserved name (behind: internet means a "
                          "public address); pick another name"));
  EXPECT_THAT(Errors("nats: {home: {}}\nnodes: {home: {}}\n"),
              ElementsAre("t.yaml:2:9: 'home' names both a NAT (line 1) and a node; give each a "
                          "distinct name"));
  EXPECT_THAT(Errors("nodes: {a: {}, a: {}}\n"),
              ElementsAre("t.yaml:1:16: 'a' appears twice in nodes (first at line 1); give each "
                          "a distinct name"));
}

TEST(Errors, PortRules) {
  EXPECT_THAT(Errors("firewalls: {fw: {inbound_allow: [udp:99999, sctp:1]}}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:34: firewalls.fw.inbound_allow[0]: 'udp:99999' is not a port "
                          "rule; write udp:41641, tcp:8000-8100, or udp for every port",
                          "t.yaml:1:45: firewalls.fw.inbound_allow[1]: 'sctp:1' is not a port "
                          "rule; write udp:41641, tcp:8000-8100, or udp for every port"));
}

// --- topology ---

TEST(Errors, BehindANatThatDoesNotExist) {
  EXPECT_THAT(Errors("nats: {home: {}}\nnodes: {a: {behind: hme}}\n"),
              ElementsAre("t.yaml:2:21: unknown NAT or firewall 'hme' in nodes.a; did you mean "
                          "'home'? (NATs and firewalls: home, internet); declare it under nats: "
                          "or firewalls:, or write behind: internet"));
  EXPECT_THAT(Errors("nodes: {a: {behind: home}}\n"),
              ElementsAre("t.yaml:1:21: unknown NAT or firewall 'home' in nodes.a (NATs and "
                          "firewalls: internet); declare it under nats: or firewalls:, or write "
                          "behind: internet"));
}

TEST(Errors, BehindAnUnknownNatInDefaultsIsReportedOnce) {
  EXPECT_THAT(Errors("defaults: {behind: office}\nnodes: {a: {}, b: {}}\n"),
              ElementsAre(StartsWith("t.yaml:1:20: unknown NAT or firewall 'office' in "
                                     "defaults")));
}

TEST(Errors, BehindANode) {
  EXPECT_THAT(Errors("nodes: {a: {}, b: {behind: a}}\n"),
              ElementsAre("t.yaml:1:28: behind in nodes.b: 'a' is a node; only a NAT or a "
                          "firewall (or internet) can be behind"));
}

TEST(Errors, NestingLoops) {
  EXPECT_THAT(Errors("nats:\n  a: {behind: b}\n  b: {behind: c}\n  c: {behind: a}\n  d: {behind: "
                     "a}\nnodes: {n: {behind: d}}\n"),
              ElementsAre("t.yaml:2:15: behind makes a loop: a -> b -> c -> a; the outermost "
                          "NAT or firewall must sit behind internet"));
  EXPECT_THAT(Errors("nats: {a: {behind: a}}\nnodes: {n: {}}\n"),
              ElementsAre("t.yaml:1:20: behind makes a loop: a -> a; the outermost NAT or "
                          "firewall must sit behind internet"));
  EXPECT_THAT(Errors("nats: {a: {behind: fw}}\nfirewalls: {fw: {behind: a}}\nnodes: {n: {}}\n"),
              ElementsAre("t.yaml:1:20: behind makes a loop: a -> fw -> a; the outermost NAT or "
                          "firewall must sit behind internet"));
}

TEST(Errors, Domains) {
  EXPECT_THAT(Errors("control: {domains: [home, corp]}\nnodes: {a: {domain: crop}}\n"),
              ElementsAre("t.yaml:2:21: unknown domain 'crop' in nodes.a; did you mean 'corp'? "
                          "(control.domains: home, corp); add it to control.domains or pick one "
                          "of them"));
  EXPECT_THAT(Errors("control: {domains: [corp]}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:2:9: nodes.a is in domain 'default' (the default), which "
                          "control.domains does not list; give the node a domain (or one in "
                          "defaults), or add default to control.domains"));
  EXPECT_THAT(Errors("control: {domains: []}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:20: control.domains lists no domain; every node needs one, "
                          "e.g. domains: [default]"));
}

TEST(Errors, ControlBatchDelay) {
  EXPECT_THAT(Errors("control: {batch_delay: 2m}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:24: control.batch_delay 120s is longer than 60s"));
  EXPECT_THAT(Errors("control: {batch_delay: 60s}\nnodes: {a: {}}\n"), ElementsAre());
}

TEST(Errors, AccessRules) {
  EXPECT_THAT(Errors("control: {acls: [{src: [alcie], dst: [bob]}]}\nnodes: {alice: {}, bob: {}}\n"),
              ElementsAre("t.yaml:1:25: unknown node 'alcie' in control.acls; did you mean "
                          "'alice'? (nodes: alice, bob); a rule names nodes or * (every node of "
                          "its domain)"));
  EXPECT_THAT(Errors("control:\n  domains: [home, corp]\n  acls: [{domain: home, src: [a], dst: [b]}]\n"
                     "nodes: {a: {domain: home}, b: {domain: corp}}\n"),
              ElementsAre("t.yaml:3:41: node 'b' is in domain 'corp', not in this rule's domain "
                          "'home'; rules never cross domains: give the rule domain: corp or name "
                          "a node of home"));
  // Unwritten, the rule's domain is its first node's.
  EXPECT_THAT(Errors("control:\n  domains: [home, corp]\n  acls: [{src: [a], dst: [b]}]\n"
                     "nodes: {a: {domain: home}, b: {domain: corp}}\n"),
              ElementsAre("t.yaml:3:27: node 'b' is in domain 'corp', not in this rule's domain "
                          "'home'; rules never cross domains: give the rule domain: corp or name "
                          "a node of home"));
  EXPECT_THAT(Errors("control: {acls: [{domain: defualt, src: [a], dst: ['*']}]}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:27: unknown domain 'defualt' in control.acls; did you mean "
                          "'default'? (control.domains: default); give the rule the domain of "
                          "the nodes it names"));
  EXPECT_THAT(Errors("control: {acls: [{src: [a]}]}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:18: missing key 'dst' in control.acls[0]; write e.g. dst: "
                          "[nas]"));
  EXPECT_THAT(Errors("control: {acls: [{src: [a], dst: [a], ports: [22]}]}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:1:39: unknown key 'ports' in control.acls[0] (keys: domain, "
                          "src, dst)"));
  EXPECT_THAT(Errors("control: {acls: [{src: ['*'], dst: ['*']}, {src: [], dst: []}]}\n"
                     "nodes: {a: {}}\n"),
              ElementsAre());
  // Naming no node, with two domains: no guess (a guess of `default` left
  // corp, the defaults' domain, allow-all).
  EXPECT_THAT(Errors("control:\n  domains: [default, corp]\n  acls: [{src: ['*'], dst: ['*']}]\n"
                     "defaults: {domain: corp}\nnodes: {a: {}}\n"),
              ElementsAre("t.yaml:3:10: control.acls[0] names no node, so it says no domain, "
                          "and control.domains lists 2 (default, corp); write the rule's "
                          "domain, e.g. domain: default"));
}

TEST(Errors, DerpRegions) {
  EXPECT_THAT(Errors("derp: {regions: [{id: 1, name: a}, {id: 1, name: a}]}\nnodes: {n: {}}\n"),
              ElementsAre("t.yaml:1:41: DERP region id 1 is used twice (first at line 1); give "
                          "each region its own id",
                          "t.yaml:1:50: DERP region name 'a' is used twice (first at line 1); "
                          "give each region its own name"));
  EXPECT_THAT(Errors("derp: {regions: [{id: 0, name: a}]}\nnodes: {n: {}}\n"),
              ElementsAre("t.yaml:1:23: id in derp.regions[0]: '0' is not a whole number from 1 "
                          "to 65535; write e.g. id: 1"));
}

TEST(Errors, EmptyNodes) {
  EXPECT_THAT(Errors("nodes: {}\n"),
              ElementsAre("t.yaml:1:8: nodes lists no node; a scenario needs at least one, e.g. "
                          "nodes: {laptop: {behind: home}, server: {}}"));
}

TEST(Errors, NodeStartsAfterTheRun) {
  EXPECT_THAT(Errors("stop_time: 10s\nnodes: {a: {start: 10s}}\n"),
              ElementsAre("t.yaml:2:20: start in nodes.a: 10s is not before stop_time (10s); "
                          "start the node earlier or raise stop_time"));
}

// --- traffic ---

TEST(Errors, TrafficNamesUnknownNodes) {
  EXPECT_THAT(Errors("nats: {home: {}}\nnodes: {laptop: {}, b: {}}\n"
                     "traffic: [{from: laptpo, to: home}]\n"),
              ElementsAre("t.yaml:3:18: unknown node 'laptpo' in traffic[0]; did you mean "
                          "'laptop'? (nodes: laptop, b)",
                          "t.yaml:3:30: unknown node 'home' in traffic[0] (nodes: laptop, b); "
                          "'home' is a NAT, not a node"));
}

TEST(Errors, TrafficToItself) {
  EXPECT_THAT(Errors("nodes: {a: {}}\ntraffic: [{from: a, to: a}]\n"),
              ElementsAre("t.yaml:2:25: traffic[0] sends from a to itself; name another node in "
                          "to"));
}

TEST(Errors, TrafficTimes) {
  EXPECT_THAT(Errors("stop_time: 30s\nnodes: {a: {}, b: {start: 5s}}\n"
                     "traffic:\n  - {from: a, to: b, start: 2s}\n"
                     "  - {from: a, to: b, start: 10s, stop: 40s}\n"
                     "  - {from: a, to: b, start: 10s, stop: 10s}\n"),
              ElementsAre("t.yaml:4:29: start in traffic[0]: 2s is before b starts (5s); start "
                          "the traffic later",
                          "t.yaml:5:40: stop in traffic[1]: 40s is after stop_time (30s); pick "
                          "an earlier time or raise stop_time",
                          "t.yaml:6:40: stop in traffic[2]: 10s is not after start (10s)"));
}

TEST(Errors, TrafficEveryAndRate) {
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b, every: 1s, rate: 1Mbit}]\n"),
              ElementsAre("t.yaml:2:39: traffic[0] gives both every and rate; give one of them"));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b, every: 0s}]\n"),
              ElementsAre("t.yaml:2:35: every in traffic[0] must be longer than 0s; write e.g. "
                          "every: 100ms"));
}

TEST(Errors, IdleGaps) {
  EXPECT_THAT(Errors("stop_time: 100s\nnodes: {a: {}, b: {}}\ntraffic:\n"
                     "  - from: a\n    to: b\n    stop: 50s\n    idle:\n"
                     "      - {at: 10s, for: 20s}\n"
                     "      - {at: 20s, for: 5s}\n"
                     "      - {at: 45s, for: 10s}\n"
                     "      - {at: 1s, for: 0s}\n"),
              ElementsAre("t.yaml:9:9: idle gaps in traffic[0] overlap: the one at 20s starts "
                          "before the one at 10s ends (30s); merge them",
                          "t.yaml:10:9: traffic[0].idle[2] (45s for 10s) is not inside the flow "
                          "(0s to 50s)",
                          "t.yaml:11:23: for in traffic[0].idle[3] must be longer than 0s"));
}

TEST(Errors, TrafficAcrossDomains) {
  EXPECT_THAT(Errors("control: {domains: [x, y]}\nnodes: {a: {domain: x}, b: {domain: y}}\n"
                     "traffic: [{from: a, to: b}]\n"),
              ElementsAre("t.yaml:3:11: a (domain x) and b (domain y) are in different domains "
                          "and never learn each other's keys; traffic between them cannot flow"));
}

// --- events ---

// A world with one of each target (the events list follows, from line 6).
const char* const kEventsWorld =
    "derp: {regions: [{id: 1, name: fra}]}\nnats: {home: {}}\nfirewalls: {fw: {}}\n"
    "nodes: {laptop: {behind: home}}\nevents:\n";

TEST(Errors, EventTargets) {
  const std::string base = kEventsWorld;
  EXPECT_THAT(Errors(base + "  - {at: 1s, nat: laptop, action: reboot}\n"),
              ElementsAre("t.yaml:6:19: unknown NAT 'laptop' in events[0] (NATs: home); 'laptop' "
                          "is a node"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, node: lptop, action: restart}\n"),
              ElementsAre("t.yaml:6:20: unknown node 'lptop' in events[0]; did you mean "
                          "'laptop'? (nodes: laptop)"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, firewall: home, block_udp: true}\n"),
              ElementsAre("t.yaml:6:24: unknown firewall 'home' in events[0] (firewalls: fw); "
                          "'home' is a NAT"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, derp_region: fr, action: down}\n"),
              ElementsAre("t.yaml:6:27: unknown DERP region 'fr' in events[0]; did you mean "
                          "'fra'? (DERP regions: fra)"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, action: reboot}\n"),
              ElementsAre("t.yaml:6:5: events[0] names no target; add one of node: NAME, nat: "
                          "NAME, firewall: NAME or derp_region: NAME"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, node: laptop, nat: home, action: reboot}\n"),
              ElementsAre("t.yaml:6:28: events[0] names two targets (node and nat); an event "
                          "hits one: split it into two events"));
}

TEST(Errors, EventActionsAndSettings) {
  const std::string base = kEventsWorld;
  EXPECT_THAT(Errors(base + "  - {at: 1s, node: laptop, action: reboot}\n"),
              ElementsAre("t.yaml:6:36: reboot does not apply to a node; a node's actions are "
                          "restart, link-down, link-up"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, node: laptop, block_udp: true}\n"),
              ElementsAre("t.yaml:6:28: block_udp does not apply to a node; a node event can set "
                          "latency, jitter, loss, bandwidth"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, derp_region: fra, loss: 5%}\n"),
              ElementsAre("t.yaml:6:32: loss does not apply to a derp_region; a derp_region "
                          "event can set latency"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, nat: home, action: reboot, mapping: "
                            "address-dependent}\n"),
              ElementsAre("t.yaml:6:25: events[0] gives both an action and new settings "
                          "(mapping); split it into two events"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, nat: home}\n"),
              ElementsAre("t.yaml:6:5: events[0] says nothing happens; give an action (reboot, "
                          "change-address, link-down, link-up) or new settings (mapping, "
                          "latency, jitter, loss, bandwidth)"));
  EXPECT_THAT(Errors(base + "  - {at: 1s, nat: home, action: rebot}\n"),
              ElementsAre("t.yaml:6:33: unknown action 'rebot' in events[0]; did you mean "
                          "'reboot'? (one of: restart, reboot, change-address, link-down, "
                          "link-up, down, up)"));
}

TEST(Errors, EventTimes) {
  const std::string base =
      "stop_time: 60s\nnats: {home: {}}\nnodes: {laptop: {behind: home, start: 10s}}\nevents:\n";
  EXPECT_THAT(Errors(base + "  - {at: 70s, nat: home, action: reboot}\n"),
              ElementsAre("t.yaml:5:10: at in events[0]: 70s is after stop_time (60s); pick an "
                          "earlier time or raise stop_time"));
  EXPECT_THAT(Errors(base + "  - {at: 5s, node: laptop, action: restart}\n"),
              ElementsAre("t.yaml:5:10: at in events[0]: 5s is before laptop starts (10s); an "
                          "event cannot hit a node before it runs"));
  EXPECT_THAT(Errors(base + "  - {at: 50s, nat: home, action: link-down, for: 20s}\n"),
              ElementsAre("t.yaml:5:50: for in events[0]: the event ends at 70s, after stop_time "
                          "(60s); shorten it or raise stop_time"));
  EXPECT_THAT(Errors(base + "  - {at: 50s, nat: home, action: reboot, for: 2s}\n"),
              ElementsAre("t.yaml:5:42: for does not apply to reboot: it happens once; remove "
                          "for"));
  EXPECT_THAT(Errors(base + "  - {at: 50s, nat: home, action: link-up, for: 2s}\n"),
              ElementsAre("t.yaml:5:43: for does not apply to link-up; to bring something back "
                          "after a while, write link-down or down with for"));
}

// --- expectations ---

TEST(Errors, ExpectationsNameUnknownNodes) {
  EXPECT_THAT(Errors("nodes: {laptop: {}, server: {}}\n"
                     "expect: [{between: [laptop, sever], path: direct, by: 5s}]\n"),
              ElementsAre("t.yaml:2:29: unknown node 'sever' in expect[0]; did you mean "
                          "'server'? (nodes: laptop, server)"));
}

TEST(Errors, ExpectationShape) {
  const std::string base = "nodes: {a: {}, b: {}}\nexpect:\n";
  EXPECT_THAT(Errors(base + "  - {between: [a], path: direct, by: 5s}\n"),
              ElementsAre("t.yaml:3:15: between in expect[0] must name exactly two nodes, like "
                          "[laptop, server]"));
  EXPECT_THAT(Errors(base + "  - {between: [a, a], path: direct, by: 5s}\n"),
              ElementsAre("t.yaml:3:19: between in expect[0] names a twice; name two different "
                          "nodes"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b]}\n"),
              ElementsAre("t.yaml:3:5: expect[0] checks nothing; give one of path, "
                          "time_to_direct_max, rtt_min/rtt_max or loss_min/loss_max"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], path: direct, rtt_max: 5ms, by: 5s}\n"),
              ElementsAre("t.yaml:3:37: expect[0] checks both path and rtt_max; give one check "
                          "per entry: split it into two"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], path: direct}\n"),
              ElementsAre("t.yaml:3:23: expect[0] does not say when; add by: 10s (the path at "
                          "that time) or from: 10s (throughout, until `until` or stop_time)"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], path: direct, by: 5s, from: 1s}\n"),
              ElementsAre("t.yaml:3:37: expect[0] gives both by and a window (from/until); give "
                          "one of them"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], rtt_max: 5ms, by: 5s}\n"),
              ElementsAre("t.yaml:3:37: by does not apply to rtt_min/rtt_max; give a window with "
                          "from and until"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], time_to_direct_max: 5s, until: 9s}\n"),
              ElementsAre("t.yaml:3:47: until does not apply to time_to_direct_max; from says "
                          "when its clock starts"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], rtt_min: 50ms, rtt_max: 5ms}\n"),
              ElementsAre("t.yaml:3:47: rtt_max in expect[0] (5ms) is below rtt_min (50ms)"));
  const std::string flowing = "nodes: {a: {}, b: {}}\ntraffic: [{from: a, to: b}]\nexpect:\n";
  EXPECT_THAT(Errors(flowing + "  - {between: [a, b], loss_min: 50%, loss_max: 5%}\n"),
              ElementsAre("t.yaml:4:48: loss_max in expect[0] is below loss_min"));
  EXPECT_THAT(Errors(flowing + "  - {between: [a, b], loss_min: 5%, by: 5s}\n"),
              ElementsAre("t.yaml:4:37: by does not apply to loss_min/loss_max; give a window "
                          "with from and until"));
}

TEST(Errors, ExpectationTimes) {
  const std::string base = "stop_time: 60s\nnodes: {a: {}, b: {start: 10s}}\nexpect:\n";
  EXPECT_THAT(Errors(base + "  - {between: [a, b], path: direct, by: 90s}\n"),
              ElementsAre("t.yaml:4:41: by in expect[0]: 90s is after stop_time (60s); pick an "
                          "earlier time or raise stop_time"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], path: direct, by: 5s}\n"),
              ElementsAre("t.yaml:4:41: by in expect[0]: 5s is before b starts (10s); nothing "
                          "can be expected of it yet"));
  EXPECT_THAT(Errors(base + "  - {between: [a, b], path: direct, from: 30s, until: 20s}\n"),
              ElementsAre("t.yaml:4:55: until in expect[0]: 20s is not after from (30s)"));
}

TEST(Errors, ImpossibleExpectations) {
  EXPECT_THAT(Errors("nats: {home: {}, office: {}}\nnodes: {a: {behind: home}, b: {behind: "
                     "office}, c: {}}\n"
                     "expect:\n  - {between: [a, b], path: local, by: 5s}\n"
                     "  - {between: [a, c], over: local, rtt_max: 5ms}\n"),
              ElementsAre("t.yaml:4:29: a and b share no LAN (a is behind home, b is behind "
                          "office), so their path is never local; expect direct or derp",
                          "t.yaml:5:29: a and c share no LAN (a is behind home, c is on the "
                          "internet), so their path is never local; expect direct or derp"));
  EXPECT_THAT(Errors("derp: {regions: []}\nnodes: {a: {}, b: {}}\n"
                     "expect: [{between: [a, b], path: derp, by: 5s}]\n"),
              ElementsAre("t.yaml:3:34: derp.regions is empty, so no path is ever derp; add a "
                          "region or expect another path"));
  EXPECT_THAT(Errors("control: {domains: [x, y]}\nnodes: {a: {domain: x}, b: {domain: y}}\n"
                     "expect: [{between: [a, b], path: direct, by: 5s}]\n"),
              ElementsAre("t.yaml:3:20: a (domain x) and b (domain y) are in different domains "
                          "and never learn each other's keys; only path: none can hold between "
                          "them"));
  EXPECT_THAT(Errors("nodes: {a: {}, b: {}}\nexpect: [{between: [a, b], loss_max: 1%}]\n"),
              ElementsAre("t.yaml:2:38: loss_max in expect[0] needs traffic between a and b; add "
                          "a traffic entry from one to the other"));
}

// --- the file as a whole ---

TEST(Errors, MalformedYamlHasAPosition) {
  EXPECT_THAT(Errors("nodes: {a: {}\nstop_time: 1s\n"),
              ElementsAre(StartsWith("t.yaml:2:")));
  EXPECT_THAT(Errors("nodes: [a, b\n"), ElementsAre(HasSubstr("malformed YAML: ")));
  EXPECT_THAT(Errors("nodes: {a: *undefined}\n"),
              ElementsAre("t.yaml:1:12: malformed YAML: the referenced anchor is not defined"));
  EXPECT_THAT(Errors("\tnodes: {}\n"),
              ElementsAre("t.yaml:1:7: malformed YAML: illegal map value"));
}

TEST(Errors, EmptyFile) {
  EXPECT_THAT(Errors(""), ElementsAre("t.yaml:1:1: the file holds no scenario; write at least "
                                      "nodes: {laptop: {behind: home}, server: {}}"));
  EXPECT_THAT(Errors("# nothing\n"), ElementsAre(StartsWith("t.yaml:1:1: the file holds no")));
}

TEST(Errors, TwoDocuments) {
  EXPECT_THAT(Errors("nodes: {a: {}}\n---\nnodes: {b: {}}\n"),
              ElementsAre("t.yaml:3:1: a second YAML document starts here, but a file holds one "
                          "scenario; remove the '---' or split the file"));
}

// yaml-cpp 0.7's LoadAll never returns on these (an empty document that
// consumes nothing, forever); the loader stops at the ','.
TEST(Errors, StrayCommaIsMalformedNotAHang) {
  const std::string comma =
      "malformed YAML: ',' outside [ ] or { }; write a list as [a, b] or one '- ' entry per line";
  EXPECT_THAT(Errors(","), ElementsAre("t.yaml:1:1: " + comma));
  EXPECT_THAT(Errors("---\n,"), ElementsAre("t.yaml:2:1: " + comma));
  EXPECT_THAT(Errors("# c\n,"), ElementsAre("t.yaml:2:1: " + comma));
  EXPECT_THAT(Errors("nodes: {}\n---\n,"), ElementsAre("t.yaml:3:1: " + comma));
  EXPECT_THAT(Errors("nodes: {a: {}}\n,\n"), ElementsAre(HasSubstr("malformed YAML")));
  EXPECT_THAT(Errors("&x ,"), ElementsAre(StartsWith("t.yaml:1:4: malformed YAML: ','")));
  EXPECT_THAT(Errors("[a]\n,"), ElementsAre(StartsWith("t.yaml:2:1: malformed YAML: ','")));
}

TEST(Errors, EmptySecondDocumentIsStillASecondDocument) {
  EXPECT_THAT(Errors("nodes: {a: {}}\n---\n"),
              ElementsAre(StartsWith("t.yaml:3:1: a second YAML document starts here")));
}

TEST(Errors, TextLargerThanAnyScenarioIsRefusedUnread) {
  const std::string big = "nodes: {a: {}}\n# " + std::string(kMaxScenarioBytes, 'x') + "\n";
  EXPECT_THAT(Errors(big), ElementsAre(StartsWith("t.yaml:1:1: the file holds more than ")));
}

TEST(Errors, AliasesStandingForTooManyNodesAreRefusedBeforeTheTreeIsBuilt) {
  // Ten levels of ten aliases each stand for 10^10 nodes in 300 bytes; the
  // sixth line (a5: 1,111,111 nodes) is where the count passes the cap.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", " : "") + prev;
    bomb += "]\n";
  }
  EXPECT_THAT(Errors(bomb), ElementsAre(StartsWith("t.yaml:6:")));
  EXPECT_THAT(Errors(bomb), ElementsAre(HasSubstr("malformed YAML: more than 1000000 YAML nodes")));
  // An alias of itself is no bomb, just not a scenario.
  EXPECT_THAT(Errors("nodes: &a {x: *a}\n"), Not(::testing::IsEmpty()));
}

TEST(Errors, AllErrorsAreCollectedInFileOrder) {
  EXPECT_THAT(Errors("stop_time: 30\nnodes:\n  a: {behind: nowhere}\n  b: {}\n"
                     "traffic: [{from: a, to: c}]\ninternet: {latency: 1}\n"),
              ElementsAre(StartsWith("t.yaml:1:12: stop_time: '30' has no unit"),
                          StartsWith("t.yaml:3:15: unknown NAT or firewall 'nowhere'"),
                          "t.yaml:5:25: unknown node 'c' in traffic[0] (nodes: a, b)",
                          StartsWith("t.yaml:6:21: latency in internet: '1' has no unit")));
}

}  // namespace
}  // namespace punchlab::scenario
