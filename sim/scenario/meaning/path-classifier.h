// What kind of path a scenario's node uses to a peer: direct, derp, local or
// none. The one definition both runners use for the path timeline and every
// probe (run-sim/path-recorder and traffic-driver in ns-3, run-real/node-log
// in the real lab), so the two worlds' results compare line by line.
//
// "local": the datagram goes from the sender's own endpoint to the peer's own
// endpoint (interface address AND port: no NAT translated either end) and the
// two nodes sit on the same LAN (behind the same NAT or firewall), so it
// crosses no box. Any other direct path is "direct" (it crossed a NAT, a
// firewall or the internet). A node that reports a DERP region is on "derp".
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/node/events.h"
#include "punchlab/node/node.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

class PathClassifier {
 public:
  // `own[i]`: where node i (scenario order) receives in this world, i.e. its
  // interface address and node port. The scenario must outlive the classifier.
  PathClassifier(const Scenario& scenario, std::vector<Endpoint> own);

  // A datagram from node `from` to node `to` (scenario indices) seen with
  // source `src` and destination `dst` (at the sender: its own endpoint and
  // where it sent; at the receiver: where it came from and its own
  // endpoint): kLocal or kDirect.
  PathKind Direct(size_t from, size_t to, const Endpoint& src, const Endpoint& dst) const;

  // The path node `from` says it uses to node `to` (node::Path): kDerp,
  // kNone, or for a direct path Direct(from, to, from's own endpoint, the
  // path's endpoint).
  PathKind Classify(size_t from, size_t to, const node::Path& path) const;

  // The path a probe from `from` to `to` is counted on, from what the
  // node's Send said and the path it had then: sent direct, Classify(path);
  // handed to DERP or queued (waiting for its DERP connection or for a
  // WireGuard handshake), kDerp: a queued probe leaves only when the wait is
  // over, on whatever path the node has then, so it never counts as having
  // crossed the direct path when it was sent; refused, kNone (lost at the
  // sender).
  PathKind ClassifyProbe(size_t from, size_t to, node::SendResult sent,
                         const node::Path& path) const;

  // The node's index in scenario order; size() when there is none.
  size_t NodeIndex(std::string_view name) const;
  size_t size() const { return own_.size(); }  // the scenario's node count
  const Endpoint& Own(size_t node) const { return own_.at(node); }

 private:
  const Scenario& scenario_;
  std::vector<Endpoint> own_;
};

}  // namespace scenario
}  // namespace punchlab
