// Program nodes in the lab: their facts and command line, and what the
// wire's accounting says about their paths (run-real/programs.h,
// run-real/wire-paths.h). Pure: no lab.
#include "run-real/programs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run-real-test-util.h"
#include "run-real/wire-paths.h"

namespace punchlab::runreal {
namespace {

using ::testing::ElementsAre;
using scenario::PathKind;
using testing::LoadOk;

const char* kPair = R"(
stop_time: 30s
derp: {regions: [{id: 1, name: fra}]}
nats: {nat-a: {}, nat-b: {}, carrier: {}, home: {behind: carrier}}
nodes:
  alice:
    behind: nat-a
    run:
      command: [peer, "--to={{peer.public_address}}:51820", "{{seed}}"]
      env: {ME: "{{self.address}}/{{self.public_address}}", DERP: "{{derp.fra.address}}"}
      path_window: 2s
  bob: {behind: nat-b, run: {command: [peer, "{{dir}}"]}}
  carol: {behind: home, run: {command: [x], relay: true}}
)";

TEST(Programs, FactsComeFromTheAddressPlan) {
  const scenario::Scenario s = LoadOk(kPair);
  const LabPlan plan = PlanLab(s);
  const auto facts = ProgramFacts(s, plan, 0, "/tmp/w", 42, {"sha256-raw:ab12"});
  const std::string alice = plan.nodes[0].uplink.address;
  const std::string nat_b = plan.FindBox("nat-b")->uplink.address;
  EXPECT_EQ(facts.at("self.name"), "alice");
  EXPECT_EQ(facts.at("self.address"), alice);
  EXPECT_EQ(facts.at("self.public_address"), plan.FindBox("nat-a")->uplink.address);
  EXPECT_EQ(facts.at("peer.name"), "bob");  // carol is a relay, no one's peer
  EXPECT_EQ(facts.at("peer.public_address"), nat_b);
  EXPECT_EQ(facts.at("nodes.bob.address"), plan.nodes[1].uplink.address);
  EXPECT_EQ(facts.at("derp.fra.address"), plan.derp[0].uplink.address);
  EXPECT_EQ(facts.at("derp.fra.cert_pin"), "sha256-raw:ab12");
  EXPECT_EQ(facts.at("seed"), "42");
  EXPECT_EQ(facts.at("dir"), "/tmp/w");
  // Behind two NATs the internet sees the outer one.
  EXPECT_EQ(PublicAddress(s, plan, 2), plan.FindBox("carrier")->uplink.address);
  EXPECT_THAT(ProgramArgv(*s.nodes[0].run, facts, "/tmp/w"),
              ElementsAre("prlimit", "--fsize=16777216", "env", "-C", "/tmp/w", "--",
                          "ME=" + alice + "/" + facts.at("self.public_address"),
                          "DERP=" + plan.derp[0].uplink.address, "peer",
                          "--to=" + nat_b + ":51820", "42"));
}

TEST(Programs, CannotExecuteSaysWhy) {
  EXPECT_FALSE(CannotExecute("sh", "/tmp", "/usr/bin:/bin"));
  EXPECT_EQ(CannotExecute("no-such-program-here", "/tmp", "/usr/bin:/bin"),
            "'no-such-program-here' is not found in PATH");
  EXPECT_EQ(CannotExecute("./missing", "/tmp", "/usr/bin"), "'./missing' does not exist");
  const std::string plain = ::testing::TempDir() + "/not-a-program";
  std::ofstream(plain) << "text\n";
  std::filesystem::permissions(plain, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::owner_write);
  EXPECT_EQ(CannotExecute(plain, "/tmp", "/usr/bin"),
            "'" + plain + "' is not executable (" + plain + ")");
  EXPECT_FALSE(CannotExecute("/bin/sh", "/tmp", ""));
}

TEST(Programs, MatchOutputFindsTheFirstLinePerPattern) {
  EXPECT_THAT(MatchOutput({"^up", "peer [0-9]+", "never"}, "x\nup 1\nup 2\n", "peer 7\n"),
              ElementsAre("up 1", "peer 7", std::nullopt));
}

TEST(Programs, ReportedPathsAreTheProgramsOwnView) {
  using namespace std::string_literals;
  const int64_t epoch = int64_t{1765000000000} * 1000000;  // Unix ns
  size_t malformed = 0;
  const auto paths = ReportedPaths(
      "starting\n"
      "{\"punchlab\": \"path\", \"peer\": \"bob\", \"path\": \"direct\", \"unix_ms\": 1765000002500}\n"
      "{\"other\": 1}\n"
      "{\"punchlab\": \"path\", \"peer\": \"bob\", \"path\": \"sideways\", \"unix_ms\": 1}\n"
      "{\"punchlab\": \"path\", \"path\": \"none\", \"unix_ms\": 1765000003000}\n"
      "{\"punchlab\": \"path\", \"peer\": \"bob\", \"path\": \"none\", \"unix_ms\": 1765000009000}\n"
      // Not JSON (a raw NUL), so not a report, though what comes before the
      // NUL would be one.
      "{\"punchlab\": \"path\", \"peer\": \"bob\", \"path\": \"derp\", \"unix_ms\": 1765000010000}"s +
          '\0' + " and more\n",
      epoch, malformed);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0].at, Duration::Millis(2500));
  EXPECT_EQ(paths[0].peer, "bob");
  EXPECT_EQ(paths[0].path, PathKind::kDirect);
  EXPECT_EQ(paths[1].at, Duration::Seconds(9));
  EXPECT_EQ(paths[1].path, PathKind::kNone);
  EXPECT_EQ(malformed, 2u);
}

