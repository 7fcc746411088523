#include "results/write-csv.h"

#include "results/evaluate.h"
#include "results/format.h"

namespace punchlab {
namespace results {

std::string LatencyCsvText(const Results& results) {
  // Node names are scenario names (letters, digits, '-', '_', '.'): no quoting needed.
  std::string out = std::string(kLatencyCsvHeader) + "\n";
  out.reserve(out.size() + results.probes.size() * 64);
  const Duration settled = results.stop_time - kInFlightGrace;
  for (const Probe& p : results.probes) {
    AppendFixed(out, p.sent_at.seconds(), 6);
    ((((out += ',') += p.src) += ',') += p.dst) += ',';
    (out += std::to_string(p.seq)) += ',';
    (out += scenario::ToString(p.path)) += ',';
    if (p.echoed_at) {
      (((out += scenario::ToString(p.echo_path)) += ',') += ToString(*p.RoundTrip())) += ',';
      AppendFixed(out, p.Rtt().millis(), 3);
      out += '\n';
    } else {
      ((out += ',') += (p.sent_at < settled ? "lost" : "in-flight")) += ",\n";
    }
  }
  return out;
}

}  // namespace results
}  // namespace punchlab
