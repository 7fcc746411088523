#include "results/write-csv.h"

#include <cstdio>

namespace punchlab {
namespace results {

std::string LatencyCsvText(const Results& results) {
  // Node names are scenario names (letters, digits, '-', '_', '.'): no quoting needed.
  std::string out = "time_s,src,dst,path,rtt_ms\n";
  for (const Probe& p : results.probes) {
    if (!p.echoed_at) continue;
    char time[32];
    char rtt[32];
    std::snprintf(time, sizeof time, "%.6f", p.sent_at.seconds());
    std::snprintf(rtt, sizeof rtt, "%.3f", p.Rtt().millis());
    out += std::string(time) + "," + p.src + "," + p.dst + "," + scenario::ToString(p.path) +
           "," + rtt + "\n";
  }
  return out;
}

}  // namespace results
}  // namespace punchlab
