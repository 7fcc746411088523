#include "scenario/schema.h"

#include <algorithm>

#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/port-mapping.h"
#include "punchlab/node/data-frame.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

namespace {

template <typename E, int N>
std::vector<std::string> EnumNames() {
  std::vector<std::string> names;
  for (int i = 0; i < N; ++i) names.emplace_back(nat::ToString(static_cast<E>(i)));
  return names;
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const nat::NatPreset& p : nat::NatPresets()) names.emplace_back(p.name);
  return names;
}

std::vector<std::string> ActionNames() {
  std::vector<std::string> names;
  for (Action a : {Action::kRestart, Action::kReboot, Action::kChangeAddress, Action::kLinkDown,
                   Action::kLinkUp, Action::kDown, Action::kUp}) {
    names.emplace_back(ToString(a));
  }
  return names;
}

// A pair's path states (for `path`), or only the paths a probe can take (for `over`).
std::vector<std::string> PathNames(bool pair_states) {
  std::vector<std::string> names;
  for (PathKind p : {PathKind::kDirect, PathKind::kDerp, PathKind::kLocal, PathKind::kNone,
                     PathKind::kAsymmetric}) {
    const bool state_only = p == PathKind::kNone || p == PathKind::kAsymmetric;
    if (!state_only || pair_states) names.emplace_back(ToString(p));
  }
  return names;
}

// The link keys, shared by `internet` and every `link` (defaults differ).
void AddLinkKeys(std::vector<SchemaKey>& keys, std::string_view section,
                 const std::string& latency_default, const std::string& what) {
  auto add = [&](std::string key, ValueKind kind, std::string def, std::string example,
                 std::string description) -> SchemaKey& {
    SchemaKey k;
    k.section = std::string(section);
    k.key = std::move(key);
    k.kind = kind;
    k.default_kind = DefaultKind::kLiteral;
    k.default_text = std::move(def);
    k.example = std::move(example);
    k.description = std::move(description);
    keys.push_back(std::move(k));
    return keys.back();
  };
  add("latency", ValueKind::kDuration, latency_default, "latency: " + latency_default,
      "One-way delay " + what + ".")
      .aliases = {"delay", "rtt"};
  add("jitter", ValueKind::kDuration, "0ms", "jitter: 5ms",
      "The delay varies by up to this much either way, packet by packet.");
  add("loss", ValueKind::kPercent, "0%", "loss: 1%",
      "Fraction of packets dropped at random, each way.")
      .aliases = {"drop", "packet_loss"};
  add("bandwidth", ValueKind::kBitRate, "unlimited", "bandwidth: 10Mbit",
      "Capacity each way: unlimited, or a bit rate like 10Mbit.")
      .aliases = {"rate", "bw", "capacity"};
}