// The wire's flows reply for `rows` (link label -> ab/ba rows), epoch 1000 ms.
std::string Flows(const nlohmann::json& links) { return links.dump(); }

TEST(WirePaths, DirectBothWaysMakesThePairDirect) {
  const scenario::Scenario s = LoadOk(kPair);
  const LabPlan plan = PlanLab(s);
  const std::string nat_a = plan.FindBox("nat-a")->uplink.address;
  const std::string nat_b = plan.FindBox("nat-b")->uplink.address;
  const std::string a = plan.nodes[0].uplink.address;
  const std::string b = plan.nodes[1].uplink.address;
  // Bins at 1000 ms = t 0. bob gets alice's packets (from nat-a) at 1.0-1.5 s,
  // alice gets bob's from 1.2 s; a packet from elsewhere counts for no one.
  nlohmann::json links = {
      {"node-alice",
       {{"ab", {{2000, a, nat_b, 3, 300}}},
        {"ba", {{2200, nat_b, a, 2, 200}, {2500, nat_b, a, 1, 100}, {2500, "198.51.100.9", a, 5, 500}}}}},
      {"node-bob",
       {{"ab", {{2000, b, nat_a, 1, 100}}},
        {"ba", {{2000, nat_a, b, 2, 200}, {2500, nat_a, b, 1, 100}}}}}};
  const WireView v = ReadWireView(s, plan, Flows(links), 1000);
  ASSERT_EQ(v.samples.size(), 4u);
  EXPECT_EQ(v.samples[0].at, Duration::Seconds(1));
  EXPECT_EQ(v.samples[0].from, "alice");
  EXPECT_EQ(v.samples[0].to, "bob");
  EXPECT_EQ(v.samples[0].path, PathKind::kDirect);
  EXPECT_EQ(v.samples[0].packets, 2u);
  // alice -> bob: direct from 1.0 s until 2 s (alice's window) after the
  // end of its last bin (1.5-1.6 s); bob -> alice: from 1.2 s until 3 s
  // (bob's default window) after 1.6 s.
  std::vector<std::string> seen;
  for (const auto& c : v.timeline) {
    seen.push_back(c.node + ">" + c.peer + " " + scenario::ToString(c.path) + " " +
                   c.at.ToString() + " " + c.reason);
  }
  EXPECT_THAT(seen, ElementsAre("alice>bob direct 1s wire", "alice>bob none 3600ms wire",
                                "bob>alice direct 1200ms wire",
                                "bob>alice none 4600ms wire"));
  EXPECT_EQ(v.peak_send_rate.at("alice").first, 30u);  // 3 packets in 100 ms
  EXPECT_EQ(v.peak_send_rate.at("alice").second, Duration::Seconds(1));
}

