// A Node's disco-log event (punchlab/node/events.h: DiscoSent, DiscoReceived,
// CandidateLearned, TrustChanged, PathChanged as the path decision,
// WireGuardHandshake, and the node's own port-mapping events PortMapping*,
// which have no peer: DiscoStep::peer "") as a
// step of the disco log (results.h: DiscoStep). The one translation both
// runners use: the ns-3 runner's recorder, and punchlab-node, whose JSON
// lines the real runner reads back.
#pragma once

#include <optional>

#include "punchlab/node/events.h"
#include "results/results.h"

namespace punchlab {
namespace results {

struct NodeDiscoStep {
  NodePublicKey peer;
  DiscoStep step;  // without at, node and peer: the runner knows those
};

// nullopt for the events that are not disco steps.
std::optional<NodeDiscoStep> DiscoStepOf(const node::EventBody& body);

// The line punchlab-node prints for a step (`node --json --disco-log`), which
// the real runner reads back (run-real/node-log.h), without a newline:
// {"event":"disco","at_ms":...,"peer":"nodekey:...","what":...,"via":...,
//  "endpoint":...,"txid":...,"reason":...}
std::string DiscoStepJsonLine(const NodeDiscoStep& step, double at_ms);

// A line of the disco key log (key-log.h: pcap/disco-keys.log beside a run's
// captures): "<nonce hex> <plaintext hex>" of a sealed disco message the
// node sent, which analysis/wireshark/punchlab.lua reads to open it; "" when
// the event carries none.
std::string DiscoKeyLogLine(const node::DiscoSent& sent);

}  // namespace results
}  // namespace punchlab
