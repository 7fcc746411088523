// The network `punchlab classify` judges a NAT in: one client behind the NAT
// under test, an internet router, and an RFC 5780 STUN server with two
// addresses on the far side.
//
//   client 192.168.1.2 -lan- 192.168.1.1 nat 203.0.113.1 -uplink- 203.0.113.254 router
//     198.51.100.254 -internet- 198.51.100.1 server (primary, port 3478)
//                               198.51.100.2        (alternate, port 3479)
//
// Point-to-point links, static routes: the client and the server default to
// their router, the NAT defaults to the internet router (set before the
// middlebox wraps the NAT's routing), and the internet router knows only its
// two subnets, so the client's private address is unreachable from outside.
// The NAT has one external address. The client runs NatDiscoveryApplication,
// the server StunServerApplication; random ports and transaction ids come
// from streams forked from one seed, so a run with the same seed is the same.
#pragma once

#include <cstdint>

#include "model/nat-discovery-application.h"
#include "model/nat-middlebox.h"
#include "model/stun-server-application.h"
#include "ns3/ipv4-address.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/stun/nat-discovery.h"

namespace ns3 {

struct ClassifyTopologyConfig {
  punchlab::nat::NatConfig nat;
  uint64_t seed = 1;
  Time lanDelay = MilliSeconds(1);       // client - NAT
  Time uplinkDelay = MilliSeconds(2);    // NAT - internet router
  Time internetDelay = MilliSeconds(20);  // internet router - server
  // Discovery: sockets beyond the main one (port assignment) and each
  // probe's deadline.
  uint32_t extraSockets = 3;
  Time probeDeadline = Seconds(3);
};

class ClassifyTopology {
 public:
  // Creates the nodes, links, routes, NAT and applications (before Simulator::Run).
  explicit ClassifyTopology(const ClassifyTopologyConfig& config);

  // Runs the simulation until the discovery reports (at most GetStopTime())
  // and returns the report. Aborts if there is none by then, which would be a
  // bug in the machine, not a NAT behaviour. The caller calls
  // Simulator::Destroy() when done with the nodes.
  punchlab::stun::NatReport Run();

  Ptr<Node> GetClient() const { return m_nodes.Get(0); }
  Ptr<Node> GetNatNode() const { return m_nodes.Get(1); }
  Ptr<Node> GetRouter() const { return m_nodes.Get(2); }
  Ptr<Node> GetServer() const { return m_nodes.Get(3); }
  Ptr<NatMiddlebox> GetNat() const { return m_nat; }
  Ptr<NatDiscoveryApplication> GetDiscovery() const { return m_discovery; }
  Ptr<StunServerApplication> GetStunServer() const { return m_server; }
  const ClassifyTopologyConfig& GetConfig() const { return m_config; }
  // Every probe step waits at most probeDeadline; this bounds the whole run.
  Time GetStopTime() const { return m_stopTime; }

  static Ipv4Address ClientAddress() { return Ipv4Address("192.168.1.2"); }
  static Ipv4Address NatExternalAddress() { return Ipv4Address("203.0.113.1"); }
  static Ipv4Address ServerPrimaryAddress() { return Ipv4Address("198.51.100.1"); }
  static Ipv4Address ServerAlternateAddress() { return Ipv4Address("198.51.100.2"); }
  static constexpr uint16_t kServerPrimaryPort = 3478;
  static constexpr uint16_t kServerAlternatePort = 3479;

 private:
  void OnReport(const punchlab::stun::NatReport& report);

  ClassifyTopologyConfig m_config;
  NodeContainer m_nodes;
  Ptr<NatMiddlebox> m_nat;
  Ptr<StunServerApplication> m_server;
  Ptr<NatDiscoveryApplication> m_discovery;
  Time m_stopTime;
};

// Builds a ClassifyTopology, runs it, destroys the simulation and returns the report.
punchlab::stun::NatReport ClassifyNat(const ClassifyTopologyConfig& config);

}  // namespace ns3