TEST(WirePaths, ThroughARelayTheSenderSentToIsDerp) {
  const scenario::Scenario s = LoadOk(kPair);
  const LabPlan plan = PlanLab(s);
  const std::string relay = PublicAddress(s, plan, 2);  // carol, behind carrier
  const std::string a = plan.nodes[0].uplink.address;
  const std::string b = plan.nodes[1].uplink.address;
  nlohmann::json links = {
      {"node-alice", {{"ab", {{1000, a, relay, 1, 100}}}, {"ba", nlohmann::json::array()}}},
      {"node-bob",
       {{"ab", nlohmann::json::array()},
        // from the relay at 1.1 s: alice sent there at 1.0 s; at 9 s she had not
        // for longer than her 2 s window.
        {"ba", {{1100, relay, b, 1, 100}, {9000, relay, b, 1, 100}}}}}};
  const WireView v = ReadWireView(s, plan, Flows(links), 1000);
  ASSERT_EQ(v.samples.size(), 1u);
  EXPECT_EQ(v.samples[0].path, PathKind::kDerp);
  EXPECT_EQ(v.samples[0].from, "alice");
  ASSERT_FALSE(v.timeline.empty());
  EXPECT_EQ(v.timeline[0].path, PathKind::kDerp);
  EXPECT_EQ(v.timeline[0].at, Duration::Millis(100));
}

// A service (a coordination server on the internet side) keeps the two
// peers' peer.* facts, and what it exchanges with them is no path: the
// peers' own packets to each other still are.
TEST(WirePaths, AServiceIsNoEndOfAPath) {
  const scenario::Scenario s = LoadOk(R"(
stop_time: 30s
derp: {regions: [{id: 1, name: fra}]}
nats: {nat-a: {}, nat-b: {}}
nodes:
  alice: {behind: nat-a, run: {command: [peer, "{{peer.name}}"]}}
  bob: {behind: nat-b, run: {command: [peer, "{{peer.name}}"]}}
  control: {run: {command: [ctl, "{{self.address}}"], service: true}}
)");
  const LabPlan plan = PlanLab(s);
  EXPECT_EQ(ProgramFacts(s, plan, 0, "/tmp/w", 1, {"sha256-raw:ab12"}).at("peer.name"), "bob");
  EXPECT_EQ(ProgramFacts(s, plan, 1, "/tmp/w", 1, {"sha256-raw:ab12"}).at("peer.name"), "alice");
  EXPECT_EQ(ProgramFacts(s, plan, 2, "/tmp/w", 1, {"sha256-raw:ab12"}).count("peer.name"), 0u);
  const std::string nat_a = plan.FindBox("nat-a")->uplink.address;
  const std::string nat_b = plan.FindBox("nat-b")->uplink.address;
  const std::string a = plan.nodes[0].uplink.address;
  const std::string b = plan.nodes[1].uplink.address;
  const std::string ctl = plan.nodes[2].uplink.address;
  // Both peers talk to control all along; from 2 s on also to each other.
  nlohmann::json links = {
      {"node-alice",
       {{"ab", {{1000, a, ctl, 5, 500}, {3000, a, nat_b, 1, 100}}},
        {"ba", {{1000, ctl, a, 5, 500}, {3000, nat_b, a, 1, 100}}}}},
      {"node-bob",
       {{"ab", {{1000, b, ctl, 5, 500}, {3000, b, nat_a, 1, 100}}},
        {"ba", {{1000, ctl, b, 5, 500}, {3000, nat_a, b, 1, 100}}}}},
      {"node-control",
       {{"ab", {{1000, ctl, nat_a, 5, 500}, {1000, ctl, nat_b, 5, 500}}},
        {"ba", {{1000, nat_a, ctl, 5, 500}, {1000, nat_b, ctl, 5, 500}}}}}};
  const WireView v = ReadWireView(s, plan, Flows(links), 1000);
  std::vector<std::string> seen;
  for (const auto& w : v.samples) {
    seen.push_back(w.from + ">" + w.to + " " + scenario::ToString(w.path) + " " + w.at.ToString());
  }
  EXPECT_THAT(seen, ElementsAre("alice>bob direct 2s", "bob>alice direct 2s"));
  for (const auto& c : v.timeline) {
    EXPECT_NE(c.node, "control");
    EXPECT_NE(c.peer, "control");
  }
}

TEST(WirePaths, MalformedFlowsThrow) {
  const scenario::Scenario s = LoadOk(kPair);
  const LabPlan plan = PlanLab(s);
  EXPECT_THROW(ReadWireView(s, plan, "[1]", 0), std::invalid_argument);
  EXPECT_THROW(ReadWireView(s, plan, R"({"node-alice": {"ab": [[1]], "ba": []}})", 0),
               std::invalid_argument);
}

}  // namespace
}  // namespace punchlab::runreal
