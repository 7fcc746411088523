// The command lines of the lab's processes (punchlab-node derp-server,
// control-server and node), built from the plan and the scenario, and what
// the scenario means in this lab (node endpoints, path classifier, token
// claims). Pure: the keys and tokens come in as text, so tests check the
// exact argv.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/flow-spec.h"
#include "punchlab/control/identity.h"
#include "punchlab/endpoint.h"
#include "run-real/lab-plan.h"
#include "scenario/meaning/path-classifier.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

// Every process also gets --duration: it ends by itself this long after the
// run should have stopped, even if the runner could not stop it.
constexpr Duration kProcessGrace = Duration::Seconds(30);

// A captured run's key logs (results/key-log.h) as absolute paths the
// processes append to; empty: not logged.
struct KeyLogFiles {
  std::string tls;      // the DERP servers' TLS sessions (DerpTls::keylog_file)
  std::string control;  // every control frame the control server and nodes seal
  std::string disco;    // every disco message the nodes send (needs --disco-log)
};

// A lab DERP server's TLS certificate (made by the lab, so a restarted server
// keeps it and the DERP map's pin stays true): files, and the pin.
struct DerpTls {
  std::string cert_file;
  std::string key_file;
  std::string pin;  // sha256-raw:HEX
  // Non-empty (runs with --pcap): where the server logs its TLS sessions'
  // secrets (--tls-keylog), so the captures decrypt.
  std::string keylog_file;
};

std::vector<std::string> DerpServerArgv(const std::string& node_bin, const HostPlan& server,
                                        const std::string& private_key, Duration stop_time,
                                        const DerpTls& tls);

// Where node `node` listens (--listen): its lab address and kNodePort.
Endpoint NodeEndpoint(const HostPlan& node);

// What decides the kind of each node's paths in this lab: every node's own
// endpoint (NodeEndpoint) under the scenario's rule (scenario/meaning/
// path-classifier.h, the ns-3 runner's too).
scenario::PathClassifier LabPathClassifier(const scenario::Scenario& scenario,
                                           const LabPlan& plan);

// The claims of node `node`'s token (scenario order): user and domain as the
// control plane names them (scenario/meaning/control-names.h).
control::IdentityClaims NodeClaims(const scenario::Scenario& scenario, size_t node,
                                   const NodePublicKey& key, Timestamp expires);

// `derp_public_keys[i]` (nodekey:...) is pinned for region i in the DERP
// map: nodes refuse a server there that presents another key. With
// key_logs.control, --control-keylog.
std::vector<std::string> ControlServerArgv(const std::string& node_bin, const LabPlan& plan,
                                           const scenario::Scenario& scenario,
                                           const std::string& idp_public_key,
                                           const std::string& private_key,
                                           const std::vector<std::string>& derp_public_keys,
                                           const std::vector<DerpTls>& derp_tls,
                                           const KeyLogFiles& key_logs = {},
                                           const std::string& acls_file = {});

struct NodeIdentity {
  std::string private_key;  // privkey:...
  std::string public_key;   // nodekey:...
  std::string token;        // pltoken1...
};

// The flows `node` sends: one per traffic entry from it, id = the entry's
// index in the file. `keys[i]` is node i's (scenario order) identity;
// `seed` the run's (it picks the start skew, scenario/meaning/probe-schedule.h).
std::vector<cli::FlowSpec> FlowsFrom(const scenario::Scenario& scenario, const std::string& node,
                                     const std::vector<NodeIdentity>& keys, uint64_t seed);

// The instant a run of punchlab-node started its flows from (its up, its
// up deadline, or its own --up-at): the at_ns of the first
// {"event":"flows_anchor"} line of its --json output (node/probe-traffic.h),
// exact to the nanosecond; nullopt when it has none (no flows, or stopped
// before they started).
std::optional<Duration> FlowsAnchorOf(const std::string& node_stdout);

// `timers`: the node's protocol timers from the scenario, as --timer flags;
// `disco_log`: the scenario's disco_log, as --disco-log; `asks_gateway`:
// the node asks its gateway (its uplink's) for a port mapping, --gateway
// (scenario/meaning/port-mapping.h).
// `data_plane`: the node's, as --data-plane. `start_at`: the run time the
// runner starts this process at (its schedule step), as --start-at: the
// probes due from then go even though the process comes up milliseconds later.
// `start_gate`: it also waits for the runner's line on stdin (schedule.h:
// gated), as --start-gate. `key_logs`: control and disco, as
// --control-keylog and --disco-keylog (this one only with `disco_log`).
// `up_deadline`, `up_at`: --up-deadline (the node's
// start + ProbeSchedule::kUpDeadline) and --up-at (the anchor an earlier run
// of the node started its flows from, FlowsAnchorOf: a restart keeps the
// flows' schedule).
std::vector<std::string> NodeArgv(const std::string& node_bin, const HostPlan& node,
                                  const std::string& control_address,
                                  const std::string& control_key, const NodeIdentity& identity,
                                  const std::vector<cli::FlowSpec>& flows, int64_t epoch_unix_ns,
                                  Duration stop_time, const scenario::NodeTimers& timers = {},
                                  bool disco_log = false, bool asks_gateway = false,
                                  node::DataPlane data_plane = node::DataPlane::kSealedFrame,
                                  std::optional<Duration> start_at = std::nullopt,
                                  bool start_gate = false, const KeyLogFiles& key_logs = {},
                                  std::optional<Duration> up_deadline = std::nullopt,
                                  std::optional<Duration> up_at = std::nullopt);

}  // namespace punchlab::runreal
