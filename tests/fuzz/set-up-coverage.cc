// See set-up-coverage.h. Compiled without coverage instrumentation (its own
// edges would otherwise be counted, and cleared, in the middle of a run).
#include "set-up-coverage.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

extern "C" void __real___sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop);

namespace {

// Every counter region libFuzzer was given (one per instrumented module).
std::vector<std::pair<uint8_t*, uint8_t*>>& Regions() {
  static auto* regions = new std::vector<std::pair<uint8_t*, uint8_t*>>();  // never destroyed
  return *regions;
}

}  // namespace

extern "C" void __wrap___sanitizer_cov_8bit_counters_init(uint8_t* start, uint8_t* stop) {
  if (start != stop) Regions().emplace_back(start, stop);
  __real___sanitizer_cov_8bit_counters_init(start, stop);
}

namespace punchlab::fuzz {

void ForgetSetUpCoverage() {
  for (const auto& [start, stop] : Regions()) {
    std::memset(start, 0, static_cast<size_t>(stop - start));
  }
}

}  // namespace punchlab::fuzz
