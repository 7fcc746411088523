// The scenario model: what a scenario file says, after validation. Every
// quantity is converted (durations as Duration, bit rates in bits/s, sizes in
// bytes, loss as a fraction 0..1), every default applied (nodes inherit the
// file's `defaults`), every name checked and every NAT nesting resolved into a
// chain. Independent of ns-3 and of the real lab: each driver translates it
// into its own world. All times count from the start of the run (0s).
//
// The keys, their defaults and their meaning are documented in one place:
// schema.cc (printed by `punchlab schema`, committed as scenarios/REFERENCE.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "punchlab/nat/firewall.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/port-mapping.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/time.h"

namespace punchlab {
namespace scenario {

// 1-based position in the scenario file, so a driver can point at the entry a
// verdict is about. line 0: not from the file.
struct SourcePos {
  int line = 0;
  int column = 0;
};

// A link's properties, one way (both directions get the same).
struct Link {
  Duration latency;
  Duration jitter;             // delay varies by up to this much either way
  double loss = 0;             // fraction of packets dropped, 0..1
  uint64_t bandwidth_bps = 0;  // 0 = unlimited
};

struct DerpRegion {
  SourcePos where;
  int id = 0;
  std::string name;
  Duration latency;  // one way between the internet and the region's server
};

// control.acls[]: the nodes in src may reach those in dst ("*": every node
// of the domain). Checked by the loader: every name a node of `domain`.
struct AccessRuleDef {
  SourcePos where;
  std::string domain;
  std::vector<std::string> src;
  std::vector<std::string> dst;
};

struct ControlServer {
  Duration latency;  // one way between the internet and the server
  std::vector<std::string> domains;
  // How long a domain's changes wait to go out together (0: at once).
  Duration batch_delay;
  // Access rules (peer visibility); a domain with none: everyone sees everyone.
  std::vector<AccessRuleDef> acls;
};

// One box between a host and the internet.
struct Hop {
  enum class Kind : uint8_t { kNat, kFirewall };
  Kind kind = Kind::kNat;
  std::string name;
};

struct NatDef {
  SourcePos where;
  std::string name;
  std::string preset;      // the preset the knobs started from
  nat::NatConfig config;   // preset + knobs, built by nat::ParseNatSpec
  nat::PortMappingConfig port_mapping;  // what its router offers (none by default)
  SourcePos port_mapping_where;         // its `port_mapping:` entry, when written
  uint32_t external_ips = 1;
  std::string behind;      // the box this NAT's uplink hangs off; "" = the internet
  std::vector<Hop> chain;  // the boxes above this one, nearest first
  Link link;               // uplink to `behind` (or to the internet)
};

struct FirewallDef {
  SourcePos where;
  std::string name;
  nat::FirewallConfig config;
  std::string behind;      // "" = the internet
  std::vector<Hop> chain;  // the boxes above this one, nearest first
  Link link;
};

// The node's protocol timers a scenario may set (per node or in defaults);
// unset: the protocol core's default, Tailscale's (node-timers.h maps them
// onto node::NodeConfig).
struct NodeTimers {
  std::optional<Duration> heartbeat;         // ping the best path this often while active
  std::optional<Duration> trust_window;      // a pong keeps its path usable this long
  std::optional<Duration> idle_timeout;      // the session is active this long after a send
  std::optional<Duration> restun_interval;   // re-STUN every this to 1.3x this while active
  std::optional<Duration> upgrade_interval;  // look for a better direct path this often
  std::optional<Duration> ping_timeout;      // a ping without a pong is forgotten after this
  std::optional<Duration> persistent_keepalive;  // WireGuard's, to every peer; unset: off
  bool operator==(const NodeTimers& o) const {
    return heartbeat == o.heartbeat && trust_window == o.trust_window &&
           idle_timeout == o.idle_timeout && restun_interval == o.restun_interval &&
           upgrade_interval == o.upgrade_interval && ping_timeout == o.ping_timeout &&
           persistent_keepalive == o.persistent_keepalive;
  }
};

// A program a node runs instead of punchlab's own node (real lab only): any
// peer, or infrastructure on the internet side (a TURN server, a relay).
// Command, environment and files are templates: {{fact}} is filled in when
// the lab starts it (scenario/facts.h lists the facts). Paths between
// program nodes are judged from what the lab's wire carried, not from what
// the program says.
struct Program {
  SourcePos where;
  std::vector<std::string> command;  // argv; command[0] looked up in PATH
  std::vector<std::pair<std::string, std::string>> env;    // NAME, value
  std::vector<std::pair<std::string, std::string>> files;  // relative path, contents
  // Packets through this node count as relayed (path derp) between the
  // nodes on either side of it.
  bool relay = false;
  // A server the peers use (a coordination server): neither a peer nor a
  // relay; what it exchanges with them is no path between nodes.
  bool service = false;
  // A path counts as in use this long after the last packet that crossed it.
  Duration path_window = Duration::Seconds(3);
  // SIGTERM to its process group at the end of the run (or a restart),
  // SIGKILL to what is left of it this long after.
  Duration stop_grace = Duration::Seconds(2);
  // Unset: it must run until the end. Set: it must exit by itself with this.
  std::optional<int> expect_exit;
  // ECMAScript regexes; each must match a line of its stdout or stderr.
  std::vector<std::string> expect_output;
  // Output (and files it writes) beyond this: killed (SIGXFSZ), reported.
  uint64_t max_output_bytes = 16ull << 20;
  // More packets than this per second sent at any time: reported as a flood.
  uint64_t max_packet_rate = 20000;
};

struct NodeDef {
  SourcePos where;
  std::string name;
  std::string behind;      // the box whose LAN the node sits on; "" = public, on the internet
  std::vector<Hop> chain;  // every box between the node and the internet, nearest first
  Link link;               // the node's LAN link (or its link to the internet)
  std::string domain;
  Duration start;          // when the node's process starts
  // Its flows start its turn k of n times this / n late (probe-schedule.h).
  Duration start_skew = Duration::Seconds(1);
  NodeTimers timers;
  // What carries its data (punchlab/node/data-frame.h).
  node::DataPlane data_plane = node::DataPlane::kWireGuard;
  std::optional<Program> run;  // set: the node is this program, not punchlab-node
};

// [from, until)
struct Interval {
  Duration from;
  Duration until;
};

// `size_bytes` every `every` from `from` to `to` during [start, stop), except
// in the idle gaps.
struct Flow {
  SourcePos where;
  std::string from;
  std::string to;
  Duration start;
  Duration stop;
  Duration every;                   // from `rate` when the file gave one
  uint64_t size_bytes = 0;
  std::optional<uint64_t> rate_bps;  // as written, when the file gave a rate
  std::vector<Interval> idle;        // sorted, disjoint, inside [start, stop)
};

enum class TargetKind : uint8_t { kNode, kNat, kFirewall, kDerpRegion };
const char* ToString(TargetKind t);  // the YAML key: node, nat, firewall, derp_region

enum class Action : uint8_t {
  kSet,           // change the settings in Event::settings
  kRestart,       // node: a new process with the same node key and a new disco key
  kReboot,        // nat: every mapping lost, same external addresses
  kChangeAddress, // nat: every mapping lost, new external addresses
  kLinkDown,      // node, nat, firewall: its link stops carrying packets
  kLinkUp,
  kDown,          // derp_region: the server stops (connections drop)
  kUp,
};
const char* ToString(Action a);  // the YAML value: set, restart, reboot, change-address, ...

// What a kSet event changes; unset fields stay as they were. Link settings
// apply to a node's or box's link, `latency` alone to a DERP region.
struct Settings {
  std::optional<Duration> latency;
  std::optional<Duration> jitter;
  std::optional<double> loss;
  std::optional<uint64_t> bandwidth_bps;  // 0 = unlimited
  std::optional<nat::Dependence> mapping;  // NAT: new flows only; live mappings stay
  std::optional<bool> block_udp;           // firewall
};

struct Event {
  SourcePos where;
  Duration at;
  TargetKind target_kind = TargetKind::kNode;
  std::string target;
  Action action = Action::kSet;
  Settings settings;
  // Undo after this long: settings go back, a link or server comes back up.
  std::optional<Duration> duration;
};

// A node's path toward a peer (direct, derp, local, none), and a pair's: the
// path both sides use when they agree; asymmetric while both have a path but
// not the same one (data goes one way direct, the other over DERP); none
// while either side has no path (no round trip can complete).
enum class PathKind : uint8_t { kDirect, kDerp, kLocal, kNone, kAsymmetric };
const char* ToString(PathKind p);  // direct, derp, local, none, asymmetric

enum class CheckKind : uint8_t { kPath, kTimeToDirect, kRtt, kLoss };

// One thing that must hold between nodes a and b (either direction).
struct Expectation {
  SourcePos where;
  CheckKind check = CheckKind::kPath;
  std::string a;
  std::string b;
  // kPath: the path in use at `by`, or throughout [from, until) without `by`.
  PathKind path = PathKind::kDirect;
  std::optional<Duration> by;
  // The window for kPath (without `by`), kRtt and kLoss; kTimeToDirect
  // measures from `from` (until is stop_time there).
  Duration from;
  Duration until;
  std::optional<PathKind> over;  // kRtt, kLoss: only samples taken on this path
  Duration time_to_direct_max;   // kTimeToDirect
  std::optional<Duration> rtt_min;  // kRtt: at least one of the two is set (likewise loss_min/max)
  std::optional<Duration> rtt_max;
  double loss_min = 0;              // kLoss: fraction 0..1; 0 is no lower bound
  double loss_max = 1;              // kLoss: fraction 0..1; 1 is no upper bound
};

struct Scenario {
  std::string file;  // as given to the loader
  std::string name;
  std::string description;
  Duration stop_time;
  uint64_t seed = 0;
  bool disco_log = true;  // record the disco log (results::Results::disco_log)
  Link internet;
  std::vector<DerpRegion> derp_regions;
  ControlServer control;
  // In file order.
  std::vector<NatDef> nats;
  std::vector<FirewallDef> firewalls;
  std::vector<NodeDef> nodes;
  std::vector<Flow> traffic;
  std::vector<Event> events;
  std::vector<Expectation> expectations;

  const NodeDef* FindNode(std::string_view name) const;
  const NatDef* FindNat(std::string_view name) const;
  const FirewallDef* FindFirewall(std::string_view name) const;
  const DerpRegion* FindDerpRegion(std::string_view name) const;
};

}  // namespace scenario
}  // namespace punchlab
