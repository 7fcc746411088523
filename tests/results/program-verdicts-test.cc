// Verdicts for program nodes (results::ProgramReport, the wire's timeline):
// how a program must end, the lines it must print, its send rate, and time
// to direct judged from the wire when no probes cross.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "results-test-util.h"
#include "results/evaluate.h"

namespace punchlab::results {
namespace {

using testing::Change;
using testing::EmptyRun;
using testing::Ms;
using testing::Sec;
using Status = ProgramReport::Status;

scenario::Scenario WithProgram(std::optional<int> expect_exit,
                               std::vector<std::string> expect_output = {}) {
  scenario::Scenario s;
  s.name = "t";
  s.file = "t.yaml";
  s.stop_time = Sec(60);
  for (const char* name : {"alice", "bob"}) {
    scenario::NodeDef n;
    n.name = name;
    n.run = scenario::Program{};
    n.run->where = {7, 5};
    n.run->command = {"peer"};
    n.run->expect_exit = expect_exit;
    n.run->expect_output = expect_output;
    n.run->max_packet_rate = 100;
    s.nodes.push_back(n);
  }
  s.nodes[1].run.reset();  // bob is punchlab's node
  return s;
}

ProgramReport Report(Status status, std::optional<int> code = std::nullopt) {
  ProgramReport p;
  p.node = "alice";
  p.command = "peer";
  p.status = status;
  p.exit_code = code;
  if (status == Status::kExited) p.exited_at = Ms(2500);
  return p;
}

std::vector<std::string> Verdicts(const Results& r) {
  std::vector<std::string> out;
  for (const ExpectationResult& e : r.expectations) {
    out.push_back(std::string(e.ok ? "ok " : "FAIL ") + e.text + ": " + e.observed);
  }
  return out;
}

TEST(ProgramVerdicts, RunningUntilStopIsTheDefault) {
  Results run = EmptyRun();
  run.programs.push_back(Report(Status::kRan, 143));
  EvaluateExpectations(WithProgram(std::nullopt), run);
  EXPECT_EQ(Verdicts(run),
            (std::vector<std::string>{
                "ok program alice runs until stop_time: ran until stopped",
                "ok program alice sends at most 100 packets/s: peak 0 packets/s"}));
  EXPECT_EQ(run.expectations[0].where.line, 7);
}

TEST(ProgramVerdicts, ExitingEarlyNeverStartingOrFloodingFails) {
  for (const auto& [report, observed] : std::vector<std::pair<ProgramReport, std::string>>{
           {Report(Status::kExited, 1), "exited by itself at 2.5s (status 1)"},
           {Report(Status::kNeverStarted), "never started: "},
           {Report(Status::kOutputFlood, 153), "flooded its output (0 bytes) and was killed"}}) {
    Results run = EmptyRun();
    run.programs.push_back(report);
    EvaluateExpectations(WithProgram(std::nullopt), run);
    EXPECT_FALSE(run.expectations[0].ok);
    EXPECT_EQ(run.expectations[0].observed, observed);
    EXPECT_FALSE(run.AllExpectationsOk());
  }
  Results never = EmptyRun();  // the lab never got to start it
  EvaluateExpectations(WithProgram(std::nullopt), never);
  EXPECT_FALSE(never.expectations[0].ok);
  EXPECT_EQ(never.expectations[0].observed, "never run");
}

TEST(ProgramVerdicts, ExpectedExitStatus) {
  Results ok = EmptyRun();
  ok.programs.push_back(Report(Status::kExited, 0));
  EvaluateExpectations(WithProgram(0), ok);
  EXPECT_TRUE(ok.expectations[0].ok);
  EXPECT_EQ(ok.expectations[0].text, "program alice exits with status 0");
  Results wrong = EmptyRun();
  wrong.programs.push_back(Report(Status::kExited, 2));
  EvaluateExpectations(WithProgram(0), wrong);
  EXPECT_FALSE(wrong.expectations[0].ok);
  Results running = EmptyRun();
  running.programs.push_back(Report(Status::kRan, 0));
  EvaluateExpectations(WithProgram(0), running);
  EXPECT_FALSE(running.expectations[0].ok);
  EXPECT_EQ(running.expectations[0].observed, "still running at stop_time");
}

TEST(ProgramVerdicts, OutputLinesAndFloods) {
  Results run = EmptyRun();
  ProgramReport p = Report(Status::kRan);
  p.output_matches = {std::string("connected to bob"), std::nullopt};
  p.output_bytes = 99;
  p.peak_packet_rate = 250;
  p.peak_at = Sec(3);
  run.programs.push_back(p);
  EvaluateExpectations(WithProgram(std::nullopt, {"^connected", "^done"}), run);
  EXPECT_EQ(Verdicts(run),
            (std::vector<std::string>{
                "ok program alice runs until stop_time: ran until stopped",
                "ok program alice prints a line matching /^connected/: \"connected to bob\"",
                "FAIL program alice prints a line matching /^done/: no line matched (99 bytes of "
                "output)",
                "FAIL program alice sends at most 100 packets/s: peak 250 packets/s at 3s: a "
                "flood"}));
}

// No probes cross between a program and its peer: time to direct and the
// pair summary come from the wire's timeline (reason "wire").
TEST(ProgramVerdicts, TimeToDirectFromTheWire) {
  Results run = EmptyRun();
  run.programs.push_back(Report(Status::kRan));
  run.timeline.push_back(Change(Ms(1200), "alice", "bob", PathKind::kDirect, "wire"));
  run.timeline.push_back(Change(Ms(4000), "bob", "alice", PathKind::kDirect, "path-changed"));
  run.wire.push_back({Ms(900), "bob", "alice", PathKind::kDerp, 1, 100});
  run.wire.push_back({Ms(1200), "alice", "bob", PathKind::kDirect, 1, 100});
  scenario::Scenario s = WithProgram(std::nullopt);
  scenario::Expectation e;
  e.check = scenario::CheckKind::kTimeToDirect;
  e.a = "alice";
  e.b = "bob";
  e.from = Sec(1);
  e.until = Sec(60);
  e.time_to_direct_max = Sec(2);
  s.expectations.push_back(e);
  EvaluateExpectations(s, run);
  EXPECT_FALSE(run.expectations[0].ok);
  EXPECT_EQ(run.expectations[0].observed,
            "3s (the wire carried packets direct both ways from 4s)");
  ASSERT_EQ(run.pairs.size(), 1u);
  EXPECT_EQ(run.pairs[0].first_send, Ms(900));
  EXPECT_EQ(run.pairs[0].direct_at, Sec(4));
  EXPECT_EQ(run.pairs[0].time_to_direct, Ms(3100));
  EXPECT_EQ(run.pairs[0].final_path, PathKind::kDirect);
}

}  // namespace
}  // namespace punchlab::results
