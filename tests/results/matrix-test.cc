// The NAT matrix (matrix.h): a cell from its run's results, and the grid as
// matrix.json, matrix.md and matrix.html.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results-test-util.h"
#include "results/matrix.h"
#include "results/write-directory.h"

namespace punchlab::results {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::Ms;
using testing::ReadFile;
using testing::ScratchDir;
using testing::Sec;

PairSummary Pair(const std::string& a, const std::string& b, PathKind final_path) {
  PairSummary p;
  p.a = a;
  p.b = b;
  p.final_path = final_path;
  return p;
}

RttPercentiles WithP50(uint64_t samples, Duration p50) {
  RttPercentiles r;
  r.samples = samples;
  r.min = p50 - Ms(1);
  r.p50 = p50;
  r.p90 = p50 + Ms(1);
  r.p99 = p50 + Ms(2);
  r.max = p50 + Ms(3);
  return r;
}

// ---------------------------------------------------------------------------
// CellFromResults

TEST(MatrixCell, TakesTheAliceBobPairAndItsP50PerPath) {
  Results r = testing::EmptyRun();
  PairSummary other = Pair("alice", "carol", PathKind::kDerp);
  other.probes_sent = 999;
  PairSummary ab = Pair("alice", "bob", PathKind::kDirect);
  ab.time_to_direct = Ms(548);
  ab.rtt[RoundTripPath::kDerp] = WithP50(12, Ms(71));
  ab.rtt[RoundTripPath::kDirect] = WithP50(1100, Ms(48));
  ab.probes_sent = 1180;
  ab.probes_lost = 6;
  r.pairs = {other, ab, Pair("bob", "carol", PathKind::kNone)};

  const MatrixCell c = CellFromResults("full-cone", "symmetric", r, "cells/fc--sym");
  EXPECT_EQ(c.a, "full-cone");
  EXPECT_EQ(c.b, "symmetric");
  EXPECT_EQ(c.results_dir, "cells/fc--sym");
  EXPECT_EQ(c.path, PathKind::kDirect);
  ASSERT_TRUE(c.time_to_direct);
  EXPECT_EQ(*c.time_to_direct, Ms(548));
  ASSERT_EQ(c.rtt_p50.size(), 2u);
  EXPECT_EQ(c.rtt_p50.at(RoundTripPath::kDirect), Ms(48));
  EXPECT_EQ(c.rtt_p50.at(RoundTripPath::kDerp), Ms(71));
  EXPECT_EQ(c.probes_sent, 1180u);
  EXPECT_EQ(c.probes_lost, 6u);
}

TEST(MatrixCell, FindsThePairWrittenBobFirst) {
  Results r = testing::EmptyRun();
  PairSummary ba = Pair("bob", "alice", PathKind::kDerp);
  ba.probes_sent = 40;
  r.pairs = {ba};
  const MatrixCell c = CellFromResults("a", "b", r, "d");
  EXPECT_EQ(c.path, PathKind::kDerp);
  EXPECT_EQ(c.probes_sent, 40u);
  EXPECT_FALSE(c.time_to_direct);
}

TEST(MatrixCell, WithoutTheAliceBobPairThePathIsNone) {
  Results r = testing::EmptyRun();
  PairSummary ac = Pair("alice", "carol", PathKind::kDirect);
  ac.time_to_direct = Sec(1);
  ac.rtt[RoundTripPath::kDirect] = WithP50(3, Ms(10));
  ac.probes_sent = 3;
  r.pairs = {ac};
  const MatrixCell c = CellFromResults("a", "b", r, "d");
  EXPECT_EQ(c.path, PathKind::kNone);
  EXPECT_FALSE(c.time_to_direct);
  EXPECT_TRUE(c.rtt_p50.empty());
  EXPECT_EQ(c.probes_sent, 0u);
  EXPECT_EQ(c.probes_lost, 0u);
  EXPECT_EQ(c.results_dir, "d");

  EXPECT_EQ(CellFromResults("a", "b", testing::EmptyRun(), "d").path, PathKind::kNone);
}

TEST(MatrixCell, FromEvaluatedObservations) {
  // The cell of a run as EvaluateExpectations summarised it.
  Results run = testing::EmptyRun(Sec(30));
  testing::BothSwitch(run, Ms(400), "bob", "alice", PathKind::kDerp);
  testing::BothSwitch(run, Ms(2500), "bob", "alice", PathKind::kDirect);
  run.probes.push_back(testing::Echoed("bob", "alice", Sec(1), PathKind::kDerp, Ms(80)));
  run.probes.push_back(testing::Echoed("alice", "bob", Sec(3), PathKind::kDirect, Ms(40)));
  run.probes.push_back(testing::Echoed("alice", "bob", Sec(4), PathKind::kDirect, Ms(44)));
  run.probes.push_back(testing::Echoed("bob", "alice", Sec(5), PathKind::kDirect, Ms(42)));
  run.probes.push_back(testing::Lost("alice", "bob", Sec(6), PathKind::kDirect));
  run = testing::Evaluate(run, {});
  const MatrixCell c = CellFromResults("x", "y", run, "cells/x--y");
  EXPECT_EQ(c.path, PathKind::kDirect);
  // From the first probe (1s) to the first one direct both ways (3s).
  ASSERT_TRUE(c.time_to_direct);
  EXPECT_EQ(*c.time_to_direct, Sec(2));
  EXPECT_EQ(c.rtt_p50.at(RoundTripPath::kDirect), Ms(42));
  EXPECT_EQ(c.rtt_p50.at(RoundTripPath::kDerp), Ms(80));
  EXPECT_EQ(c.probes_sent, 5u);
  EXPECT_EQ(c.probes_lost, 1u);
}

// ---------------------------------------------------------------------------
// The grid

MatrixCell Cell(const std::string& a, const std::string& b, PathKind path,
                std::optional<Duration> time_to_direct) {
  MatrixCell c;
  c.a = a;
  c.b = b;
  c.path = path;
  c.time_to_direct = time_to_direct;
  c.results_dir = "cells/matrix-" + a + "--" + b;
  return c;
}

// Two NATs, three of the four cells run (symmetric x symmetric was not).
Matrix TwoByTwo() {
  Matrix m;
  m.mode = Mode::kSimulation;
  m.seed = 1;
  m.duration = Sec(30);
  m.nats = {"full-cone", "symmetric"};
  MatrixCell fc_fc = Cell("full-cone", "full-cone", PathKind::kDirect, Ms(548));
  fc_fc.rtt_p50[RoundTripPath::kDirect] = Ms(48);
  fc_fc.probes_sent = 1180;
  fc_fc.probes_lost = 6;
  MatrixCell fc_sym = Cell("full-cone", "symmetric", PathKind::kDerp, std::nullopt);
  fc_sym.rtt_p50[RoundTripPath::kDerp] = Duration::Micros(71500);
  fc_sym.probes_sent = 1180;
  MatrixCell sym_fc = Cell("symmetric", "full-cone", PathKind::kLocal, Ms(1200));
  m.cells = {fc_fc, fc_sym, sym_fc};
  return m;
}

// matrix.json is a list of cells (matrix.h), each carrying the run's mode,
// seed and duration, so a single cell can be read on its own.
TEST(MatrixJson, ListOfCellsKeyOrderAndNullTimeToDirect) {
  EXPECT_EQ(MatrixJsonText(TwoByTwo()), R"json([
  {
    "a": "full-cone",
    "b": "full-cone",
    "path": "direct",
    "time_to_direct_s": 0.548,
    "rtt_p50_ms": {
      "direct": 48.0
    },
    "probes_sent": 1180,
    "probes_lost": 6,
    "results": "cells/matrix-full-cone--full-cone",
    "mode": "simulation",
    "seed": 1,
    "duration_s": 30.0
  },
  {
    "a": "full-cone",
    "b": "symmetric",
    "path": "derp",
    "time_to_direct_s": null,
    "rtt_p50_ms": {
      "derp": 71.5
    },
    "probes_sent": 1180,
    "probes_lost": 0,
    "results": "cells/matrix-full-cone--symmetric",
    "mode": "simulation",
    "seed": 1,
    "duration_s": 30.0
  },
  {
    "a": "symmetric",
    "b": "full-cone",
    "path": "local",
    "time_to_direct_s": 1.2,
    "rtt_p50_ms": {},
    "probes_sent": 0,
    "probes_lost": 0,
    "results": "cells/matrix-symmetric--full-cone",
    "mode": "simulation",
    "seed": 1,
    "duration_s": 30.0
  }
]
)json");
}

