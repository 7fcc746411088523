#include "realio/monotonic-clock.h"

#include <chrono>

namespace punchlab::realio {

Timestamp MonotonicNow() {
  static const auto start = std::chrono::steady_clock::now();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return Timestamp::FromNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
}

}  // namespace punchlab::realio
