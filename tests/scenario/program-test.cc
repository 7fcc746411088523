// Program nodes (nodes.NAME.run): what the loader reads, what it rejects
// (with file:line:col), and the facts filled into a program's text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenario-test-util.h"
#include "scenario/facts.h"

namespace punchlab::scenario {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::Errors;
using testing::LoadOk;

constexpr const char* kTwoPrograms = R"(stop_time: 20s
derp: {regions: [{id: 1, name: fra}]}
nats: {home: {preset: full-cone}}
nodes:
  alice:
    behind: home
    run:
      command: [my-peer, --to, "{{nodes.bob.public_address}}:51820"]
      env: {DERP: "{{derp.fra.address}}", ME: "{{ self.name }}"}
      files: {peer.conf: "listen {{self.address}}\nseed {{seed}}\n"}
      relay: false
      path_window: 5s
      stop_grace: 1s
      expect_output: ["^connected", "peer [a-z]+"]
      max_output: 1MiB
      max_packet_rate: 500
  bob:
    run: {command: [their-peer], expect_exit: 0, relay: true}
  carol: {}
)";

TEST(Program, ReadsEveryKey) {
  const Scenario s = LoadOk(kTwoPrograms);
  ASSERT_EQ(s.nodes.size(), 3u);
  ASSERT_TRUE(s.nodes[0].run);
  const Program& a = *s.nodes[0].run;
  EXPECT_THAT(a.command, ElementsAre("my-peer", "--to", "{{nodes.bob.public_address}}:51820"));
  ASSERT_EQ(a.env.size(), 2u);
  EXPECT_EQ(a.env[0], (std::pair<std::string, std::string>{"DERP", "{{derp.fra.address}}"}));
  EXPECT_EQ(a.env[1].first, "ME");
  ASSERT_EQ(a.files.size(), 1u);
  EXPECT_EQ(a.files[0].first, "peer.conf");
  EXPECT_EQ(a.path_window, Duration::Seconds(5));
  EXPECT_EQ(a.stop_grace, Duration::Seconds(1));
  EXPECT_FALSE(a.expect_exit);
  EXPECT_THAT(a.expect_output, ElementsAre("^connected", "peer [a-z]+"));
  EXPECT_EQ(a.max_output_bytes, 1u << 20);
  EXPECT_EQ(a.max_packet_rate, 500u);
  EXPECT_FALSE(a.relay);
  EXPECT_EQ(a.where.line, 8);
  const Program& b = *s.nodes[1].run;
  EXPECT_EQ(b.expect_exit, 0);
  EXPECT_TRUE(b.relay);
  EXPECT_EQ(b.path_window, Duration::Seconds(3));  // the defaults
  EXPECT_EQ(b.max_output_bytes, 16u << 20);
  EXPECT_FALSE(s.nodes[2].run);
}

TEST(Program, UnknownFactPointsAtItsColumn) {
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x, \"--peer={{nodes.bb.address}}\"]}\n  b: {}\n"),
              ElementsAre("t.yaml:3:32: unknown fact 'nodes.bb.address'; did you mean "
                          "'nodes.b.address'? (facts: self.name, self.address, "
                          "self.public_address, nodes.NAME.address, nodes.NAME.public_address, "
                          "derp.NAME.address, derp.NAME.cert_pin, dir, seed; peer.name, "
                          "peer.address, peer.public_address with exactly two peers)"));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x, {{self.address]}\n"),
              ElementsAre(HasSubstr("t.yaml:3:")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x, \"{{self.address\"]}\n"),
              ElementsAre("t.yaml:3:25: '{{' is not closed by '}}'"));
}

