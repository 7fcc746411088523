// Every timing constant and bound of the per-peer path logic, in one place.
// Defaults are Tailscale magicsock's (PROTOCOL.md, "Hole punching timing");
// scenarios may override them to model other clients.
#pragma once

#include <cstddef>

#include "punchlab/time.h"

namespace punchlab {
namespace disco {

struct PathConfig {
  // Ping the best path this often while the session is active.
  Duration heartbeat_interval = Duration::Seconds(3);
  // A pong makes its path usable alone (without DERP) for this long: two
  // heartbeats plus slack, so two lost pongs in a row fall back to DERP.
  Duration trust_duration = Duration::Millis(6500);
  // The session is active while data was sent to the peer this recently;
  // heartbeats stop after that. Also how long a candidate learned from an
  // incoming ping stays without a new ping.
  Duration session_active_timeout = Duration::Seconds(45);
  // With a working direct path slower than good_enough_latency, ping every
  // candidate this often to look for a better one. (Without a trusted direct
  // path the search runs at every heartbeat and every send, limited only by
  // ping_interval per candidate, as in Tailscale.)
  Duration upgrade_interval = Duration::Seconds(60);
  // Discovery pings to one candidate at most this often (CallMeMaybe
  // overrides it: its pings go out at once). Heartbeats are not limited by it.
  Duration ping_interval = Duration::Seconds(5);
  // A ping with no pong after this long is forgotten; a later pong for it is
  // dropped as expired.
  Duration ping_timeout = Duration::Seconds(5);
  // A best path at or below this latency ends the search for better ones.
  Duration good_enough_latency = Duration::Millis(5);

  // Hysteresis: a path whose only advantage is latency must be more than
  // this many points (percent) faster to replace the current one
  // (path-score.h). 1 is Tailscale's betterAddr.
  int switch_margin_points = 1;

  // Bounds, so a misbehaving peer cannot grow our state without limit.
  size_t max_candidates = 100;          // Tailscale prunes at 100 too
  size_t max_outstanding_pings = 512;   // further pings are suppressed, counted
  size_t latency_history = 8;           // latency samples kept per candidate
  size_t remembered_txids = 256;        // answered/expired txids kept to classify late pongs
};

}  // namespace disco
}  // namespace punchlab
