// Per-source rate limit for a STUN server that faces the Internet.
//
// A Binding response is several times the size of its request (about 3.8x
// for a bare modern request), so an open STUN server is a reflector: someone
// who spoofs a victim's address as the source makes the server send the
// victim more than they sent (RFC 5389 / 8489 section 16.1.1 "Attack I",
// amplification). Limiting the answers per source IP bounds what one victim
// can receive, whatever the attacker sends.
//
// A token bucket per source IP, as a generic cell rate algorithm: each source
// has a theoretical arrival time; a request is allowed when it is no more
// than (burst - 1) intervals early. Integer nanoseconds, time injected: the
// same requests at the same instants give the same decisions.
//
// The table holds at most max_sources sources. A source whose bucket has
// refilled holds no state worth keeping, so a full table first forgets
// those (a pass over the table at most once per interval, and only once
// some bucket has refilled, so a flood of new sources cannot make each
// request scan the table); if it is still full, a new source is refused:
// under a flood of spoofed sources the server fails closed (no
// amplification) rather than open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <unordered_map>

#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab {
namespace stun {

struct RateLimitConfig {
  uint32_t per_second = 20;    // sustained requests per second per source IP; > 0
  uint32_t burst = 20;         // requests a quiet source may send at once; > 0
  size_t max_sources = 65536;  // sources tracked at once; > 0
};

struct RateLimitStats {
  uint64_t allowed = 0;
  uint64_t limited = 0;     // refused: the source sent faster than its rate
  uint64_t table_full = 0;  // refused: a new source while max_sources are busy
};

class SourceRateLimiter {
 public:
  // Throws std::invalid_argument for a zero rate, burst or table size (a
  // configuration error, not network input).
  explicit SourceRateLimiter(RateLimitConfig config);

  // Whether a request from `source` at `now` may be answered; counts it.
  bool Allow(Timestamp now, const IpAddress& source);

  const RateLimitConfig& config() const { return config_; }
  const RateLimitStats& stats() const { return stats_; }
  size_t sources() const { return arrival_.size(); }

 private:
  void ForgetRefilled(Timestamp now);

  RateLimitConfig config_;
  Duration interval_;   // 1 s / per_second
  Duration tolerance_;  // interval_ * (burst - 1)
  std::unordered_map<IpAddress, Timestamp> arrival_;  // theoretical arrival time
  Timestamp next_sweep_ = Timestamp::FromNanos(std::numeric_limits<int64_t>::min());
  RateLimitStats stats_;
};

}  // namespace stun
}  // namespace punchlab
