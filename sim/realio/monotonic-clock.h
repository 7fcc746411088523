// Real time for the real-socket host: CLOCK_MONOTONIC as a punchlab Timestamp,
// counted from the first call so logs start near zero.
#pragma once

#include "punchlab/time.h"

namespace punchlab::realio {

Timestamp MonotonicNow();

}  // namespace punchlab::realio
