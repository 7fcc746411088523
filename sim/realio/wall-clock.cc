#include "realio/wall-clock.h"

#include <chrono>

#include "realio/monotonic-clock.h"

namespace punchlab::realio {

Duration UnixEpochOffset() {
  static const Duration offset = [] {
    const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return Duration::Nanos(wall.count()) - (MonotonicNow() - Timestamp::Zero());
  }();
  return offset;
}

Timestamp UnixNow() { return MonotonicNow() + UnixEpochOffset(); }

}  // namespace punchlab::realio
