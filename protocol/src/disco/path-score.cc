#include "punchlab/disco/path-score.h"

#include <cstdint>
#include <limits>

namespace punchlab {
namespace disco {

namespace {

constexpr int kLoopbackBonus = 50;
constexpr int kLinkLocalBonus = 30;
constexpr int kPrivateBonus = 20;
constexpr int kIpv6Bonus = 10;

// How many percent faster `rtt` is than `other_rtt` (0 if not faster),
// truncated like Tailscale's integer arithmetic.
int LatencyPoints(Duration rtt, Duration other_rtt) {
  if (rtt >= other_rtt || other_rtt <= Duration::Zero()) return 0;
  int64_t r = rtt < Duration::Zero() ? 0 : rtt.nanos();
  int64_t o = other_rtt.nanos();
  // Keep r * 100 inside int64 for absurdly long latencies.
  while (o > std::numeric_limits<int64_t>::max() / 100) {
    r /= 2;
    o /= 2;
  }
  return static_cast<int>(100 - r * 100 / o);
}

}  // namespace

int PathPoints(const Endpoint& path, Duration rtt, Duration other_rtt) {
  int points = LatencyPoints(rtt, other_rtt);
  if (path.ip.IsLoopback()) {
    points += kLoopbackBonus;
  } else if (path.ip.IsLinkLocalUnicast()) {
    points += kLinkLocalBonus;
  } else if (path.ip.IsPrivate()) {
    points += kPrivateBonus;
  }
  if (path.ip.is_v6()) points += kIpv6Bonus;
  return points;
}

bool IsBetterPath(const Endpoint& candidate, Duration candidate_rtt, const Endpoint& current,
                  Duration current_rtt, int margin_points) {
  if (candidate == current) return false;
  const int a = PathPoints(candidate, candidate_rtt, current_rtt);
  const int b = PathPoints(current, current_rtt, candidate_rtt);
  // A candidate whose only edge is latency must be more than the margin
  // faster; otherwise more points win.
  if (a <= margin_points && b == 0) return false;
  return a > b;
}

}  // namespace disco
}  // namespace punchlab
