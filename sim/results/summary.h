// The human summary `punchlab run` prints after a run: the verdict per
// expectation (✓/✗ with what was observed and where it is in the file), each
// pair's time to direct, final path, RTT medians and loss, and the notes.
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

std::string FormatSummary(const Results& results);

}  // namespace results
}  // namespace punchlab
