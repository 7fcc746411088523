#include "run-real/compare-results.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "results/format.h"

namespace punchlab::runreal {
namespace {

using json = nlohmann::json;

json ExpectationJson(const results::ExpectationResult* e) {
  if (!e) return nullptr;
  return {{"ok", e->ok},
          {"observed", e->observed},
          {"observed_value", e->observed_value ? json(*e->observed_value) : json(nullptr)}};
}

json PairJson(const results::PairSummary* p) {
  if (!p) return nullptr;
  return {{"time_to_direct_s", p->time_to_direct ? json(p->time_to_direct->seconds()) : json(nullptr)},
          {"final_path", scenario::ToString(p->final_path)}};
}

std::string Verdict(const results::ExpectationResult* e) {
  if (!e) return "missing";
  return e->ok ? "ok" : "failed";
}

std::string TimeToDirect(const results::PairSummary* p) {
  if (!p) return "no traffic";
  return p->time_to_direct ? results::FormatSeconds(*p->time_to_direct) : "never direct";
}

std::string SignedSeconds(Duration d) {
  return (d < Duration::Zero() ? "-" : "+") +
         results::FormatSeconds(d < Duration::Zero() ? Duration::Zero() - d : d);
}

}  // namespace

std::optional<Duration> PairComparison::time_to_direct_diff() const {
  if (!sim || !real || !sim->time_to_direct || !real->time_to_direct) return std::nullopt;
  return *real->time_to_direct - *sim->time_to_direct;
}

bool ScenarioComparison::agree() const {
  return std::all_of(expectations.begin(), expectations.end(),
                     [](const ExpectationComparison& e) { return e.agree(); });
}

ScenarioComparison CompareResults(const results::Results& sim, const results::Results& real,
                                  std::string sim_dir, std::string real_dir) {
  ScenarioComparison c;
  c.scenario = sim.scenario;
  c.file = sim.file;
  c.sim_dir = std::move(sim_dir);
  c.real_dir = std::move(real_dir);
  c.sim = &sim;
  c.real = &real;
  // Both runs judged the same scenario: the same expectations in file order.
  // Matching by position still keeps a mismatch visible instead of pairing
  // unrelated entries.
  for (const results::ExpectationResult& e : sim.expectations) {
    ExpectationComparison x{e.where, e.text, &e, nullptr};
    for (const results::ExpectationResult& r : real.expectations) {
      if (r.where.line == e.where.line && r.where.column == e.where.column) x.real = &r;
    }
    c.expectations.push_back(x);
  }
  for (const results::ExpectationResult& r : real.expectations) {
    const bool matched = std::any_of(c.expectations.begin(), c.expectations.end(),
                                     [&](const ExpectationComparison& x) { return x.real == &r; });
    if (!matched) c.expectations.push_back({r.where, r.text, nullptr, &r});
  }
  for (const results::PairSummary& p : sim.pairs) c.pairs.push_back({p.a, p.b, &p, nullptr});
  for (const results::PairSummary& p : real.pairs) {
    auto it = std::find_if(c.pairs.begin(), c.pairs.end(), [&](const PairComparison& x) {
      return x.a == p.a && x.b == p.b;
    });
    if (it == c.pairs.end()) {
      c.pairs.push_back({p.a, p.b, nullptr, &p});
    } else {
      it->real = &p;
    }
  }
  std::sort(c.pairs.begin(), c.pairs.end(), [](const PairComparison& x, const PairComparison& y) {
    return std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });
  return c;
}

json ToJson(const ScenarioComparison& c) {
  json expectations = json::array();
  for (const ExpectationComparison& e : c.expectations) {
    expectations.push_back({{"line", e.where.line},
                            {"column", e.where.column},
                            {"text", e.text},
                            {"sim", ExpectationJson(e.sim)},
                            {"real", ExpectationJson(e.real)},
                            {"agree", e.agree()}});
  }
  json pairs = json::array();
  for (const PairComparison& p : c.pairs) {
    const auto diff = p.time_to_direct_diff();
    pairs.push_back({{"a", p.a},
                     {"b", p.b},
                     {"sim", PairJson(p.sim)},
                     {"real", PairJson(p.real)},
                     {"time_to_direct_diff_s", diff ? json(diff->seconds()) : json(nullptr)}});
  }
  return {{"scenario", c.scenario},
          {"file", c.file},
          {"sim_dir", c.sim_dir},
          {"real_dir", c.real_dir},
          {"agree", c.agree()},
          {"expectations", expectations},
          {"pairs", pairs},
          {"notes", {{"sim", c.sim->notes}, {"real", c.real->notes}}}};
}

std::string FormatComparison(const ScenarioComparison& c) {
  std::ostringstream out;
  out << c.scenario << " (" << c.file << "): "
      << (c.agree() ? "simulation and real lab agree" : "simulation and real lab DIFFER") << "\n";
  for (const ExpectationComparison& e : c.expectations) {
    out << "  " << (e.agree() ? "= " : "≠ ") << c.file << ":" << e.where.line << ":"
        << e.where.column << ": " << e.text << "\n"
        << "      sim  " << Verdict(e.sim) << (e.sim ? ": " + e.sim->observed : "") << "\n"
        << "      real " << Verdict(e.real) << (e.real ? ": " + e.real->observed : "") << "\n";
  }
  for (const PairComparison& p : c.pairs) {
    out << "  pair " << p.a << " - " << p.b << ": time to direct sim " << TimeToDirect(p.sim)
        << ", real " << TimeToDirect(p.real);
    if (const auto diff = p.time_to_direct_diff()) out << " (real " << SignedSeconds(*diff) << ")";
    out << "; final path sim " << (p.sim ? scenario::ToString(p.sim->final_path) : "-")
        << ", real " << (p.real ? scenario::ToString(p.real->final_path) : "-") << "\n";
  }
  for (const std::string& n : c.real->notes) out << "  note (real): " << n << "\n";
  for (const std::string& n : c.sim->notes) out << "  note (sim): " << n << "\n";
  out << "  results: " << c.sim_dir << "/ and " << c.real_dir << "/\n";
  return out.str();
}

}  // namespace punchlab::runreal
