#include "punchlab/time.h"

namespace punchlab {

std::string Duration::ToString() const {
  struct Unit {
    int64_t ns;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
  if (ns_ == 0) return "0s";
  for (const Unit& u : kUnits) {
    if (ns_ % u.ns == 0) return std::to_string(ns_ / u.ns) + u.suffix;
  }
  return std::to_string(ns_) + "ns";
}

std::optional<Duration> Duration::Parse(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {{"ns", 1},          {"us", 1000},         {"ms", 1000000},
                                    {"s", 1000000000},  {"m", 60000000000LL}, {"h", 3600000000000LL}};
  size_t int_digits = 0;
  while (int_digits < text.size() && text[int_digits] >= '0' && text[int_digits] <= '9') ++int_digits;
  size_t end = int_digits;
  size_t frac_digits = 0;
  if (end < text.size() && text[end] == '.') {
    ++end;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end, ++frac_digits;
    if (frac_digits == 0) return std::nullopt;  // "1." is a typo, not a duration
  }
  if (int_digits == 0) return std::nullopt;  // ".5s" too
  const std::string_view suffix = text.substr(end);
  for (const Unit& u : kUnits) {
    if (suffix != u.suffix) continue;
    // value = int_part * u.ns + frac_part * u.ns / 10^frac_digits, all in int64.
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t whole = 0;
    for (size_t i = 0; i < int_digits; ++i) {
      const int digit = text[i] - '0';
      if (whole > (kMax / u.ns - digit) / 10) return std::nullopt;
      whole = whole * 10 + digit;
    }
    int64_t nanos = whole * u.ns;
    int64_t scale = u.ns;
    for (size_t i = 0; i < frac_digits; ++i) {
      const int digit = text[int_digits + 1 + i] - '0';
      if (scale % 10 != 0) {
        if (digit != 0) return std::nullopt;  // finer than a nanosecond
        continue;
      }
      scale /= 10;
      if (nanos > kMax - digit * scale) return std::nullopt;
      nanos += digit * scale;
    }
    return Duration(nanos);
  }
  return std::nullopt;
}

}  // namespace punchlab
