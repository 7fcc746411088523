// Which of two direct paths to a peer is better: Tailscale's betterAddr
// (wgengine/magicsock), held against Tailscale's own test cases
// (tests/unit/disco/path-score-test.cc). Each path earns points, and more
// points win, except that a candidate whose only advantage is latency must
// be more than `margin_points` faster (Tailscale: 1), so two paths of nearly
// equal latency do not flap.
//
// Points:
//   latency: the faster path earns the percentage by which it is faster
//            (integer, truncated): 80 ms vs 100 ms gives the 80 ms path 20;
//   loopback +50, else link-local unicast (169.254/16, fe80::/10) +30, else
//            private (RFC 1918, ULA fc00::/7; not CGNAT's 100.64/10) +20:
//            same-LAN paths cost no transit and survive uplink failures;
//   IPv6 +10: no NAT in the way, so more robust.
// Not modelled: path MTU (Tailscale prefers a larger MTU on the same
// address) and peer relays (Geneve paths rank below direct ones).
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
