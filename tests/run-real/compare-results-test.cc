// punchlab compare's verdicts: the two worlds' results side by side.
#include "run-real/compare-results.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace punchlab::runreal {
namespace {

using ::testing::HasSubstr;

results::ExpectationResult Expectation(int line, bool ok, const std::string& observed) {
  results::ExpectationResult e;
  e.where = {line, 5};
  e.text = "alice-bob path direct by 10s";
  e.ok = ok;
  e.observed = observed;
  return e;
}

results::PairSummary Pair(std::optional<Duration> ttd, scenario::PathKind final_path) {
  results::PairSummary p;
  p.a = "alice";
  p.b = "bob";
  p.time_to_direct = ttd;
  p.final_path = final_path;
  return p;
}

results::Results Make(std::vector<results::ExpectationResult> e,
                      std::vector<results::PairSummary> pairs) {
  results::Results r;
  r.scenario = "cones";
  r.file = "s.yaml";
  r.expectations = std::move(e);
  r.pairs = std::move(pairs);
  return r;
}

TEST(CompareResults, SameVerdictsAgreeAndTimeToDirectIsRealMinusSim) {
  const results::Results sim = Make({Expectation(12, true, "direct at 10s")},
                                    {Pair(Duration::Millis(1500), scenario::PathKind::kDirect)});
  results::Results real = Make({Expectation(12, true, "direct at 10s")},
                               {Pair(Duration::Millis(100), scenario::PathKind::kDirect)});
  real.notes = {"latency and jitter are not emulated"};
  const ScenarioComparison c = CompareResults(sim, real, "o/cones/sim", "o/cones/real");
  EXPECT_TRUE(c.agree());
  ASSERT_EQ(c.pairs.size(), 1u);
  EXPECT_EQ(c.pairs[0].time_to_direct_diff(), Duration::Millis(-1400));
  const nlohmann::json j = ToJson(c);
  EXPECT_EQ(j["agree"], true);
  EXPECT_EQ(j["sim_dir"], "o/cones/sim");
  EXPECT_EQ(j["expectations"][0]["line"], 12);
  EXPECT_EQ(j["expectations"][0]["sim"]["ok"], true);
  EXPECT_EQ(j["expectations"][0]["real"]["observed"], "direct at 10s");
  EXPECT_DOUBLE_EQ(j["pairs"][0]["time_to_direct_diff_s"].get<double>(), -1.4);
  EXPECT_DOUBLE_EQ(j["pairs"][0]["real"]["time_to_direct_s"].get<double>(), 0.1);
  EXPECT_EQ(j["pairs"][0]["sim"]["final_path"], "direct");
  EXPECT_EQ(j["notes"]["real"][0], "latency and jitter are not emulated");
  const std::string text = FormatComparison(c);
  EXPECT_THAT(text, HasSubstr("cones (s.yaml): simulation and real lab agree"));
  EXPECT_THAT(text, HasSubstr("= s.yaml:12:5: alice-bob path direct by 10s"));
  EXPECT_THAT(text, HasSubstr("time to direct sim 1.5s, real 0.1s (real -1.4s)"));
  EXPECT_THAT(text, HasSubstr("note (real): latency and jitter are not emulated"));
}

TEST(CompareResults, FailingInBothWorldsStillAgrees) {
  const results::Results sim = Make({Expectation(3, false, "derp at 10s")}, {});
  const results::Results real = Make({Expectation(3, false, "derp at 10s")}, {});
  EXPECT_TRUE(CompareResults(sim, real, "a", "b").agree());
}

TEST(CompareResults, DifferentVerdictsDiffer) {
  const results::Results sim = Make({Expectation(3, true, "direct at 10s"), Expectation(4, true, "x")},
                                    {Pair(Duration::Seconds(2), scenario::PathKind::kDirect)});
  const results::Results real = Make({Expectation(3, false, "derp at 10s"), Expectation(4, true, "x")},
                                     {Pair(std::nullopt, scenario::PathKind::kDerp)});
  const ScenarioComparison c = CompareResults(sim, real, "a", "b");
  EXPECT_FALSE(c.agree());
  EXPECT_FALSE(c.expectations[0].agree());
  EXPECT_TRUE(c.expectations[1].agree());
  EXPECT_FALSE(c.pairs[0].time_to_direct_diff());
  const nlohmann::json j = ToJson(c);
  EXPECT_EQ(j["agree"], false);
  EXPECT_TRUE(j["pairs"][0]["time_to_direct_diff_s"].is_null());
  EXPECT_TRUE(j["pairs"][0]["real"]["time_to_direct_s"].is_null());
  const std::string text = FormatComparison(c);
  EXPECT_THAT(text, HasSubstr("simulation and real lab DIFFER"));
  EXPECT_THAT(text, HasSubstr("≠ s.yaml:3:5"));
  EXPECT_THAT(text, HasSubstr("real failed: derp at 10s"));
  EXPECT_THAT(text, HasSubstr("time to direct sim 2s, real never direct"));
}

TEST(CompareResults, APairSeenInOneWorldOnlyIsKeptWithNullForTheOther) {
  results::PairSummary other = Pair(std::nullopt, scenario::PathKind::kNone);
  other.a = "carol";
  other.b = "dave";
  const results::Results sim = Make({}, {Pair(Duration::Seconds(1), scenario::PathKind::kDirect)});
  const results::Results real = Make({}, {other});
  const ScenarioComparison c = CompareResults(sim, real, "a", "b");
  ASSERT_EQ(c.pairs.size(), 2u);
  const nlohmann::json j = ToJson(c);
  EXPECT_TRUE(j["pairs"][0]["real"].is_null());
  EXPECT_TRUE(j["pairs"][1]["sim"].is_null());
  EXPECT_EQ(j["pairs"][1]["a"], "carol");
}

}  // namespace
}  // namespace punchlab::runreal
