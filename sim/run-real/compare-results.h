// `punchlab compare`: one scenario's results from ns-3 and from the real lab,
// side by side. Expectations are matched by their position in the file (the
// same scenario gives both runs the same list); pairs by their two names.
// Pure, unit-tested; cmd-compare.cc runs the two worlds and prints this.
//
// JSON (one object per scenario in `punchlab compare --json`'s "scenarios"):
//   {"scenario": "home-vs-office", "file": "scenarios/home-vs-office.yaml",
//    "sim_dir": "compare/home-vs-office/sim", "real_dir": "compare/home-vs-office/real",
//    "agree": false,
//    "expectations": [
//      {"line": 21, "column": 5, "text": "laptop-workstation path derp by 10s",
//       "sim": {"ok": true, "observed": "derp at 10s", "observed_value": null},
//       "real": {"ok": false, "observed": "direct at 10s", "observed_value": null},
//       "agree": false}],
//    "pairs": [
//      {"a": "laptop", "b": "workstation",
//       "sim": {"time_to_direct_s": null, "final_path": "derp"},
//       "real": {"time_to_direct_s": 0.101, "final_path": "direct"},
//       "time_to_direct_diff_s": null}],
//    "notes": {"sim": [], "real": ["..."]}}
// time_to_direct_diff_s is real minus sim, null unless both went direct. A
// pair seen in one world only has null for the other world's object.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/results.h"

namespace punchlab::runreal {

struct ExpectationComparison {
  scenario::SourcePos where;
  std::string text;
  const results::ExpectationResult* sim = nullptr;
  const results::ExpectationResult* real = nullptr;
  bool agree() const { return sim && real && sim->ok == real->ok; }
};

struct PairComparison {
  std::string a;
  std::string b;
  const results::PairSummary* sim = nullptr;  // null: no such pair in that world
  const results::PairSummary* real = nullptr;
  // real - sim, when both reached a direct path.
  std::optional<Duration> time_to_direct_diff() const;
};

struct ScenarioComparison {
  std::string scenario;
  std::string file;
  std::string sim_dir;
  std::string real_dir;
  const results::Results* sim = nullptr;
  const results::Results* real = nullptr;
  std::vector<ExpectationComparison> expectations;
  std::vector<PairComparison> pairs;
  // Every expectation came out the same in both worlds.
  bool agree() const;
};

// `sim` and `real` must outlive the comparison.
ScenarioComparison CompareResults(const results::Results& sim, const results::Results& real,
                                  std::string sim_dir, std::string real_dir);

nlohmann::json ToJson(const ScenarioComparison& c);
// The human report: one line per expectation and pair, then the notes.
std::string FormatComparison(const ScenarioComparison& c);

}  // namespace punchlab::runreal