TEST(Program, RejectsBadValuesWithTheirPosition) {
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: []}\n"),
              ElementsAre(StartsWith("t.yaml:3:20: command in nodes.a.run is empty")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {env: {X: y}}\n"),
              ElementsAre("t.yaml:3:10: missing key 'command' in nodes.a.run; write e.g. command: "
                          "[wireguard-go, -f, wg0]"));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x], env: {1X: y}}\n"),
              ElementsAre(StartsWith("t.yaml:3:31: env in nodes.a.run: '1X' is not a variable name")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x], files: {../x: y}}\n"),
              ElementsAre(StartsWith("t.yaml:3:33: files in nodes.a.run: '../x' is not a path inside")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x], expect_output: [\"(\"]}\n"),
              ElementsAre(StartsWith("t.yaml:3:41: expect_output in nodes.a.run: '(' is not a "
                                     "regular expression")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: [x], expect_exit: 256}\n"),
              ElementsAre(StartsWith("t.yaml:3:38: expect_exit in nodes.a.run: '256' is not a whole "
                                     "number from 0 to 255")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {command: x}\n"),
              ElementsAre(StartsWith("t.yaml:3:20: command in nodes.a.run must be a list")));
  EXPECT_THAT(Errors("nodes:\n  a:\n    run: {comand: [x]}\n"),
              ElementsAre(StartsWith("t.yaml:3:10: missing key 'command' in nodes.a.run"),
                          StartsWith("t.yaml:3:11: unknown key 'comand' in nodes.a.run; did you "
                                     "mean 'command'?")));
}

TEST(Program, TrafficAndProbeChecksNeedPunchlabsClient) {
  const std::string nodes =
      "nodes:\n  a: {run: {command: [x]}}\n  b: {}\n";
  EXPECT_THAT(Errors(nodes + "traffic: [{from: a, to: b, every: 1s}]\n"),
              ElementsAre(StartsWith("t.yaml:4:18: a runs a program (run:), and traffic entries "
                                     "are punchlab's probes")));
  EXPECT_THAT(Errors(nodes + "expect: [{between: [a, b], rtt_max: 1s, from: 1s}]\n"),
              ElementsAre(StartsWith("t.yaml:4:28: rtt_max in expect[0] needs punchlab's probes, "
                                     "and a runs a program")));
  // Paths and time to direct are judged from the wire.
  LoadOk(nodes + "expect: [{between: [a, b], path: direct, by: 5s}, "
                 "{between: [a, b], time_to_direct_max: 5s}]\n");
}

TEST(Facts, PeerFactsNeedExactlyTwoPeers) {
  const Scenario two = LoadOk("nodes:\n  a: {run: {command: [x, \"{{peer.public_address}}\"]}}\n"
                              "  b: {}\n  turn: {run: {command: [turnserver], relay: true}}\n");
  EXPECT_EQ(PeerOf(two, 0), 1u);
  EXPECT_EQ(PeerOf(two, 1), 0u);
  EXPECT_FALSE(PeerOf(two, 2));  // the relay is no one's peer, and has none
  EXPECT_THAT(Errors("nodes:\n  a: {}\n  b: {}\n  turn: {run: {command: [x, \"{{peer.name}}\"], relay: true}}\n"),
              ElementsAre(StartsWith("t.yaml:4:30: unknown fact 'peer.name'")));
  EXPECT_THAT(Errors("nodes:\n  a: {run: {command: [x, \"{{peer.name}}\"]}}\n  b: {}\n  c: {}\n"),
              ElementsAre(StartsWith("t.yaml:2:27: unknown fact 'peer.name'")));
}

TEST(Facts, FillAndCheck) {
  const std::map<std::string, std::string> facts = {{"self.address", "10.1.0.2"},
                                                    {"seed", "7"}};
  EXPECT_EQ(FillFacts("a {{self.address}}:1 {{ seed }}{{seed}}", facts), "a 10.1.0.2:1 77");
  EXPECT_EQ(FillFacts("no facts { } }}", facts), "no facts { } }}");
  EXPECT_THROW(FillFacts("{{nope}}", facts), std::invalid_argument);
  EXPECT_THROW(FillFacts("{{seed", facts), std::invalid_argument);
  const std::vector<std::string> known = {"seed"};
  EXPECT_FALSE(CheckFacts("x {{seed}}", known));
  const auto p = CheckFacts("ab{{sed}}", known);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->offset, 2u);
  EXPECT_THAT(p->message, StartsWith("unknown fact 'sed'; did you mean 'seed'?"));
}

}  // namespace
}  // namespace punchlab::scenario