std::vector<SchemaKey> BuildKeys() {
  std::vector<SchemaKey> keys;
  std::string_view current;
  auto add = [&](std::string key, ValueKind kind, DefaultKind default_kind, std::string def,
                 std::string example, std::string description) -> SchemaKey& {
    SchemaKey k;
    k.section = std::string(current);
    k.key = std::move(key);
    k.kind = kind;
    k.default_kind = default_kind;
    k.default_text = std::move(def);
    k.example = std::move(example);
    k.description = std::move(description);
    keys.push_back(std::move(k));
    return keys.back();
  };
  using V = ValueKind;
  using D = DefaultKind;
  const std::vector<std::string> dependence = EnumNames<nat::Dependence, 3>();

  current = section::kTop;
  add("name", V::kText, D::kComputed, "the file name without .yaml", "name: home-vs-office",
      "What reports call the scenario.");
  add("description", V::kText, D::kLiteral, "\"\"",
      "description: laptop at home, workstation behind a symmetric NAT",
      "A sentence or two for people: what the scenario shows.");
  add("stop_time", V::kDuration, D::kLiteral, "60s", "stop_time: 2m",
      "How long the run lasts. Every time in the file counts from the start of the run (0s) "
      "and lies within stop_time.")
      .aliases = {"duration", "stop", "end", "end_time", "run_time"};
  add("seed", V::kInteger, D::kLiteral, "1", "seed: 7",
      "Seeds every random choice (keys, ports, loss, jitter): the same file and seed give the "
      "same simulated run.")
      .aliases = {"random_seed", "rng_seed"};
  add("disco_log", V::kBool, D::kLiteral, "true", "disco_log: false",
      "Record every disco ping, pong and CallMeMaybe, every candidate learned, every trust "
      "change and path decision, per pair with the reason, in results.json (disco_log) and "
      "disco.csv. Off for crowds, where nobody reads it and it costs time and memory.")
      .aliases = {"disco", "discolog"};
  add("internet", V::kMap, D::kLiteral, "{}", "internet: {latency: 20ms, loss: 0.1%}",
      "The internet: what lies between public nodes, NATs' and firewalls' uplinks, DERP "
      "servers and the control server.")
      .subsection = std::string(section::kInternet);
  add("derp", V::kMap, D::kLiteral, "{}", "derp: {regions: [{id: 1, name: fra, latency: 15ms}]}",
      "The DERP relays.")
      .subsection = std::string(section::kDerp);
  keys.back().aliases = {"relays", "relay"};
  add("control", V::kMap, D::kLiteral, "{}", "control: {domains: [home, corp]}",
      "The coordination (control) server.")
      .subsection = std::string(section::kControl);
  keys.back().aliases = {"coordination", "controller"};
  add("defaults", V::kMap, D::kLiteral, "{}", "defaults: {domain: corp, link: {latency: 2ms}}",
      "Node keys every node inherits unless it sets the key itself; link keys are inherited "
      "one by one.")
      .subsection = std::string(section::kNode);
  keys.back().aliases = {"default", "node_defaults"};
  add("nats", V::kNamedMaps, D::kLiteral, "{}", "nats: {home: {preset: full-cone}}",
      "The NATs, by name.")
      .subsection = std::string(section::kNat);
  keys.back().aliases = {"nat"};
  add("firewalls", V::kNamedMaps, D::kLiteral, "{}", "firewalls: {corp-fw: {block_udp: true}}",
      "Stateful firewalls that do not translate, by name.")
      .subsection = std::string(section::kFirewall);
  keys.back().aliases = {"firewall"};
  add("nodes", V::kNamedMaps, D::kRequired, "", "nodes: {laptop: {behind: home}, server: {}}",
      "The peers, by name: at least one.")
      .subsection = std::string(section::kNode);
  keys.back().aliases = {"node", "peers", "hosts"};
  add("traffic", V::kList, D::kLiteral, "[]",
      "traffic: [{from: laptop, to: server, every: 100ms}]",
      "Application packets between nodes.")
      .subsection = std::string(section::kTraffic);
  keys.back().aliases = {"flows"};
  add("events", V::kList, D::kLiteral, "[]", "events: [{at: 30s, nat: home, action: reboot}]",
      "Faults and changes at given times.")
      .subsection = std::string(section::kEvent);
  keys.back().aliases = {"faults", "event"};
  add("expect", V::kList, D::kLiteral, "[]",
      "expect: [{between: [laptop, server], path: direct, by: 10s}]",
      "What must hold; the run's exit code says whether all of it did.")
      .subsection = std::string(section::kExpect);
  keys.back().aliases = {"expectations", "expects", "checks", "assert"};

  AddLinkKeys(keys, section::kInternet, "20ms",
              "across the internet between any two things on it, on top of their own links");

  current = section::kDerp;
  add("regions", V::kList, D::kLiteral, "[{id: 1, name: default}]",
      "regions: [{id: 1, name: fra, latency: 15ms}, {id: 2, name: nyc, latency: 80ms}]",
      "The DERP regions, one server each; the server also answers STUN, as Tailscale's do. "
      "Nodes pick their home region by measured latency. [] means no relays at all.")
      .subsection = std::string(section::kDerpRegion);

  current = section::kDerpRegion;
  add("id", V::kInteger, D::kRequired, "", "id: 1",
      "Region id, unique, 1 to 65535. Without STUN answers a node falls back to the lowest id.");
  add("name", V::kName, D::kRequired, "", "name: fra", "Region name, unique; events use it.");
  add("latency", V::kDuration, D::kLiteral, "10ms", "latency: 15ms",
      "One-way delay between the internet and the region's server.");

  current = section::kControl;
  add("latency", V::kDuration, D::kLiteral, "10ms", "latency: 10ms",
      "One-way delay between the internet and the control server.");
  add("domains", V::kNameList, D::kLiteral, "[default]", "domains: [home, corp]",
      "The domains (tailnets) the server keeps apart: a node learns the keys and endpoints of "
      "the nodes in its own domain only.")
      .aliases = {"tailnets", "domain"};
  add("batch_delay", V::kDuration, D::kLiteral, "0s", "batch_delay: 800ms",
      "How long a domain's changes (nodes joining, leaving, new endpoints or home region) "
      "wait to go out together, as one update per node covering all of them, as headscale's "
      "batch_change_delay (800ms there) and a busy Tailscale map session coalesce them; a "
      "new node's whole netmap still goes out at once. 0s: each change goes out at once.")
      .aliases = {"batch", "coalesce", "batch_change_delay"};
  SchemaKey& acls = add("acls", V::kList, D::kLiteral, "[]",
      "acls: [{domain: corp, src: [laptop], dst: [nas, printer]}]",
      "Access rules, as the acls of Tailscale's policy file (every rule accepts): a domain "
      "with rules tells each node only the peers visible to it, those a rule lets it reach "
      "or lets reach it (peer visibility, as Tailscale and headscale's ReduceNodes do), so a "
      "big domain where each node talks to a few costs what they talk to, not the square of "
      "its size. A domain with no rule here lets everyone reach everyone (Tailscale's "
      "default policy). A node not visible to another never learns its key or endpoints: "
      "its probes to it are lost (path none), refused by the sender and counted (counter "
      "node/NAME sends_unknown_peer, in both worlds), and no path forms. Both runners give "
      "the same rules to the "
      "control server; it knows a node by its user, which is the node's name. Ports are "
      "not modeled, nor is a packet filter: a node that sees a peer takes its traffic.");
  acls.subsection = std::string(section::kAcl);
  acls.aliases = {"acl", "rules", "policy", "access"};

  current = section::kAcl;
  add("domain", V::kName, D::kComputed,
      "the domain of the first node it names; naming none, the only one of control.domains "
      "(with more, write it)", "domain: corp",
      "The domain the rule is for, one of control.domains; the nodes it names are in it "
      "(rules never cross domains).");
  add("src", V::kTextList, D::kRequired, "", "src: [laptop, phone]",
      "Who may reach dst: node names, or * for every node of the domain. [] names nobody (a "
      "rule {src: [], dst: []} gives a domain rules that let no one reach anyone).")
      .aliases = {"from", "source", "sources"};
  add("dst", V::kTextList, D::kRequired, "", "dst: [nas]",
      "Whom src may reach: node names, or * for every node of the domain.")
      .aliases = {"to", "destination", "destinations"};

  current = section::kNode;
  add("behind", V::kName, D::kLiteral, "internet", "behind: home",
      "The NAT or firewall whose inside network the node is on; internet: a public address, "
      "no NAT.")
      .aliases = {"nat", "parent", "upstream", "firewall"};
  add("link", V::kMap, D::kLiteral, "{}", "link: {latency: 2ms, loss: 1%}",
      "The node's LAN link to `behind` (to the internet when public).")
      .subsection = std::string(section::kLink);
  keys.back().aliases = {"lan", "uplink"};
  add("domain", V::kName, D::kLiteral, "default", "domain: corp",
      "The node's domain (tailnet), one of control.domains.")
      .aliases = {"tailnet"};
  add("start", V::kDuration, D::kLiteral, "0s", "start: 5s",
      "When the node's process starts: it then registers with control, runs STUN and "
      "connects to its home DERP region.")
      .aliases = {"start_time", "at", "starts"};
  // The node's protocol timers (node-timers.h); defaults are the protocol
  // core's, Tailscale magicsock's.
  add("heartbeat", V::kDuration, D::kUnset, "3s (the protocol core's, Tailscale's)", "heartbeat: 1s",
      "While data flows, ping the best direct path this often (keeps NAT mappings open and "
      "the path trusted).")
      .aliases = {"heartbeat_interval", "keepalive"};
  add("trust_window", V::kDuration, D::kUnset, "6.5s (the protocol core's, Tailscale's)", "trust_window: 10s",
      "A pong keeps its direct path usable on its own (without DERP) this long.")
      .aliases = {"trust_duration", "trust"};
  add("idle_timeout", V::kDuration, D::kUnset, "45s (the protocol core's, Tailscale's)", "idle_timeout: 2m",
      "The session to a peer stays active (heartbeats, discovery) this long after data was "
      "last sent to it.")
      .aliases = {"session_active_timeout", "session_timeout"};
  add("restun_interval", V::kDuration, D::kUnset, "20s (the protocol core's, Tailscale's)", "restun_interval: 10s",
      "While active, re-run STUN every this to 1.3 times this (a random point in between).")
      .aliases = {"restun", "stun_interval"};
  add("upgrade_interval", V::kDuration, D::kUnset, "60s (the protocol core's, Tailscale's)", "upgrade_interval: 30s",
      "With a working but slow direct path, ping every candidate this often for a better one.")
      .aliases = {"upgrade"};
  add("ping_timeout", V::kDuration, D::kUnset, "5s (the protocol core's, Tailscale's)", "ping_timeout: 2s",
      "A disco ping without a pong is given up after this long.")
      .aliases = {"pong_timeout"};
  add("start_skew", V::kDuration, D::kLiteral, "1s", "start_skew: 3s",
      "Real senders never start at once: the seed puts the scenario's n nodes in an order, "
      "and the node k-th in it starts its flows (and resumes them after idle gaps) k/n of "
      "this late (its turn). A flow's first probe counts from when the node is up: "
      "registered with control and connected to its home DERP region (or registered, with "
      "no DERP region), as a user's program starts sending after `tailscale up`: it goes at "
      "the up plus the turn, or at the flow's start plus the turn if that is later. Only "
      "the start moves to the up: a resume after an idle gap stays at the gap's end plus "
      "the turn. A node not up by its start + 5 s sends from then plus its turn; a "
      "restarted node keeps the schedule its first run started from (its first up, or that "
      "deadline if it came first). The "
      "same in both worlds (the real lab starts its nodes within about a millisecond of "
      "their instant). So with the default two nodes that come up together start 500 ms "
      "apart, four 250 ms. It matters to WireGuard: peers whose first sends are closer "
      "together than the one-way delay both initiate and collide (wireguard-go has no "
      "tie-break; the next try is 5 s later, and senders with the same period under a third "
      "of a second may collide again for minutes, as real wireguard-go does: "
      "bench/README.md). Counted from the run's start instead, both nodes' first "
      "initiations waited for the DERP connection and left together (bench/README.md, "
      "session 12). 0s: the node's flows start as soon as it is up (or at their start, if "
      "later).")
      .aliases = {"skew", "send_skew"};
  add("data_plane", V::kChoice, D::kLiteral, "wireguard", "data_plane: sealed-frame",
      "What carries the node's data: wireguard (WireGuard transport messages after a "
      "Noise_IKpsk2 handshake, keepalives, rekeys, as Tailscale's; its handshakes retry "
      "every 5 s) or sealed-frame (punchlab's own frame: each payload in a NaCl box, no "
      "handshake).")
      .choices = {"wireguard", "sealed-frame"};
  keys.back().aliases = {"dataplane", "tunnel"};
  add("persistent_keepalive", V::kDuration, D::kUnset,
      "off (WireGuard's and Tailscale's default)", "persistent_keepalive: 25s",
      "With data_plane: wireguard, send each peer a keepalive after this long without "
      "sending it anything (Tailscale leaves it off: disco heartbeats keep active paths "
      "alive).")
      .aliases = {"persistentkeepalive", "wg_keepalive"};

  add("run", V::kMap, D::kUnset, "not set: the node is punchlab's own client",
      "run: {command: [sh, peer.sh], files: {peer.sh: \"exec my-peer {{nodes.bob.public_address}}\"}}",
      "Real lab only: the node is this program instead of punchlab's client, started in the "
      "node's namespace at `start`, stopped at stop_time. Its paths are judged from what the "
      "lab's wire carried.")
      .subsection = std::string(section::kRun);
  keys.back().aliases = {"program", "exec", "command"};

  current = section::kRun;
  add("command", V::kTextList, D::kRequired, "", "command: [wireguard-go, -f, wg0]",
      "The program and its arguments (the first looked up in PATH), run without a shell. "
      "Facts are filled in: {{self.address}}, {{nodes.NAME.public_address}}, ... (see "
      "Facts).")
      .aliases = {"cmd", "argv", "args"};
  add("env", V::kTextMap, D::kLiteral, "{}", "env: {PEER: \"{{nodes.bob.public_address}}\"}",
      "Environment variables added to the lab's, facts filled in.")
      .aliases = {"environment"};
  add("files", V::kTextMap, D::kLiteral, "{}", "files: {wg0.conf: \"[Interface]\\n...\"}",
      "Files written into the program's working directory (its current directory, "
      "{{dir}}) before it starts, facts filled in; names are relative paths.")
      .aliases = {"working_files", "config"};
  add("relay", V::kBool, D::kLiteral, "false", "relay: true",
      "The program relays between other nodes (a TURN server, a libp2p relay): the wire "
      "counts what goes through it as relayed (path derp).")
      .aliases = {"is_relay", "turn"};
  add("service", V::kBool, D::kLiteral, "false", "service: true",
      "The program serves the peers (a coordination server such as Tailscale's "
      "testcontrol): it is neither a peer nor a relay, so it gets no peer.* facts, the two "
      "peers keep theirs, and what it exchanges with them is no path between nodes.")
      .aliases = {"server", "infrastructure"};
  add("path_window", V::kDuration, D::kLiteral, "3s", "path_window: 5s",
      "A path between two program nodes counts as in use this long after the last packet "
      "the wire saw on it; longer than the program's keepalive.")
      .aliases = {"window", "hold"};
  add("stop_grace", V::kDuration, D::kLiteral, "2s", "stop_grace: 5s",
      "At stop_time (and at a restart) the program's process group gets SIGTERM, and "
      "SIGKILL this long after if any of it is left: what it forked must end too; so must "
      "what left the group (a daemon: double fork and setsid), found in the node's namespace.")
      .aliases = {"grace", "kill_after"};
  add("expect_exit", V::kInteger, D::kUnset, "not set: it must run until stop_time",
      "expect_exit: 0",
      "It must exit by itself before stop_time with this status (for programs that print "
      "their own verdict).")
      .aliases = {"exit", "exit_code", "status"};
  add("expect_output", V::kTextList, D::kLiteral, "[]", "expect_output: [\"^handshake ok\"]",
      "Regular expressions (ECMAScript); each must match a line of its stdout or stderr.")
      .aliases = {"output", "expect_line", "expect_lines"};
  add("max_output", V::kSize, D::kLiteral, "16MiB", "max_output: 1MiB",
      "A program that writes more than this (stdout, stderr or any file) is killed and "
      "reported as flooding its output.");
  add("max_packet_rate", V::kInteger, D::kLiteral, "20000", "max_packet_rate: 1000",
      "Packets per second it may send (measured by the wire over 100 ms); more is reported "
      "as a flood and fails the run.")
      .aliases = {"max_pps", "packet_rate"};

  AddLinkKeys(keys, section::kLink, "1ms", "of the link");

  current = section::kNat;
  add("preset", V::kChoice, D::kLiteral, "port-restricted-cone", "preset: symmetric",
      "The behaviour to start from (see NAT presets); the knobs below override it.")
      .choices = PresetNames();
  keys.back().aliases = {"type", "kind"};
  add("mapping", V::kChoice, D::kComputed, "the preset's",
      "mapping: address-and-port-dependent",
      "RFC 4787 mapping: on what besides the inside endpoint an external port depends "
      "(address-and-port-dependent = symmetric).")
      .choices = dependence;
  add("filtering", V::kChoice, D::kComputed, "the preset's", "filtering: endpoint-independent",
      "RFC 4787 filtering: which inbound packets a mapping lets through.")
      .choices = dependence;
  add("ports", V::kChoice, D::kComputed, "the preset's", "ports: random",
      "How a new mapping's external port is picked: the inside port when free, the next free "
      "one, or at random.")
      .choices = EnumNames<nat::PortAssignment, 3>();
  keys.back().aliases = {"port_assignment", "port_allocation"};
  add("port_range", V::kText, D::kComputed, "the preset's (1024-65535)",
      "port_range: 20000-20999", "The external ports the NAT hands out, FIRST-LAST.");
  add("hairpin", V::kBool, D::kComputed, "the preset's", "hairpin: true",
      "Whether hosts inside can reach each other at the NAT's external address.")
      .aliases = {"hairpinning"};
  add("pooling", V::kChoice, D::kComputed, "the preset's", "pooling: arbitrary",
      "With several external addresses: paired keeps each inside host on one address, "
      "arbitrary may use any address for each mapping. A port mapping's asked port "
      "(NAT-PMP's suggested port, UPnP AddPortMapping's external port) is taken on the "
      "inside host's address (paired) or on the first address where it is free (arbitrary).")
      .choices = EnumNames<nat::Pooling, 2>();
  add("refresh", V::kChoice, D::kComputed, "the preset's", "refresh: both",
      "Which packets keep a mapping alive: outbound only, or inbound too.")
      .choices = EnumNames<nat::Refresh, 2>();
  add("udp_timeout", V::kDuration, D::kComputed, "the preset's", "udp_timeout: 30s",
      "A UDP mapping no packet has refreshed for this long is dropped.")
      .aliases = {"mapping_timeout", "timeout", "udp_mapping_timeout", "mapping_lifetime"};
  add("tcp_established_timeout", V::kDuration, D::kComputed, "the preset's",
      "tcp_established_timeout: 2h", "Idle timeout of an established TCP mapping.");
  add("tcp_transitory_timeout", V::kDuration, D::kComputed, "the preset's",
      "tcp_transitory_timeout: 4m", "Idle timeout of a TCP mapping that is opening or closing.");
  add("external_ips", V::kInteger, D::kLiteral, "1", "external_ips: 2",
      "How many external addresses the NAT has, 1 to 16 (pooling matters with 2 or more).")
      .aliases = {"addresses", "external_addresses", "ips"};
  add("behind", V::kName, D::kLiteral, "internet", "behind: carrier",
      "The NAT or firewall whose inside network this NAT's uplink is on (a home NAT behind a "
      "carrier-grade NAT); internet: a public uplink.")
      .aliases = {"parent", "upstream", "nat"};
  add("link", V::kMap, D::kLiteral, "{}", "link: {latency: 5ms}",
      "The uplink to `behind` (to the internet when public).")
      .subsection = std::string(section::kLink);
  keys.back().aliases = {"uplink", "wan"};
  add("port_mapping", V::kMap, D::kUnset, "none: the router answers no port-mapping request",
      "port_mapping: {protocols: [pmp, pcp]}",
      "The router answers port-mapping requests from the nodes behind it (NAT-PMP, PCP, UPnP "
      "IGD): a granted mapping is an entry of this NAT's table, endpoint-"
      "independent both ways for its lease (RFC 6886 3.3, RFC 6887 11). The nodes ask as "
      "Tailscale's portmapper does and publish the mapped endpoint.")
      .subsection = std::string(section::kPortMapping);
  keys.back().aliases = {"portmap", "port_mapper", "upnp", "nat_pmp", "pcp"};

  const nat::PortMappingConfig port_mapping;
  current = section::kPortMapping;
  add("protocols", V::kNameList, D::kRequired, "", "protocols: [pmp, pcp]",
      "What the router offers, any of pmp (NAT-PMP, RFC 6886), pcp (PCP, RFC 6887) and upnp "
      "(UPnP IGD: SSDP on port 1900, WANIPConnection:2 over HTTP on port 2869, as miniupnpd; "
      "nat/upnp-igd.h).")
      .aliases = {"protocol", "services", "offers"};
  add("lease_limit", V::kDuration, D::kUnset, "what the client asks (Tailscale: 2h)",
      "lease_limit: 60s",
      "The longest lease the router grants; clients renew at half of what they are granted "
      "(UPnP: silently, and Tailscale, which never reads the lease back, renews after 3600 s "
      "whatever it got). Simulation only with pmp or upnp: the real lab refuses it there "
      "(miniupnpd's min_lifetime/max_lifetime bound PCP leases only).")
      .aliases = {"max_lease", "lifetime", "lease"};
  add("error", V::kChoice, D::kLiteral, nat::ToString(port_mapping.error),
      "error: out-of-resources",
      "Refuse every mapping request with this answer (NAT-PMP result 2/3/4, PCP 2/7/8); the "
      "probe's address request and ANNOUNCE still succeed.")
      .choices = {"none", "not-authorized", "network-failure", "out-of-resources"};
  keys.back().aliases = {"errors", "result", "result_code", "refuse"};
  add("answer_from", V::kChoice, D::kLiteral, nat::ToString(port_mapping.answer_from),
      "answer_from: lan-address",
      "Where answers come from: the gateway address the nodes asked, or the router's own LAN "
      "address (a failover pair's virtual gateway, tailscale#5502). Tailscale never hears "
      "such NAT-PMP/PCP answers; an SSDP answer it takes, and repoints its LOCATION at the "
      "gateway.")
      .choices = {"gateway", "lan-address"};
  keys.back().aliases = {"source", "reply_from", "answers_from"};
  add("keep_on_reboot", V::kBool, D::kLiteral, port_mapping.keep_on_reboot ? "true" : "false",
      "keep_on_reboot: true",
      "Whether a reboot keeps the leases (a router that stores them, as miniupnpd's lease "
      "file does) or loses them with every other mapping.")
      .aliases = {"persistent", "survives_reboot", "keep_mappings"};
  add("upnp_lease_error", V::kChoice, D::kLiteral, nat::ToString(port_mapping.upnp_lease_error),
      "upnp_lease_error: only-permanent-leases",
      "UPnP: refuse a mapping with a lease duration, granting only permanent ones (lease 0): "
      "invalid-args answers 402 (an ARRIS NVG578LX, tailscale#15223), only-permanent-leases "
      "725 (MikroTik RouterOS, tailscale#9343). Tailscale retries with lease 0.")
      .choices = {"none", "invalid-args", "only-permanent-leases"};
  keys.back().aliases = {"lease_error", "permanent_only", "only_permanent"};
  add("multicast_only", V::kBool, D::kLiteral, port_mapping.multicast_only ? "true" : "false",
      "multicast_only: true",
      "UPnP: answer only SSDP searches sent to 239.255.255.250, not those sent to the "
      "router's own address (a strict IGD such as tailscale#3197's eero).")
      .aliases = {"ssdp_multicast_only", "strict_ssdp"};

  const nat::FirewallConfig firewall;
  current = section::kFirewall;
  add("block_udp", V::kBool, D::kLiteral, firewall.block_udp ? "true" : "false",
      "block_udp: true",
      "Drop all UDP both ways, as some corporate firewalls do; events can switch it.")
      .aliases = {"udp_blocked", "no_udp"};
  add("udp_timeout", V::kDuration, D::kLiteral, firewall.timeouts.udp.ToString(),
      "udp_timeout: 60s",
      "A UDP flow with no packet either way for this long is forgotten: replies no longer pass.")
      .aliases = {"timeout", "mapping_timeout"};
  add("tcp_established_timeout", V::kDuration, D::kLiteral,
      firewall.timeouts.tcp_established.ToString(), "tcp_established_timeout: 2h",
      "Idle timeout of an established TCP flow.");
  add("tcp_transitory_timeout", V::kDuration, D::kLiteral,
      firewall.timeouts.tcp_transitory.ToString(), "tcp_transitory_timeout: 4m",
      "Idle timeout of a TCP flow that is opening or closing.");
  add("inbound_allow", V::kPortRules, D::kLiteral, "[]", "inbound_allow: [udp:41641]",
      "Local ports unsolicited inbound traffic may reach: udp:PORT, tcp:FIRST-LAST, or udp "
      "for every port.");
  add("outbound_allow", V::kPortRules, D::kLiteral, "[]", "outbound_allow: [tcp:443, udp:3478]",
      "If not empty, outbound traffic may only go to these remote ports; [] allows all.");
  add("behind", V::kName, D::kLiteral, "internet", "behind: office",
      "The NAT or firewall whose inside network this firewall's uplink is on; internet: a "
      "public uplink.")
      .aliases = {"parent", "upstream", "nat"};
  add("link", V::kMap, D::kLiteral, "{}", "link: {latency: 1ms}",
      "The uplink to `behind` (to the internet when public).")
      .subsection = std::string(section::kLink);
  keys.back().aliases = {"uplink", "wan"};

  current = section::kTraffic;
  add("from", V::kName, D::kRequired, "", "from: laptop", "The sending node.")
      .aliases = {"src", "source", "sender"};
  add("to", V::kName, D::kRequired, "", "to: server", "The receiving node, not the sender.")
      .aliases = {"dst", "destination", "receiver"};
  add("start", V::kDuration, D::kComputed, "when both nodes have started", "start: 5s",
      "The first packet; not before both nodes have started, and not before the sender is "
      "up (registered, home DERP region connected) plus its turn (start_skew).")
      .aliases = {"at", "begin"};
  add("stop", V::kDuration, D::kComputed, "stop_time", "stop: 50s",
      "No packets from then on.")
      .aliases = {"end", "until"};
  add("every", V::kDuration, D::kLiteral, "1s", "every: 100ms",
      "Time between packets (not with rate).")
      .aliases = {"interval", "period"};
  add("rate", V::kBitRate, D::kUnset, "not set (every applies)", "rate: 1Mbit",
      "Instead of every: send size-byte packets at this bit rate.")
      .aliases = {"bitrate", "bandwidth"};
  add("size", V::kSize, D::kLiteral, "200B", "size: 1200B",
      "Payload of each packet, 1B to " + std::to_string(MaxFlowPacketSize()) +
          "B (one UDP datagram with punchlab's framing).")
      .aliases = {"bytes", "length", "payload"};
  add("idle", V::kList, D::kLiteral, "[]", "idle: [{at: 20s, for: 2m}]",
      "Gaps with no packets, e.g. to let a NAT mapping expire.")
      .subsection = std::string(section::kIdle);
  keys.back().aliases = {"gaps", "pause", "pauses"};

  current = section::kIdle;
  add("at", V::kDuration, D::kRequired, "", "at: 20s",
      "Start of the gap, within the flow.")
      .aliases = {"from", "start"};
  add("for", V::kDuration, D::kRequired, "", "for: 2m",
      "Length of the gap; it ends by the flow's stop.")
      .aliases = {"duration", "length"};

  current = section::kEvent;
  add("at", V::kDuration, D::kRequired, "", "at: 30s", "When it happens, before stop_time.")
      .aliases = {"time", "when"};
  add("node", V::kName, D::kUnset, "not set", "node: laptop",
      "Target: a node. Give exactly one of node, nat, firewall, derp_region.");
  add("nat", V::kName, D::kUnset, "not set", "nat: home", "Target: a NAT.");
  add("firewall", V::kName, D::kUnset, "not set", "firewall: corp-fw", "Target: a firewall.");
  add("derp_region", V::kName, D::kUnset, "not set", "derp_region: fra",
      "Target: a DERP region, by name.")
      .aliases = {"region", "derp"};
  add("action", V::kChoice, D::kUnset, "not set: the event changes the settings it gives",
      "action: reboot",
      "What happens. node: restart (a new process: same node key, new disco key), link-down, "
      "link-up. nat: reboot (every mapping lost), change-address (every mapping lost, new "
      "external addresses), link-down, link-up. firewall: link-down, link-up. derp_region: "
      "down, up.")
      .choices = ActionNames();
  keys.back().aliases = {"do", "kind", "type"};
  add("latency", V::kDuration, D::kUnset, "not set", "latency: 300ms",
      "New one-way delay of the target's link; of a DERP region: between the internet and "
      "its server.")
      .aliases = {"delay"};
  add("jitter", V::kDuration, D::kUnset, "not set", "jitter: 20ms",
      "New jitter of the target's link (node, nat, firewall).");
  add("loss", V::kPercent, D::kUnset, "not set", "loss: 5%",
      "New loss of the target's link (node, nat, firewall).");
  add("bandwidth", V::kBitRate, D::kUnset, "not set", "bandwidth: 1Mbit",
      "New capacity of the target's link (node, nat, firewall): unlimited or a bit rate.");
  add("mapping", V::kChoice, D::kUnset, "not set", "mapping: address-and-port-dependent",
      "NAT only: map new flows this way from now on; live mappings keep theirs.")
      .choices = dependence;
  add("block_udp", V::kBool, D::kUnset, "not set", "block_udp: true",
      "Firewall only: start (true) or stop (false) dropping all UDP.");
  add("for", V::kDuration, D::kUnset, "not set: for good", "for: 10s",
      "Undo after this long: settings go back, link-down and down come back up. Not with "
      "restart, reboot, change-address, link-up or up.")
      .aliases = {"duration", "length"};

  current = section::kExpect;
  add("between", V::kNameList, D::kRequired, "", "between: [laptop, server]",
      "The two nodes, either way round.")
      .aliases = {"nodes", "peers", "pair"};
  add("path", V::kChoice, D::kUnset, "not set", "path: direct",
      "Check the path both sides use (what each node decided): direct (UDP through the NATs), "
      "derp (relayed), local (over a LAN both share), asymmetric (both have a path but not the "
      "same one, e.g. direct one way and DERP the other), none (at least one side has no path: "
      "they cannot reach each other; fails if a round trip completes in the window). With by, "
      "or throughout from-until.")
      .choices = PathNames(true);
  add("by", V::kDuration, D::kUnset, "not set", "by: 10s",
      "With path: the path is this one at this time.")
      .aliases = {"at", "before"};
  add("from", V::kDuration, D::kComputed, "when both nodes have started", "from: 20s",
      "Start of the window for path, rtt_min/rtt_max and loss_min/loss_max; for "
      "time_to_direct_max, "
      "when the clock starts.")
      .aliases = {"after", "since", "start"};
  add("until", V::kDuration, D::kComputed, "stop_time", "until: 50s", "End of the window.")
      .aliases = {"to", "end", "stop"};
  add("time_to_direct_max", V::kDuration, D::kUnset, "not set", "time_to_direct_max: 5s",
      "Within this long after from, a probe crosses the direct (or local) path both ways: "
      "measured on the wire, from from to the sending of the first probe sent at or after "
      "from whose probe and echo both went direct. With a program node (run:): until both "
      "sides' packets first reached each other directly, as the lab's wire saw them.")
      .aliases = {"time_to_direct", "ttd", "ttd_max"};
  add("rtt_min", V::kDuration, D::kUnset, "not set", "rtt_min: 40ms",
      "Every round-trip time measured between the two in the window is at least this.");
  add("rtt_max", V::kDuration, D::kUnset, "not set", "rtt_max: 100ms",
      "Every round-trip time measured between the two in the window is at most this.")
      .aliases = {"rtt", "max_rtt"};
  add("over", V::kChoice, D::kUnset, "not set: any path", "over: derp",
      "With rtt_min/rtt_max: count only round trips whose probe and echo both took this path. "
      "With loss_min/loss_max: count only probes sent on this path.")
      .choices = PathNames(false);
  keys.back().aliases = {"via", "on", "on_path"};
  add("loss_min", V::kPercent, D::kUnset, "not set", "loss_min: 10%",
      "At least this fraction of the packets of the traffic between the two (in the window) "
      "is lost: for reproductions that show a symptom. Needs a traffic entry between them.")
      .aliases = {"min_loss"};
  add("loss_max", V::kPercent, D::kUnset, "not set", "loss_max: 1%",
      "At most this fraction of the packets of the traffic between the two (in the window) "
      "is lost; needs a traffic entry between them.")
      .aliases = {"loss", "max_loss"};
  return keys;
}

