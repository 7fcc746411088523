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
    const char* kind = s.kind == Step::Kind::kUndo ? "undo" : s.kind == Step::Kind::kStartNode ? "start" : "event";
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

}  // namespace
}  // namespace punchlab::runreal
