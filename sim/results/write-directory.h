// A results directory (sim/results/README.md): results.json, latency.csv,
// disco.csv and junit.xml, the directory created as needed (pcap/ is the runner's).
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

// Throws std::runtime_error naming the path when a file cannot be written.
void WriteResultsDirectory(const std::string& dir, const Results& results);

// Writes `text` to `path` (created or truncated, parent directories made);
// throws std::runtime_error naming the path on failure.
void WriteTextFile(const std::string& path, const std::string& text);

}  // namespace results
}  // namespace punchlab
