#include "results/write-csv.h"

#include <cstdio>

#include "results/evaluate.h"

namespace punchlab {
namespace results {

std::string LatencyCsvText(const Results& results) {
  // Node names are scenario names (letters, digits, '-', '_', '.'): no quoting needed.
  std::string out = std::string(kLatencyCsvHeader) + "\n";
  const Duration settled = results.stop_time - kInFlightGrace;
  for (const Probe& p : results.probes) {
    char time[32];
    std::snprintf(time, sizeof time, "%.6f", p.sent_at.seconds());
    out += std::string(time) + "," + p.src + "," + p.dst + "," + std::to_string(p.seq) + "," +
           scenario::ToString(p.path) + ",";
    if (p.echoed_at) {
      char rtt[32];
      std::snprintf(rtt, sizeof rtt, "%.3f", p.Rtt().millis());
      out += std::string(scenario::ToString(p.echo_path)) + "," + ToString(*p.RoundTrip()) + "," +
             rtt + "\n";
    } else {
      out += std::string(",") + (p.sent_at < settled ? "lost" : "in-flight") + ",\n";
    }
  }
  return out;
}

}  // namespace results
}  // namespace punchlab
