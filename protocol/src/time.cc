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

}  // namespace punchlab
