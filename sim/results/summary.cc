#include "results/summary.h"

#include "results/format.h"

namespace punchlab {
namespace results {

std::string FormatSummary(const Results& r) {
  size_t failed = 0;
  for (const ExpectationResult& e : r.expectations) failed += e.ok ? 0 : 1;
  std::string out = r.scenario + " (" + ToString(r.mode) + ", seed " + std::to_string(r.seed) +
                    ", " + FormatSeconds(r.stop_time) + "): ";
  if (r.expectations.empty()) {
    out += "no expectations\n";
  } else if (failed == 0) {
    out += "all " + std::to_string(r.expectations.size()) + " expectations hold\n";
  } else {
    out += std::to_string(failed) + " of " + std::to_string(r.expectations.size()) +
           " expectations failed\n";
  }
  for (const ExpectationResult& e : r.expectations) {
    out += std::string("  ") + (e.ok ? "\u2713 " : "\u2717 ") + e.text + ": " + e.observed;
    if (!e.ok && e.where.line > 0) {
      out += " (" + r.file + ":" + std::to_string(e.where.line) + ":" +
             std::to_string(e.where.column) + ")";
    }
    out += "\n";
  }
  if (!r.pairs.empty()) out += "pairs:\n";
  for (const PairSummary& p : r.pairs) {
    out += "  " + p.a + " - " + p.b + ": " +
           (p.time_to_direct ? "direct after " + FormatSeconds(*p.time_to_direct) +
                                   " (first send " + FormatSeconds(*p.first_send) +
                                   ", first round trip direct both ways " +
                                   FormatSeconds(*p.direct_at) + ")"
                             : std::string("never direct")) +
           ", final path " + scenario::ToString(p.final_path);
    for (const auto& [kind, pct] : p.rtt) {
      out += std::string(", rtt ") + ToString(kind) + " p50 " + FormatMillis(pct.p50) + " (" +
             std::to_string(pct.samples) + ")";
    }
    if (p.probes_sent > 0) {
      out += ", " + std::to_string(p.probes_lost) + " of " + std::to_string(p.probes_sent) +
             " probes lost";
    }
    out += "\n";
  }
  for (const std::string& note : r.notes) out += "note: " + note + "\n";
  return out;
}

}  // namespace results
}  // namespace punchlab
