// A results directory (sim/results/README.md): results.json, latency.csv and
// junit.xml, the directory created as needed (pcap/ is the runner's).
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

// Throws std::runtime_error naming the path when a file cannot be written.
void WriteResultsDirectory(const std::string& dir, const Results& results);

}  // namespace results
}  // namespace punchlab
