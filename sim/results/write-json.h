// results.json (sim/results/README.md, "format": "punchlab-results/2"): keys
// in the documented order, two-space indentation, numbers in nlohmann-json's
// shortest round-trip form, so the same Results always give the same bytes.
// Probes are not in it (latency.csv has every one); everything else is.
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

constexpr const char* kResultsFormat = "punchlab-results/2";

std::string ResultsJsonText(const Results& results);  // ends with a newline

}  // namespace results
}  // namespace punchlab
