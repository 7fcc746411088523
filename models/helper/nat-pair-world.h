// Two punchlab nodes, each behind its own NAT, and the services they need:
//
//   A 192.168.1.2 ─ .1 natA 198.51.100.2 ─┐             ┌ derp    203.0.113.10 (DERP region 1, STUN on)
//                                          router 203.0.113.1 ┤
//   B 192.168.2.2 ─ .1 natB 192.0.2.2 ─────┘             └ control 203.0.113.20
//
// Every link is point to point, 5 ms one way, except the services LAN (CSMA,
// 1 ms). Static routes only: hosts default to their NAT, NATs to the router,
// services to the router; the router knows only the public subnets, so the
// private ones are reachable through the NATs alone. Both nodes hold tokens
// for one domain from one identity provider the control server trusts.
// Node A sends PacketSize bytes to B every Interval from TrafficStart.
#pragma once

#include <cstdint>
#include <string>

#include "model/control-server-application.h"
#include "model/derp-server-application.h"
#include "model/nat-middlebox.h"
#include "model/node-application.h"
#include "ns3/ipv4-address.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "punchlab/nat/nat-config.h"

namespace ns3 {

struct NatPairWorldConfig {
  std::string natA = "port-restricted-cone";  // NatHelper SPECs
  std::string natB = "port-restricted-cone";
  uint64_t seed = 1;  // NATs, DERP, control, nodes and the identity provider
  Time trafficStart = Seconds(1);
  Time interval = MilliSeconds(100);
  uint32_t packetSize = 100;
};

class NatPairWorld {
 public:
  // Builds the topology and installs every application (started at 0).
  explicit NatPairWorld(const NatPairWorldConfig& config);

  Ptr<Node> hostA, hostB, natA, natB, router, derp, control;
  Ptr<NatMiddlebox> boxA, boxB;
  Ptr<DerpServerApplication> derpServer;
  Ptr<ControlServerApplication> controlServer;
  Ptr<NodeApplication> a, b;

  static Ipv4Address HostA() { return Ipv4Address("192.168.1.2"); }
  static Ipv4Address HostB() { return Ipv4Address("192.168.2.2"); }
  static Ipv4Address PublicA() { return Ipv4Address("198.51.100.2"); }
  static Ipv4Address PublicB() { return Ipv4Address("192.0.2.2"); }
  static Ipv4Address DerpAddress() { return Ipv4Address("203.0.113.10"); }
  static Ipv4Address ControlAddress() { return Ipv4Address("203.0.113.20"); }
  static constexpr const char* kDomain = "pair.example";
};

}  // namespace ns3