std::vector<SchemaSection> BuildSections() {
  return {
      {std::string(section::kTop), "the file",
       "A scenario file is one YAML map. Keys are strict everywhere: an unknown key, a value "
       "of the wrong type or a name that does not exist is an error, reported with "
       "file:line:col before anything runs."},
      {std::string(section::kInternet), "internet", "The internet core."},
      {std::string(section::kDerp), "derp", "The DERP relays."},
      {std::string(section::kDerpRegion), "each entry of derp.regions", "A DERP region."},
      {std::string(section::kControl), "control", "The coordination server."},
      {std::string(section::kAcl), "each entry of control.acls",
       "An access rule: the nodes in src may reach the nodes in dst (and so each sees the "
       "other)."},
      {std::string(section::kNode), "each entry of nodes, and defaults",
       "A node is one peer running punchlab's client. A key a node does not set comes from "
       "defaults, else from the default below."},
      {std::string(section::kRun), "nodes.NAME.run, defaults.run",
       "A program as the node (real lab only). Facts a command, env value or file may name "
       "as {{fact}}: {{self.name}}, {{self.address}} (its own address), "
       "{{self.public_address}} (the address the internet sees: its outermost NAT's, else "
       "its own), {{nodes.NAME.address}}, {{nodes.NAME.public_address}}, "
       "{{derp.NAME.address}} (a DERP region's server: DERP over TLS on port 3340, STUN on "
       "3478), {{derp.NAME.cert_pin}} (its self-signed certificate's pin, sha256-raw:HEX as "
       "in Tailscale's DERPNode.CertName), "
       "{{dir}} (its working directory), {{seed}}; with exactly two peers (nodes that are not "
       "relays), also {{peer.name}}, {{peer.address}} and {{peer.public_address}}, the other "
       "one, so one defaults.run serves both sides."},
      {std::string(section::kLink),
       "nodes.NAME.link, defaults.link, nats.NAME.link, firewalls.NAME.link",
       "A link, the same both ways: a node's LAN link, or a NAT's or firewall's uplink. A node "
       "inherits each key it does not set from defaults.link."},
      {std::string(section::kNat), "each entry of nats",
       "A NAT: a preset plus knobs, built by the same code as punchlab's --nat SPEC. Nodes sit "
       "behind it, on its inside network; NATs nest by `behind`."},
      {std::string(section::kPortMapping), "nats.NAME.port_mapping",
       "Port mapping at the NAT's router (NAT-PMP, PCP, UPnP): what it offers and how it "
       "answers. Matrix presets name a NAT with NAT-PMP or PCP as PRESET+pmp or PRESET+pcp "
       "(punchlab matrix --nats symmetric+pmp)."},
      {std::string(section::kFirewall), "each entry of firewalls",
       "A stateful firewall that does not translate: outbound traffic opens a flow, inbound "
       "passes only on a flow or an allow rule. Nodes and NATs sit behind it as behind a NAT."},
      {std::string(section::kTraffic), "each entry of traffic",
       "One flow of application packets, sealed end to end and sent over whatever path the "
       "two nodes use at the time."},
      {std::string(section::kIdle), "each entry of a traffic entry's idle", "A gap in a flow."},
      {std::string(section::kEvent), "each entry of events",
       "One fault or change: at, exactly one target (node, nat, firewall or derp_region), "
       "and either an action or new settings."},
      {std::string(section::kExpect), "each entry of expect",
       "One check between two nodes: exactly one of path, time_to_direct_max, "
       "rtt_min/rtt_max or loss_min/loss_max."},
  };
}

}  // namespace

