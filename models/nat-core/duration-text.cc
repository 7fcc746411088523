#include "nat-core/duration-text.h"

#include <cstdint>
#include <limits>

namespace punchlab {
namespace nat {

std::optional<Duration> ParseDuration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {{"ns", 1},          {"us", 1000},         {"ms", 1000000},
                                    {"s", 1000000000},  {"m", 60000000000LL}, {"h", 3600000000000LL}};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view suffix = text.substr(digits);
  for (const Unit& u : kUnits) {
    if (suffix != u.suffix) continue;
    const int64_t limit = std::numeric_limits<int64_t>::max() / u.ns;
    int64_t n = 0;
    for (size_t i = 0; i < digits; ++i) {
      const int digit = text[i] - '0';
      if (n > (limit - digit) / 10) return std::nullopt;
      n = n * 10 + digit;
    }
    return Duration::Nanos(n * u.ns);
  }
  return std::nullopt;
}

}  // namespace nat
}  // namespace punchlab