TEST(MatrixJson, CellsKeepTheirRowMajorOrderAndEachSaysTheRun) {
  Matrix m = TwoByTwo();
  m.mode = Mode::kReal;
  m.seed = 7;
  m.duration = Duration::Millis(20500);
  m.cells.push_back(Cell("symmetric", "symmetric", PathKind::kNone, std::nullopt));
  const nlohmann::json doc = nlohmann::json::parse(MatrixJsonText(m));
  ASSERT_TRUE(doc.is_array());
  std::vector<std::string> order;
  for (const auto& c : doc) {
    order.push_back(c["a"].get<std::string>() + "/" + c["b"].get<std::string>());
    EXPECT_EQ(c["mode"], "real");
    EXPECT_EQ(c["seed"], 7);
    EXPECT_EQ(c["duration_s"], 20.5);
  }
  EXPECT_THAT(order, ElementsAre("full-cone/full-cone", "full-cone/symmetric",
                                 "symmetric/full-cone", "symmetric/symmetric"));
  EXPECT_EQ(doc[3]["path"], "none");
  EXPECT_TRUE(doc[3]["time_to_direct_s"].is_null());
}

TEST(MatrixJson, NoCellsIsAnEmptyList) {
  Matrix m = TwoByTwo();
  m.cells.clear();
  EXPECT_EQ(MatrixJsonText(m), "[]\n");
}

