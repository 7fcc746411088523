#include "results/format.h"

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

}  // namespace results
}  // namespace punchlab