uint64_t MaxFlowPacketSize() {
  // One data frame in one IPv4 UDP datagram (65507 bytes of payload), which
  // also fits one DERP packet.
  constexpr size_t kMaxUdpPayload = 65507;
  static_assert(kMaxUdpPayload - node::kDataOverhead <= node::kMaxDataPayload);
  return kMaxUdpPayload - node::kDataOverhead;
}

const std::vector<SchemaSection>& SchemaSections() {
  static const std::vector<SchemaSection> sections = BuildSections();
  return sections;
}

const std::vector<SchemaKey>& SchemaKeys() {
  static const std::vector<SchemaKey> keys = BuildKeys();
  return keys;
}

const SchemaKey* FindSchemaKey(std::string_view section, std::string_view key) {
  for (const SchemaKey& k : SchemaKeys()) {
    if (k.section == section && k.key == key) return &k;
  }
  return nullptr;
}

std::vector<std::string> SchemaKeyNames(std::string_view section) {
  std::vector<std::string> names;
  for (const SchemaKey& k : SchemaKeys()) {
    if (k.section == section) names.push_back(k.key);
  }
  return names;
}

std::string TypeName(const SchemaKey& key) {
  switch (key.kind) {
    case ValueKind::kText: return "text";
    case ValueKind::kTextList: return "list of text";
    case ValueKind::kTextMap: return "NAME: text";
    case ValueKind::kName: return "name";
    case ValueKind::kNameList: return "list of names";
    case ValueKind::kInteger: return "integer";
    case ValueKind::kBool: return "true or false";
    case ValueKind::kDuration: return "duration";
    case ValueKind::kBitRate: return "bit rate";
    case ValueKind::kSize: return "size";
    case ValueKind::kPercent: return "percentage";
    case ValueKind::kChoice: {
      std::string out = "one of: ";
      for (size_t i = 0; i < key.choices.size(); ++i) out += (i ? ", " : "") + key.choices[i];
      return out;
    }
    case ValueKind::kPortRules: return "list of port rules";
    case ValueKind::kMap: return "map (" + key.subsection + ")";
    case ValueKind::kNamedMaps: return "NAME: map (" + key.subsection + ")";
    case ValueKind::kList: return "list of maps (" + key.subsection + ")";
  }
  return "?";
}

std::string DefaultName(const SchemaKey& key) {
  switch (key.default_kind) {
    case DefaultKind::kRequired: return "required";
    case DefaultKind::kLiteral: return key.default_text;
    case DefaultKind::kComputed:
    case DefaultKind::kUnset: return key.default_text;
  }
  return "?";
}

}  // namespace scenario
}  // namespace punchlab
