#include "punchlab/stun/rate-limit.h"

#include <algorithm>
#include <stdexcept>

namespace punchlab {
namespace stun {

SourceRateLimiter::SourceRateLimiter(RateLimitConfig config) : config_(config) {
  if (config_.per_second == 0 || config_.burst == 0 || config_.max_sources == 0) {
    throw std::invalid_argument("STUN rate limit: rate, burst and table size must be above 0");
  }
  interval_ = Duration::Seconds(1) / config_.per_second;
  tolerance_ = interval_ * (int64_t{config_.burst} - 1);
}

bool SourceRateLimiter::Allow(Timestamp now, const IpAddress& source) {
  auto it = arrival_.find(source);
  if (it == arrival_.end()) {
    if (arrival_.size() >= config_.max_sources) ForgetRefilled(now);
    if (arrival_.size() >= config_.max_sources) {
      ++stats_.table_full;
      return false;
    }
    it = arrival_.emplace(source, now).first;
  }
  const Timestamp due = std::max(it->second, now);
  if (due - now > tolerance_) {
    ++stats_.limited;
    return false;
  }
  it->second = due + interval_;
  ++stats_.allowed;
  return true;
}

void SourceRateLimiter::ForgetRefilled(Timestamp now) {
  if (now < next_sweep_) return;
  Timestamp earliest = Timestamp::Max();  // when the next survivor refills
  for (auto it = arrival_.begin(); it != arrival_.end();) {
    if (it->second <= now) {
      it = arrival_.erase(it);
    } else {
      earliest = std::min(earliest, it->second);
      ++it;
    }
  }
  // Not before a sweep could free something, and not more than once per
  // interval: a flood of new sources into a full table costs one pass over
  // the table per interval, not one per request.
  next_sweep_ = std::max(earliest, now + interval_);
}

}  // namespace stun
}  // namespace punchlab
