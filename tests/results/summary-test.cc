// Numbers in words (format.h) and the summary `punchlab run` prints
// (summary.h): the same text on every machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "results-test-util.h"
#include "results/format.h"
#include "results/summary.h"

namespace punchlab::results {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Ms;
using testing::Sec;

TEST(Format, SecondsToTheMillisecondWithoutTrailingZeros) {
  EXPECT_EQ(FormatSeconds(Sec(10)), "10s");
  EXPECT_EQ(FormatSeconds(Duration::Zero()), "0s");
  EXPECT_EQ(FormatSeconds(Ms(23412)), "23.412s");
  EXPECT_EQ(FormatSeconds(Ms(23400)), "23.4s");
  EXPECT_EQ(FormatSeconds(Ms(548)), "0.548s");
  EXPECT_EQ(FormatSeconds(Duration::Micros(2400)), "0.002s");  // rounded to the millisecond
  EXPECT_EQ(FormatSeconds(Duration::Micros(400)), "0s");       // not "0.000s"
  EXPECT_EQ(FormatSeconds(Duration::Zero() - Duration::Micros(400)), "0s");  // not "-0s"
  EXPECT_EQ(FormatSeconds(Duration::Zero() - Ms(1500)), "-1.5s");
}

TEST(Format, MillisToTheMicrosecond) {
  EXPECT_EQ(FormatMillis(Duration::Nanos(71204321)), "71.204ms");
  EXPECT_EQ(FormatMillis(Ms(40)), "40ms");
  EXPECT_EQ(FormatMillis(Duration::Micros(40500)), "40.5ms");
  EXPECT_EQ(FormatMillis(Duration::Zero()), "0ms");
}

TEST(Format, PercentWithThreeDecimalsAtMost) {
  EXPECT_EQ(FormatPercent(0.004), "0.4%");
  EXPECT_EQ(FormatPercent(0.0), "0%");
  EXPECT_EQ(FormatPercent(1.0), "100%");
  EXPECT_EQ(FormatPercent(0.25), "25%");
  EXPECT_EQ(FormatPercent(1.0 / 3.0), "33.333%");
  EXPECT_EQ(FormatPercent(0.00001), "0.001%");
}

Results SummaryRun() {
  Results r = testing::EmptyRun(Sec(60));
  r.scenario = "home-vs-office";
  r.file = "scenarios/home-vs-office.yaml";
  r.seed = 7;
  ExpectationResult ok;
  ok.where = {21, 5};
  ok.text = "laptop-workstation path derp by 10s";
  ok.ok = true;
  ok.observed = "derp at 10s";
  ExpectationResult failed;
  failed.where = {24, 7};
  failed.text = "laptop-workstation time to direct <= 5s from 0s";
  failed.observed = "never direct";
  r.expectations = {ok, failed};
  PairSummary p;
  p.a = "laptop";
  p.b = "workstation";
  p.final_path = PathKind::kDerp;
  p.rtt[RoundTripPath::kDerp] = {548, Ms(70), Duration::Micros(71204), Ms(72), Ms(74), Ms(75)};
  p.probes_sent = 550;
  p.probes_lost = 2;
  PairSummary q;
  q.a = "a";
  q.b = "b";
  q.first_send = Sec(1);
  q.direct_at = Ms(3548);
  q.time_to_direct = Ms(2548);
  q.final_path = PathKind::kDirect;
  r.pairs = {p, q};
  r.notes = {"hairpin is not modelled in the lab"};
  return r;
}

TEST(Summary, VerdictsPairsAndNotes) {
  EXPECT_EQ(FormatSummary(SummaryRun()),
            "home-vs-office (simulation, seed 7, 60s): 1 of 2 expectations failed\n"
            "  \u2713 laptop-workstation path derp by 10s: derp at 10s\n"
            "  \u2717 laptop-workstation time to direct <= 5s from 0s: never direct "
            "(scenarios/home-vs-office.yaml:24:7)\n"
            "pairs:\n"
            "  laptop - workstation: never direct, final path derp, rtt derp p50 71.204ms (548), "
            "2 of 550 probes lost\n"
            "  a - b: direct after 2.548s (first send 1s, first round trip direct both ways "
            "3.548s), final path direct\n"
            "note: hairpin is not modelled in the lab\n");
}

TEST(Summary, AllHoldAndNoExpectations) {
  Results r = SummaryRun();
  r.expectations.pop_back();
  EXPECT_THAT(FormatSummary(r), HasSubstr("): all 1 expectations hold\n"));
  r.expectations.clear();
  r.pairs.clear();
  r.notes.clear();
  EXPECT_EQ(FormatSummary(r), "home-vs-office (simulation, seed 7, 60s): no expectations\n");
}

TEST(Summary, FailedExpectationNotFromTheFileHasNoPosition) {
  Results r = SummaryRun();
  r.expectations[1].where = {};
  const std::string text = FormatSummary(r);
  EXPECT_THAT(text, HasSubstr("never direct\n"));
  EXPECT_THAT(text, Not(HasSubstr("home-vs-office.yaml:")));
}

}  // namespace
}  // namespace punchlab::results
