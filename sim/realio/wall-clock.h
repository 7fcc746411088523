// The wall clock, for the few machines whose Timestamps must mean something
// outside this process: the coordination server compares identity tokens'
// `expires` (written by `punchlab-node issue-token`, possibly on another host)
// with its `now`. On real sockets both use nanoseconds since the Unix epoch.
//
// The offset is read once per process: UnixNow() then advances with the
// monotonic clock, so a wall-clock step (NTP, an admin) cannot move a
// machine's time backwards mid-run.
#pragma once

#include "punchlab/time.h"

namespace punchlab::realio {

// Add to MonotonicNow() to get nanoseconds since 1970-01-01T00:00:00Z (as
// Host::Options::clock_offset, for instance).
Duration UnixEpochOffset();
// MonotonicNow() + UnixEpochOffset().
Timestamp UnixNow();

}  // namespace punchlab::realio
