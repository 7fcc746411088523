#include "results/format.h"

#include <charconv>
#include <cstdio>
#include <system_error>

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
  // Room for the longest double in fixed notation (a sign and 309 digits)
  // with up to ~85 decimals; more (or a failure of any kind) falls back on
  // printf itself, sized to fit, rather than appending a cut number.
  char buf[400];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals);
  if (r.ec == std::errc()) {
    out.append(buf, r.ptr);
    return;
  }
  const int size = std::snprintf(nullptr, 0, "%.*f", decimals, value);
  if (size <= 0) return;
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(size) + 1);
  std::snprintf(out.data() + at, static_cast<size_t>(size) + 1, "%.*f", decimals, value);
  out.resize(at + static_cast<size_t>(size));
}

}  // namespace results
}  // namespace punchlab
