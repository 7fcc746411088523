// What a scenario's node timers mean for the protocol core: NodeTimers
// (scenario.h, the YAML keys heartbeat, trust_window, idle_timeout,
// restun_interval, upgrade_interval, ping_timeout, persistent_keepalive) onto
// node::NodeConfig, for
// both runners (ns-3 sets the config directly; the real lab passes the same
// values to punchlab-node as --timer NAME=DURATION flags, which apply them
// with this same function).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "punchlab/node/node.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

// The timers' YAML names, in a fixed order.
const std::vector<std::string>& NodeTimerNames();

// Overrides the fields of `config` the timers set; leaves the rest alone.
// restun_interval R re-STUNs every R to 1.3 R (Tailscale's 20 s to 26 s).
void ApplyNodeTimers(const NodeTimers& timers, node::NodeConfig& config);

// "heartbeat=1s" for each timer that is set, in NodeTimerNames() order.
std::vector<std::string> NodeTimerArgs(const NodeTimers& timers);
// Sets one timer from NAME=DURATION; an error message (naming the timers or
// the bad duration) when it is not one.
std::optional<std::string> SetNodeTimer(NodeTimers& timers, const std::string& name_eq_value);

}  // namespace scenario
}  // namespace punchlab
