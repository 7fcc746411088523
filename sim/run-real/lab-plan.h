// The real lab for one scenario, decided before anything is built: every
// namespace, veth, address and route. Pure (no root, no commands), so the
// address plan is unit-tested.
//
//   internet: namespace "inet", a bridge "core" holding 203.0.113.1/24; it
//             routes (to public subnets behind firewalls). DERP servers, the
//             control server, public nodes and the uplinks of top-level NATs
//             and firewalls hang off it with addresses 203.0.113.2 and up.
//   NAT k:    namespace "nat<k>", uplink "wan" in its parent's network, a
//             bridge "lan" holding 10.<k+1>.0.1/24 for what sits behind it.
//             A NAT whose router offers port mapping (its `port_mapping`:
//             miniupnpd runs there, lab/miniupnpd.h) takes its WAN
//             addresses from 11.0.0.0/24 instead, on the same core bridge,
//             where the core also holds 11.0.0.1/24: miniupnpd 2.3.1
//             refuses to map behind a private or reserved WAN address.
//   firewall: namespace "fw<k>", like a NAT but it does not translate, so
//             its LAN must be routable from above: public firewalls (no NAT
//             above them) get a 198.51.100.0/27 block (at most 8), private
//             ones 192.168.<k+1>.0/24; every router above them up to the
//             nearest NAT (or the internet) gets a route to that LAN.
//   node k:   namespace "node<k>", "eth0" in its box's LAN (or the
//             internet), UDP port 41641.
//   DERP region k: namespace "derp<k>"; control: namespace "ctl".
//
// Every attachment is a veth from the child's namespace (eth0 or wan) to a
// port "p<n>" of the parent's bridge, so each one has its own link
// properties, applied per direction (lab/link-shaper.h). A NAT gets one
// address per external_ips in its parent's network, and as many spare ones
// for each change-address event.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

constexpr const char* kCoreNamespace = "inet";
constexpr const char* kCoreBridge = "core";
constexpr const char* kLanBridge = "lan";
constexpr const char* kCoreAddress = "203.0.113.1";
constexpr int kCorePrefix = 24;
constexpr uint16_t kNodePort = 41641;
constexpr uint16_t kDerpPort = 3340;
constexpr uint16_t kStunPort = 3478;
constexpr uint16_t kControlPort = 8080;

// A veth from a namespace up to its parent's bridge.
struct Uplink {
  std::string ns;         // the child's namespace (short name), e.g. "node0"
  std::string ifname;     // the child's interface: "eth0" for hosts, "wan" for boxes
  std::string address;    // the child's (main) address, e.g. "10.1.0.2"
  // A NAT's further external addresses (external_ips > 1), on the same interface.
  std::vector<std::string> more_addresses;
  int prefix = 24;
  // More addresses in the same network for change-address events, in order;
  // each event takes the next 1 + more_addresses.size() of them.
  std::vector<std::string> spare_addresses;
  std::string parent_ns;    // kCoreNamespace or a box's namespace
  std::string parent_port;  // the bridge port in parent_ns: "p0", "p1", ...
  std::string parent_bridge;
  std::string gateway;      // the parent's address on that bridge
  scenario::Link link;      // the scenario's link, both ways
  bool to_internet = false; // the parent is the internet core
  // What the link is called in notes and pcap file names: "node-alice".
  std::string label;
};

struct BoxPlan {
  std::string name;  // the scenario's
  bool is_nat = true;
  std::string ns;
  Uplink uplink;
  std::string lan_address;  // the box's own address on its LAN bridge
  int lan_prefix = 24;
  std::string lan_subnet;   // "10.1.0.0/24"
};

struct HostPlan {
  std::string name;  // scenario node name, DERP region name, or "control"
  std::string ns;
  Uplink uplink;
};

struct RoutePlan {
  std::string ns;
  std::string destination;  // "address/prefix"
  std::string via;
};

struct LabPlan {
  std::vector<HostPlan> derp;  // per DERP region, in scenario order
  HostPlan control;
  // The core's address in the port-mapping routers' network
  // ("11.0.0.1/24"); empty when no NAT's router maps ports.
  std::string core_portmap_cidr;
  std::vector<BoxPlan> nats;       // in scenario order
  std::vector<BoxPlan> firewalls;  // in scenario order
  std::vector<HostPlan> nodes;     // in scenario order
  // Routes to firewall LANs (every uplink's default route comes on top).
  std::vector<RoutePlan> routes;

  const BoxPlan* FindBox(const std::string& name) const;
  const HostPlan* FindNode(const std::string& name) const;
  const HostPlan* FindDerp(const std::string& region_name) const;
  // Every box in build order: parents before the boxes behind them.
  std::vector<const BoxPlan*> BoxesInBuildOrder() const;
  // Every uplink, boxes first (in build order), then servers, then nodes.
  std::vector<const Uplink*> Uplinks() const;
};

// Throws results::RunError when the scenario does not fit the address plan
// (more than 255 NATs, 8 public firewalls, 253 hosts on one network, ...).
LabPlan PlanLab(const scenario::Scenario& scenario);

}  // namespace punchlab::runreal
