#include "punchlab/netcheck/home-region.h"

#include <stdexcept>

namespace punchlab {
namespace netcheck {

const char* HomeChangeReasonName(HomeChangeReason r) {
  switch (r) {
    case HomeChangeReason::kInitial: return "initial";
    case HomeChangeReason::kBetterLatency: return "better-latency";
    case HomeChangeReason::kHomeUnreachable: return "home-unreachable";
    case HomeChangeReason::kHomeRemoved: return "home-removed";
  }
  return "?";
}

HomeRegionSelector::HomeRegionSelector(HomeRegionConfig config) : config_(config) {
  if (config_.history <= Duration::Zero() || config_.min_improvement < Duration::Zero() ||
      config_.ratio_num <= 0 || config_.ratio_den <= 0) {
    throw std::invalid_argument("HomeRegionConfig: history and ratio must be positive");
  }
}

std::optional<Duration> HomeRegionSelector::BestRecent(RegionId id) const {
  std::optional<Duration> best;
  for (const auto& [at, latency] : history_) {
    auto it = latency.find(id);
    if (it != latency.end() && (!best || it->second < *best)) best = it->second;
  }
  return best;
}

std::optional<HomeRegionChange> HomeRegionSelector::Update(
    Timestamp now, const std::map<RegionId, Duration>& latency, const std::set<RegionId>& known) {
  history_.emplace_back(now, latency);
  while (now - history_.front().first > config_.history) history_.pop_front();

  const RegionId old = home_;
  auto change = [&](RegionId to, HomeChangeReason reason, std::string detail) {
    home_ = to;
    return HomeRegionChange{old, to, reason, std::move(detail)};
  };
  const bool old_known = old != kNoRegion && known.count(old) != 0;

  if (latency.empty()) {
    if (old != kNoRegion && !old_known) {
      return change(kNoRegion, HomeChangeReason::kHomeRemoved,
                    "home " + std::to_string(old) + " left the map; no region answered");
    }
    return std::nullopt;
  }

  // Only regions alive now compete; ties go to the lower id (map order).
  RegionId candidate = kNoRegion;
  Duration best;
  for (const auto& [id, d] : latency) {
    const Duration score = BestRecent(id).value_or(d);
    if (candidate == kNoRegion || score < best) {
      candidate = id;
      best = score;
    }
  }
  const std::string summary =
      "region " + std::to_string(candidate) + " best " + best.ToString();

  if (old == kNoRegion) return change(candidate, HomeChangeReason::kInitial, summary);
  if (candidate == old) return std::nullopt;
  if (!old_known) {
    return change(candidate, HomeChangeReason::kHomeRemoved,
                  summary + "; home " + std::to_string(old) + " left the map");
  }
  auto old_now = latency.find(old);
  if (old_now == latency.end()) {
    return change(candidate, HomeChangeReason::kHomeUnreachable,
                  summary + "; home " + std::to_string(old) + " did not answer");
  }
  const Duration cur = old_now->second;
  const bool clearly_better =
      cur - best >= config_.min_improvement &&
      best.nanos() * config_.ratio_den <= cur.nanos() * config_.ratio_num;
  if (!clearly_better) return std::nullopt;
  return change(candidate, HomeChangeReason::kBetterLatency,
                summary + " vs home " + std::to_string(old) + " now " + cur.ToString());
}

}  // namespace netcheck
}  // namespace punchlab
