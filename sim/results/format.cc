#include "results/format.h"

#include <charconv>
#include <cstdio>

namespace punchlab {
namespace results {
namespace {

// printf with three decimals, then trailing zeros (and a bare point) dropped.
std::string Trimmed(double value, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s + unit;
}

}  // namespace

std::string FormatSeconds(Duration d) { return Trimmed(d.seconds(), "s"); }
std::string FormatMillis(Duration d) { return Trimmed(d.millis(), "ms"); }
std::string FormatPercent(double fraction) { return Trimmed(fraction * 100.0, "%"); }

void AppendFixed(std::string& out, double value, int decimals) {
  char buf[400];  // the longest double in fixed notation, 309 digits and the decimals
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
  out.append(buf, r.ptr);
}

}  // namespace results
}  // namespace punchlab
