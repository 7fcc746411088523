#include "scenario/units.h"

#include <charconv>
#include <string>

namespace punchlab {
namespace scenario {

namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// "12.5xyz" -> number "12.5", unit "xyz". False without leading digits or
// with a '.' not followed by digits.
bool SplitNumber(std::string_view text, std::string_view& whole, std::string_view& fraction,
                 std::string_view& unit) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return false;
  whole = text.substr(0, i);
  fraction = {};
  if (i < text.size() && text[i] == '.') {
    const size_t start = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) return false;
    fraction = text.substr(start, i - start);
  }
  unit = text.substr(i);
  return true;
}

// whole.fraction * factor, exactly, or nullopt when it overflows or is not
// a whole number.
std::optional<uint64_t> Scale(std::string_view whole, std::string_view fraction,
                              uint64_t factor) {
  uint64_t w = 0;
  for (char ch : whole) {
    if (__builtin_mul_overflow(w, uint64_t{10}, &w) ||
        __builtin_add_overflow(w, static_cast<uint64_t>(ch - '0'), &w)) {
      return std::nullopt;
    }
  }
  uint64_t result = 0;
  if (__builtin_mul_overflow(w, factor, &result)) return std::nullopt;
  // fraction digits d1 d2 ... dk: sum of di * factor / 10^i, exact only when
  // the total divides out; 18 digits keep 10^k within 64 bits.
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > 18) return std::nullopt;
  uint64_t f = 0;
  uint64_t scale = 1;
  for (char ch : fraction) {
    f = f * 10 + static_cast<uint64_t>(ch - '0');
    scale *= 10;
  }
  uint64_t scaled = 0;
  if (__builtin_mul_overflow(f, factor, &scaled) || scaled % scale != 0) return std::nullopt;
  if (__builtin_add_overflow(result, scaled / scale, &result)) return std::nullopt;
  return result;
}

template <size_t N>
std::optional<uint64_t> ParseWithUnits(std::string_view text, const Unit (&units)[N]) {
  std::string_view whole, fraction, unit;
  if (!SplitNumber(text, whole, fraction, unit)) return std::nullopt;
  for (const Unit& u : units) {
    if (unit == u.name) return Scale(whole, fraction, u.factor);
  }
  return std::nullopt;
}

constexpr uint64_t kKi = 1024;

}  // namespace

std::optional<uint64_t> ParseBitRate(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"bit", 1},           {"kbit", 1000},          {"Kbit", 1000},
      {"Mbit", 1000000},    {"mbit", 1000000},       {"Gbit", 1000000000},
      {"gbit", 1000000000}, {"Kibit", kKi},          {"Mibit", kKi * kKi},
      {"Gibit", kKi * kKi * kKi},
  };
  if (text.size() > 2 && text.substr(text.size() - 2) == "/s") text.remove_suffix(2);
  return ParseWithUnits(text, kUnits);
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"B", 1},         {"kB", 1000},          {"KB", 1000},
      {"MB", 1000000},  {"GB", 1000000000},    {"KiB", kKi},
      {"MiB", kKi * kKi}, {"GiB", kKi * kKi * kKi},
  };
  return ParseWithUnits(text, kUnits);
}

std::optional<double> ParsePercent(std::string_view text) {
  std::string_view whole, fraction, unit;
  if (!SplitNumber(text, whole, fraction, unit) || unit != "%") return std::nullopt;
  double value = 0;
  const std::string_view number = text.substr(0, text.size() - 1);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || value > 100) {
    return std::nullopt;
  }
  return value / 100;
}

bool IsBareNumber(std::string_view text) {
  std::string_view whole, fraction, unit;
  return SplitNumber(text, whole, fraction, unit) && unit.empty();
}

}  // namespace scenario
}  // namespace punchlab
