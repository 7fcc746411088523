// Choosing the home (preferred DERP) region from successive netcheck reports,
// with hysteresis, after Tailscale's netcheck:
//
// * History: the region latencies of every report in the last `history`
//   (5 min) are kept; a region's score is its BEST latency over that window.
//   A low sample proves a short path exists, a high one may be queueing, so
//   one bad sample does not count against a region.
// * Candidate: among the regions that answered the CURRENT report (a region
//   must be alive now), the one with the lowest score; ties go to the lower id.
// * Keep the old home while it still answers, unless the candidate is clearly
//   better than the old home's CURRENT latency: better by at least
//   `min_improvement` (10 ms) AND below `ratio_num/ratio_den` (2/3) of it.
// * Move when the old home did not answer this report, or left the map.
// * A report in which no region answered changes nothing (no information; a
//   node whose UDP is blocked still reaches its home DERP over TCP), except
//   that a home that left the map is dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "punchlab/netcheck/report.h"
#include "punchlab/time.h"

namespace punchlab {
namespace netcheck {

struct HomeRegionConfig {
  Duration history = Duration::Seconds(300);
  Duration min_improvement = Duration::Millis(10);
  int64_t ratio_num = 2;
  int64_t ratio_den = 3;
};

enum class HomeChangeReason : uint8_t {
  kInitial,          // first home (from kNoRegion)
  kBetterLatency,    // the candidate beat the old home by both margins
  kHomeUnreachable,  // the old home did not answer this report
  kHomeRemoved,      // the old home is no longer in the region map
};
const char* HomeChangeReasonName(HomeChangeReason r);

struct HomeRegionChange {
  RegionId from = kNoRegion;
  RegionId to = kNoRegion;
  HomeChangeReason reason = HomeChangeReason::kInitial;
  std::string detail;  // for logs, e.g. "region 2 best 5ms vs home 1 now 20ms"
};

class HomeRegionSelector {
 public:
  // Throws std::invalid_argument for a non-positive history or ratio.
  explicit HomeRegionSelector(HomeRegionConfig config = {});

  // Adds one report's latencies (taken at `now`) to the history and decides
  // the home. `known` holds the ids of the regions currently in the map.
  std::optional<HomeRegionChange> Update(Timestamp now,
                                         const std::map<RegionId, Duration>& latency,
                                         const std::set<RegionId>& known);

  RegionId home() const { return home_; }
  // Best latency of `id` over the history window as of the last Update.
  std::optional<Duration> BestRecent(RegionId id) const;
  size_t history_size() const { return history_.size(); }

 private:
  HomeRegionConfig config_;
  RegionId home_ = kNoRegion;
  std::deque<std::pair<Timestamp, std::map<RegionId, Duration>>> history_;  // oldest first
};

}  // namespace netcheck
}  // namespace punchlab
