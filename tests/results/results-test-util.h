// Shared by the results suites: hand-made observations (timeline entries,
// probes) and expectations, so each test states only what it is about.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "results/evaluate.h"
#include "results/results.h"
#include "scenario/scenario.h"
#include "support/read-file.h"

namespace punchlab::results::testing {

using scenario::CheckKind;
using scenario::Expectation;

inline Duration Ms(int64_t n) { return Duration::Millis(n); }
inline Duration Sec(int64_t n) { return Duration::Seconds(n); }

// A run of `stop` seconds (60 s unless a test needs another) with nothing observed.
inline Results EmptyRun(Duration stop = Sec(60)) {
  Results r;
  r.scenario = "t";
  r.file = "t.yaml";
  r.stop_time = stop;
  return r;
}

inline PathChange Change(Duration at, const std::string& node, const std::string& peer,
                         PathKind path, const std::string& reason = "test") {
  PathChange c;
  c.at = at;
  c.node = node;
  c.peer = peer;
  c.path = path;
  c.detail = scenario::ToString(path);
  c.reason = reason;
  return c;
}

// Both sides of a pair switching at the same instant, `a`'s entry first.
inline void BothSwitch(Results& r, Duration at, const std::string& a, const std::string& b,
                       PathKind path) {
  r.timeline.push_back(Change(at, a, b, path));
  r.timeline.push_back(Change(at, b, a, path));
}

// A probe sent on `path` whose echo came back after `rtt`, on `echo_path`
// (the same path as the probe unless given).
inline Probe Echoed(const std::string& src, const std::string& dst, Duration sent, PathKind path,
                    Duration rtt, std::optional<PathKind> echo_path = std::nullopt) {
  Probe p;
  p.src = src;
  p.dst = dst;
  p.sent_at = sent;
  p.path = path;
  p.echoed_at = sent + rtt;
  p.echo_path = echo_path.value_or(path);
  return p;
}

inline Probe Lost(const std::string& src, const std::string& dst, Duration sent, PathKind path) {
  Probe p;
  p.src = src;
  p.dst = dst;
  p.sent_at = sent;
  p.path = path;
  return p;
}

// An expectation between a and b whose window is the whole 60 s run, as the
// loader fills from/until when the file leaves them out.
inline Expectation Between(const std::string& a, const std::string& b, CheckKind check) {
  Expectation e;
  e.a = a;
  e.b = b;
  e.check = check;
  e.from = Duration::Zero();
  e.until = Sec(60);
  return e;
}

inline Expectation PathBy(PathKind path, Duration by) {
  Expectation e = Between("alice", "bob", CheckKind::kPath);
  e.path = path;
  e.by = by;
  return e;
}

inline Expectation PathThroughout(PathKind path, Duration from, Duration until) {
  Expectation e = Between("alice", "bob", CheckKind::kPath);
  e.path = path;
  e.from = from;
  e.until = until;
  return e;
}

inline Expectation TimeToDirect(Duration max, Duration from = Duration::Zero()) {
  Expectation e = Between("alice", "bob", CheckKind::kTimeToDirect);
  e.time_to_direct_max = max;
  e.from = from;
  return e;
}

inline Expectation Rtt(std::optional<Duration> min, std::optional<Duration> max) {
  Expectation e = Between("alice", "bob", CheckKind::kRtt);
  e.rtt_min = min;
  e.rtt_max = max;
  return e;
}

// loss_max alone (loss_min stays 0: no lower bound).
inline Expectation Loss(double max) {
  Expectation e = Between("alice", "bob", CheckKind::kLoss);
  e.loss_min = 0;
  e.loss_max = max;
  return e;
}

// loss_min alone (loss_max stays 1: no upper bound), as a reproduction writes it.
inline Expectation LossAtLeast(double min) {
  Expectation e = Between("alice", "bob", CheckKind::kLoss);
  e.loss_min = min;
  e.loss_max = 1;
  return e;
}

// Runs the evaluator over `run` with these expectations; returns the run with
// its verdicts and pair summaries filled.
inline Results Evaluate(Results run, const std::vector<Expectation>& expectations) {
  scenario::Scenario s;
  s.name = run.scenario;
  s.file = run.file;
  s.stop_time = run.stop_time;
  s.expectations = expectations;
  EvaluateExpectations(s, run);
  return run;
}

// The verdict on one expectation.
inline ExpectationResult EvaluateOne(const Results& run, const Expectation& e) {
  Results out = Evaluate(run, {e});
  return out.expectations.empty() ? ExpectationResult{} : out.expectations.front();
}

// A fresh directory under the test temp dir, removed with everything in it
// when the test ends (ctest runs suites in parallel: names must not collide).
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "punchlab-results-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

using testsupport::ReadFile;

}  // namespace punchlab::results::testing