TEST(MatrixMarkdown, GridWithRowsForAliceAndNotRunForAbsentCells) {
  EXPECT_EQ(MatrixMarkdown(TwoByTwo()),
            "# NAT matrix (simulation, seed 1, 30s per pair)\n"
            "\n"
            "Rows: alice's NAT. Columns: bob's NAT. Each cell: the path at the end, and the time "
            "to direct: from the pair's first probe to the first probe that crossed the direct "
            "path both ways.\n"
            "\n"
            "| alice \\ bob | full-cone | symmetric |\n"
            "|---|---|---|\n"
            "| **full-cone** | direct 0.548s | derp |\n"
            "| **symmetric** | local 1.2s | not run |\n");
}

TEST(MatrixMarkdown, TimeToDirectShownOnlyWhileTheEndPathIsDirect) {
  Matrix m;
  m.duration = Sec(30);
  m.nats = {"x"};
  // Direct at 2s, back on DERP by the end: the cell says derp, no time.
  m.cells = {Cell("x", "x", PathKind::kDerp, Sec(2))};
  EXPECT_THAT(MatrixMarkdown(m), HasSubstr("| **x** | derp |\n"));
  m.cells = {Cell("x", "x", PathKind::kDirect, std::nullopt)};
  EXPECT_THAT(MatrixMarkdown(m), HasSubstr("| **x** | direct |\n"));
}

TEST(MatrixHtml, EscapesNamesAndLinksEachCellToItsResults) {
  Matrix m;
  m.mode = Mode::kSimulation;
  m.seed = 3;
  m.duration = Sec(30);
  m.nats = {"a<b", "c&\"d\""};
  MatrixCell run = Cell("a<b", "c&\"d\"", PathKind::kDirect, Ms(548));
  run.results_dir = "cells/a<b--c&\"d\"";
  MatrixCell derp = Cell("a<b", "a<b", PathKind::kDerp, std::nullopt);
  derp.results_dir = "cells/derp";
  m.cells = {derp, run};
  const std::string html = MatrixHtml(m);

  EXPECT_THAT(html, StartsWith("<!DOCTYPE html>\n"));
  EXPECT_THAT(html, HasSubstr("<p>simulation, seed 3, 30s per pair."));
  EXPECT_THAT(html, HasSubstr("<tr><th>alice \\ bob</th><th>a&lt;b</th>"
                              "<th>c&amp;&quot;d&quot;</th></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr><th>a&lt;b</th><td style=\"background:#f6d58e\"><a "
                              "href=\"cells/derp/results.json\">derp</a></td><td "
                              "style=\"background:#b7e1b0\"><a "
                              "href=\"cells/a&lt;b--c&amp;&quot;d&quot;/results.json\">direct "
                              "0.548s</a></td></tr>"));
  EXPECT_THAT(html,
              HasSubstr("<tr><th>c&amp;&quot;d&quot;</th><td>not run</td><td>not run</td></tr>"));
  // No name reaches the page unescaped.
  EXPECT_THAT(html, Not(HasSubstr("a<b")));
  EXPECT_THAT(html, Not(HasSubstr("c&\"d")));
  EXPECT_THAT(html, HasSubstr("</table>\n</body></html>\n"));
}

TEST(MatrixHtml, ColoursByPath) {
  Matrix m;
  m.duration = Sec(30);
  m.nats = {"n", "l"};
  m.cells = {Cell("n", "n", PathKind::kNone, std::nullopt),
             Cell("n", "l", PathKind::kLocal, Ms(10)),
             Cell("l", "n", PathKind::kDirect, Ms(20)),
             Cell("l", "l", PathKind::kDerp, std::nullopt)};
  const std::string html = MatrixHtml(m);
  const auto td = [](const char* colour, const char* cell, const char* text) {
    return std::string("<td style=\"background:") + colour + "\"><a href=\"cells/matrix-" + cell +
           "/results.json\">" + text + "</a></td>";
  };
  EXPECT_THAT(html, HasSubstr(td("#f4a6a6", "n--n", "none")));
  EXPECT_THAT(html, HasSubstr(td("#a8d8ea", "n--l", "local 0.01s")));
  EXPECT_THAT(html, HasSubstr(td("#b7e1b0", "l--n", "direct 0.02s")));
  EXPECT_THAT(html, HasSubstr(td("#f6d58e", "l--l", "derp")));
  EXPECT_THAT(html, Not(HasSubstr("not run")));
}

TEST(MatrixFiles, WritesAllThreeAndNamesTheFileItCannotWrite) {
  ScratchDir scratch;
  const Matrix m = TwoByTwo();
  const std::string dir = scratch / "matrix";
  WriteMatrixFiles(dir, m);
  EXPECT_EQ(ReadFile(dir + "/matrix.json"), MatrixJsonText(m));
  EXPECT_EQ(ReadFile(dir + "/matrix.md"), MatrixMarkdown(m));
  EXPECT_EQ(ReadFile(dir + "/matrix.html"), MatrixHtml(m));

  const std::string plain = scratch / "plain";
  WriteTextFile(plain, "x");
  try {
    WriteMatrixFiles(plain + "/matrix", m);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), StartsWith(plain + "/matrix: cannot create directory: "));
  }
}

}  // namespace
}  // namespace punchlab::results
