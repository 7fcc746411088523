// Numbers in words for verdicts and summaries: short, fixed precision, no
// trailing zeros, the same text on every machine ("23.4s", "71.204ms", "0.4%").
#pragma once

#include <string>

#include "punchlab/time.h"

namespace punchlab {
namespace results {

std::string FormatSeconds(Duration d);   // millisecond precision: "23.412s", "10s"
std::string FormatMillis(Duration d);    // microsecond precision: "71.204ms"
std::string FormatPercent(double fraction);  // 0.004 -> "0.4%", three decimals at most

// Appends `value` with `decimals` digits after the point, trailing zeros
// kept: the text printf's "%.*f" writes (both round the exact binary value to
// nearest), at a fraction of its cost (no locale, no format string); for the
// CSV files' columns, a line per probe.
void AppendFixed(std::string& out, double value, int decimals);

}  // namespace results
}  // namespace punchlab
