// When the real runner starts nodes, applies events and undoes them.
#include "run-real/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run-real-test-util.h"

namespace punchlab::runreal {
namespace {

using testing::LoadOk;

std::vector<std::string> Describe(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const Step& s : steps) {
    const char* kind = s.kind == Step::Kind::kUndo        ? "undo"
                       : s.kind == Step::Kind::kStartNode   ? "start"
                       : s.kind == Step::Kind::kReleaseNode ? "release"
                                                            : "event";
    out.push_back(s.at.ToString() + " " + kind + " " + std::to_string(s.index));
  }
  return out;
}

TEST(Schedule, StartsEventsAndUndosInTimeOrder) {
  const scenario::Scenario s = LoadOk(R"(
stop_time: 60s
nats: {home: {}}
nodes: {a: {behind: home}, b: {start: 5s}}
derp: {regions: [{id: 1, name: fra}]}
events:
  - {at: 30s, nat: home, action: reboot}
  - {at: 5s, derp_region: fra, action: down, for: 25s}
  - {at: 50s, node: a, action: link-down, for: 5s}
  - {at: 58s, node: a, action: link-up}
)");
  EXPECT_THAT(Describe(BuildSchedule(s)),
              ::testing::ElementsAre("0s start 0", "5s start 1", "5s event 1", "30s undo 1",
                                     "30s event 0", "50s event 2", "55s undo 2", "58s event 3"));
}

// punchlab-node nodes are launched node_lead early (they wait for their
// instant themselves); a program node, which cannot wait, at its start.
TEST(Schedule, LaunchesNodesAheadOfTheirStartAndProgramsAtIt) {
  const scenario::Scenario s = LoadOk(R"(
stop_time: 60s
nats: {home: {}}
nodes:
  a: {behind: home}
  b: {start: 5s}
  p: {start: 5s, run: {command: [sleep, "1"]}}
events:
  - {at: 4900ms, nat: home, action: reboot}
)");
  const std::vector<Step> steps = BuildSchedule(s, Duration::Millis(300));
  std::vector<std::string> due;
  for (const Step& step : steps) due.push_back(step.due.ToString() + " " + step.at.ToString());
  EXPECT_THAT(Describe(steps), ::testing::ElementsAre("0s start 0", "5s start 1", "4900ms event 0",
                                                      "5s start 2"));
  EXPECT_THAT(due, ::testing::ElementsAre("-300ms 0s", "4700ms 5s", "4900ms 4900ms", "5s 5s"));
  for (const Step& step : steps) EXPECT_FALSE(step.gated) << step.at.ToString();
}

// A node launched ahead waits for its instant by itself, but where the runner
// also acts at that instant the order "undos, node starts, events" would be a
// race between two processes: such a node is gated, and its release is the
// runner's step between the undos and the events.
TEST(Schedule, GatesANodeWhoseInstantTheRunnerAlsoActsAt) {
  const scenario::Scenario s = LoadOk(R"(
stop_time: 60s
nats: {home: {}, work: {}}
nodes:
  a: {behind: home}
  b: {behind: work, start: 5s}
  c: {start: 10s}
  d: {start: 20s}
derp: {regions: [{id: 1, name: fra}]}
events:
  - {at: 0s, nat: work, action: link-down, for: 5s}
  - {at: 10s, nat: home, action: reboot}
  - {at: 19s, derp_region: fra, action: down, for: 500ms}
)");
  const std::vector<Step> steps = BuildSchedule(s, Duration::Millis(300));
  std::vector<std::string> due;
  std::vector<std::string> gated;
  for (const Step& step : steps) {
    due.push_back(step.due.ToString());
    if (step.gated) gated.push_back(s.nodes[step.index].name);
  }
  EXPECT_THAT(Describe(steps),
              ::testing::ElementsAre("0s start 0", "0s release 0", "0s event 0", "5s start 1",
                                     "5s undo 0", "5s release 1", "10s start 2",
                                     "10s release 2", "10s event 1", "19s event 2",
                                     "19500ms undo 2", "20s start 3"));
  EXPECT_THAT(due, ::testing::ElementsAre("-300ms", "0s", "0s", "4700ms", "5s", "5s", "9700ms",
                                          "10s", "10s", "19s", "19500ms", "19700ms"));
  // a shares 0s with work's link-down: gated too, released before the
  // event. d is alone at 20s.
  EXPECT_THAT(gated, ::testing::ElementsAre("a", "b", "c"));
}

}  // namespace
}  // namespace punchlab::runreal
