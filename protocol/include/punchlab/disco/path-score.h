// Which of two direct paths to a peer is better (after Tailscale's
// betterAddr): each path earns points, and a candidate replaces the current
// path only when it wins by more than a margin, so two paths of nearly equal
// latency do not flap.
//
// Points:
//   latency: the faster path earns the percentage by which it is faster
//            (integer, truncated): 80 ms vs 100 ms gives the 80 ms path 20;
//   loopback +50, else private/LAN (RFC 1918, CGNAT, ULA, link-local) +20:
//            same-LAN paths cost no transit and survive uplink failures;
//   IPv6 +10: no NAT in the way, so more robust.
// Unlike Tailscale, the margin applies to the point difference whatever the
// bonuses, so the rule is the same in both directions.
#pragma once

#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab {
namespace disco {

// Points `path` earns against a path with latency `other_rtt`.
int PathPoints(const Endpoint& path, Duration rtt, Duration other_rtt);

// True if `candidate` should replace `current`.
bool IsBetterPath(const Endpoint& candidate, Duration candidate_rtt, const Endpoint& current,
                  Duration current_rtt, int margin_points);

}  // namespace disco
}  // namespace punchlab
