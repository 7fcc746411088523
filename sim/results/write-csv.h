// latency.csv: one row per delivered (echoed) probe, in the order they were
// sent: time_s (6 decimals), src, dst, path it was sent on, rtt_ms (3 decimals).
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

std::string LatencyCsvText(const Results& results);

}  // namespace results
}  // namespace punchlab
