// punchlab-node's --flow SPEC: the text the runner writes and what the node
// reads back. The schedule itself is scenario::ProbeSchedule's
// (tests/scenario/meaning-test.cc), the same for both worlds.
#include "node/flow-spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::cli {
namespace {

using ::testing::HasSubstr;

const std::string kKey = "nodekey:" + std::string(64, 'a');

FlowSpec Flow(Duration start, Duration stop, Duration every,
              std::vector<scenario::Interval> idle = {}) {
  FlowSpec f;
  f.id = 3;
  f.to = *NodePublicKey::Parse(kKey);
  f.schedule = scenario::ProbeSchedule{start, stop, every, std::move(idle)};
  f.size = 200;
  return f;
}

TEST(FlowSpec, FormatAndParseRoundTrip) {
  const FlowSpec f = Flow(Duration::Seconds(5), Duration::Seconds(60), Duration::Millis(100),
                          {{Duration::Seconds(20), Duration::Seconds(50)},
                           {Duration::Millis(55500), Duration::Millis(56500)}});
  const std::string text = FormatFlowSpec(f);
  EXPECT_EQ(text, "id=3,to=" + kKey + ",start=5s,stop=60s,every=100ms,size=200,idle=20s+30s,idle=55500ms+1s");
  std::string error;
  const auto back = ParseFlowSpec(text, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->id, 3u);
  EXPECT_EQ(back->to, f.to);
  EXPECT_EQ(back->schedule.start, f.schedule.start);
  EXPECT_EQ(back->schedule.stop, f.schedule.stop);
  EXPECT_EQ(back->schedule.every, f.schedule.every);
  EXPECT_EQ(back->size, 200u);
  ASSERT_EQ(back->schedule.idle.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->schedule.idle[i].from, f.schedule.idle[i].from);
    EXPECT_EQ(back->schedule.idle[i].until, f.schedule.idle[i].until);
  }
}

// The sender's turn goes with the flow: the node starts it from its up + turn.
TEST(FlowSpec, TheTurnRoundTripsAndDefaultsToZero) {
  FlowSpec f = Flow(Duration::Millis(500), Duration::Seconds(60), Duration::Millis(100));
  f.schedule.turn = Duration::Millis(500);
  const std::string text = FormatFlowSpec(f);
  EXPECT_EQ(text, "id=3,to=" + kKey + ",start=500ms,stop=60s,every=100ms,size=200,turn=500ms");
  std::string error;
  const auto back = ParseFlowSpec(text, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->schedule.turn, Duration::Millis(500));
  EXPECT_EQ(back->schedule.AfterUp(Duration::Millis(600)).start, Duration::Millis(1100));
  const auto none = ParseFlowSpec("id=0,to=" + kKey + ",start=0s,stop=10s,every=1s,size=10", error);
  ASSERT_TRUE(none) << error;
  EXPECT_EQ(none->schedule.turn, Duration::Zero());
}

TEST(FlowSpec, IdleGapsComeBackSortedAsFromUntil) {
  std::string error;
  const auto f = ParseFlowSpec(
      "id=0,to=" + kKey + ",start=0s,stop=10s,every=1s,size=10,idle=5s+1s,idle=1s+500ms", error);
  ASSERT_TRUE(f) << error;
  ASSERT_EQ(f->schedule.idle.size(), 2u);
  EXPECT_EQ(f->schedule.idle[0].from, Duration::Seconds(1));
  EXPECT_EQ(f->schedule.idle[0].until, Duration::Millis(1500));
  EXPECT_EQ(f->schedule.idle[1].from, Duration::Seconds(5));
  EXPECT_EQ(f->schedule.idle[1].until, Duration::Seconds(6));
}

TEST(FlowSpec, BadSpecsNameTheItem) {
  const std::string ok = "id=0,to=" + kKey + ",start=0s,stop=10s,every=1s,size=10";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"id=0", "'to' is missing"},
      {ok + ",size=3", "'size' given twice"},
      {ok + ",turn=1s,turn=2s", "'turn' given twice"},
      {ok + ",turn=x", "turn='x' is not a duration"},
      {"id=x,to=" + kKey + ",start=0s,stop=1s,every=1s,size=1", "id='x' must be a whole number"},
      {"id=0,to=nodekey:zz,start=0s,stop=1s,every=1s,size=1", "not a node public key"},
      {"id=0,to=" + kKey + ",start=5,stop=1s,every=1s,size=1", "start='5' is not a duration"},
      {"id=0,to=" + kKey + ",start=0s,stop=1s,every=0s,size=1", "every=0s: must be at least 1ms"},
      {"id=0,to=" + kKey + ",start=2s,stop=1s,every=1s,size=1", "stop=1s is before start=2s"},
      {"id=0,to=" + kKey + ",start=0s,stop=1s,every=1s,size=0", "size=0"},
      {ok + ",idle=5s", "is not AT+FOR"},
      {ok + ",idle=1s+5s,idle=2s+1s", "overlap"},
      {ok + ",speed=3", "unknown key 'speed'"},
      {ok + ",junk", "'junk' is not key=value"},
  };
  for (const auto& [text, fragment] : cases) {
    std::string error;
    EXPECT_FALSE(ParseFlowSpec(text, error)) << text;
    EXPECT_THAT(error, HasSubstr(fragment)) << text;
  }
}

}  // namespace
}  // namespace punchlab::cli
