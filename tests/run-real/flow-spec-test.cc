// punchlab-node's --flow SPEC: the text the runner writes, what the node reads
// back, and the probe schedule (the ns-3 runner's, so both worlds send the
// same probes at the same times).
#include "node/flow-spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::cli {
namespace {

using ::testing::HasSubstr;

const std::string kKey = "nodekey:" + std::string(64, 'a');

FlowSpec Flow(Duration start, Duration stop, Duration every,
              std::vector<std::pair<Duration, Duration>> idle = {}) {
  FlowSpec f;
  f.id = 3;
  f.to = *NodePublicKey::Parse(kKey);
  f.start = start;
  f.stop = stop;
  f.every = every;
  f.size = 200;
  f.idle = std::move(idle);
  return f;
}

// Every (seq, ms) the schedule holds, walking it as a node process does.
std::vector<std::pair<uint64_t, int64_t>> Walk(const FlowSpec& f) {
  std::vector<std::pair<uint64_t, int64_t>> out;
  for (auto slot = f.SlotAtOrAfter(Duration::Zero()); slot;
       slot = f.SlotAtOrAfter(slot->at + Duration::Nanos(1))) {
    out.emplace_back(slot->seq, slot->at.nanos() / 1000000);
    if (out.size() > 1000) break;
  }
  return out;
}

TEST(FlowSpec, FormatAndParseRoundTrip) {
  const FlowSpec f = Flow(Duration::Seconds(5), Duration::Seconds(60), Duration::Millis(100),
                          {{Duration::Seconds(20), Duration::Seconds(30)},
                           {Duration::Millis(55500), Duration::Seconds(1)}});
  const std::string text = FormatFlowSpec(f);
  EXPECT_EQ(text, "id=3,to=" + kKey + ",start=5s,stop=60s,every=100ms,size=200,idle=20s+30s,idle=55500ms+1s");
  std::string error;
  const auto back = ParseFlowSpec(text, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->id, 3u);
  EXPECT_EQ(back->to, f.to);
  EXPECT_EQ(back->start, f.start);
  EXPECT_EQ(back->stop, f.stop);
  EXPECT_EQ(back->every, f.every);
  EXPECT_EQ(back->size, 200u);
  EXPECT_EQ(back->idle, f.idle);
}

TEST(FlowSpec, BadSpecsNameTheItem) {
  const std::string ok = "id=0,to=" + kKey + ",start=0s,stop=10s,every=1s,size=10";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"id=0", "'to' is missing"},
      {ok + ",size=3", "'size' given twice"},
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

TEST(FlowSpec, ScheduleIsEveryFromStartUntilStop) {
  const FlowSpec f = Flow(Duration::Seconds(1), Duration::Millis(1300), Duration::Millis(100));
  using P = std::pair<uint64_t, int64_t>;
  EXPECT_EQ(Walk(f), (std::vector<P>{{0, 1000}, {1, 1100}, {2, 1200}}));
}

TEST(FlowSpec, IdleGapsMoveTheNextProbeToTheGapsEnd) {
  // Probes at 0, 300, 600; 900 falls in [800, 1050) so it goes at 1050, and
  // the schedule continues from there: 1350.
  const FlowSpec f = Flow(Duration::Zero(), Duration::Millis(1400), Duration::Millis(300),
                          {{Duration::Millis(800), Duration::Millis(250)}});
  using P = std::pair<uint64_t, int64_t>;
  EXPECT_EQ(Walk(f), (std::vector<P>{{0, 0}, {1, 300}, {2, 600}, {3, 1050}, {4, 1350}}));
}

TEST(FlowSpec, AGapShorterThanEveryBetweenTwoProbesChangesNothing) {
  const FlowSpec f = Flow(Duration::Zero(), Duration::Millis(1000), Duration::Millis(500),
                          {{Duration::Millis(100), Duration::Millis(200)}});
  using P = std::pair<uint64_t, int64_t>;
  EXPECT_EQ(Walk(f), (std::vector<P>{{0, 0}, {1, 500}}));
}

TEST(FlowSpec, AStartInsideAGapBeginsAtItsEnd) {
  const FlowSpec f = Flow(Duration::Seconds(1), Duration::Seconds(3), Duration::Seconds(1),
                          {{Duration::Seconds(1), Duration::Millis(500)}});
  using P = std::pair<uint64_t, int64_t>;
  EXPECT_EQ(Walk(f), (std::vector<P>{{0, 1500}, {1, 2500}}));
}

TEST(FlowSpec, ALateProcessResumesAtTheNextSlotWithItsNumber) {
  const FlowSpec f = Flow(Duration::Zero(), Duration::Seconds(10), Duration::Millis(100),
                          {{Duration::Seconds(2), Duration::Seconds(1)}});
  const auto slot = f.SlotAtOrAfter(Duration::Millis(3456));
  ASSERT_TRUE(slot);
  // 20 probes before the gap (0..1900ms), then 3000, 3100, ...: 3500 is seq 25.
  EXPECT_EQ(slot->seq, 25u);
  EXPECT_EQ(slot->at, Duration::Millis(3500));
  EXPECT_FALSE(f.SlotAtOrAfter(Duration::Seconds(10)));
}

}  // namespace
}  // namespace punchlab::cli
