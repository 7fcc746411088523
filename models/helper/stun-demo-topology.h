// The STUN demo network, shared by models/examples/stun-example.cc, the
// `punchlab demo` subcommand and the STUN application tests:
//
//   client 192.168.1.2 --LAN-- 192.168.1.1 router 203.0.113.1 --internet-- server
//                                                          203.0.113.10 (primary)
//                                                          203.0.113.11 (alternate)
//
// Point-to-point links with configurable delay and rate, static routes (a
// default route on each host; the router is directly connected to both
// subnets). The server has both addresses on one interface so that an
// RFC 5780 server can answer CHANGE-REQUEST from the other IP. There is no NAT
// on the router yet, so the client's mapped address is its own.
#pragma once

#include <cstdint>

#include "ns3/data-rate.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"

namespace ns3 {

struct StunDemoTopologyConfig {
  Time lanDelay = MilliSeconds(1);
  DataRate lanRate = DataRate("100Mbps");
  Time internetDelay = MilliSeconds(20);
  DataRate internetRate = DataRate("1Gbps");
};

class StunDemoTopology {
 public:
  // Creates the nodes, links, addresses and routes (call before Simulator::Run).
  explicit StunDemoTopology(const StunDemoTopologyConfig& config = {});

  Ptr<Node> GetClient() const { return m_nodes.Get(0); }
  Ptr<Node> GetRouter() const { return m_nodes.Get(1); }
  Ptr<Node> GetServer() const { return m_nodes.Get(2); }
  NodeContainer GetNodes() const { return m_nodes; }
  // {client, router} and {router, server}: e.g. to attach error models.
  NetDeviceContainer GetLanDevices() const { return m_lanDevices; }
  NetDeviceContainer GetInternetDevices() const { return m_internetDevices; }

  static Ipv4Address ClientAddress() { return Ipv4Address("192.168.1.2"); }
  static Ipv4Address ServerPrimaryAddress() { return Ipv4Address("203.0.113.10"); }
  static Ipv4Address ServerAlternateAddress() { return Ipv4Address("203.0.113.11"); }

  const StunDemoTopologyConfig& GetConfig() const { return m_config; }
  // Client to server propagation delay (LAN + internet).
  Time GetOneWayDelay() const;
  // Time to serialize `bytes` of IP datagram onto both links, one way: with
  // GetOneWayDelay() it bounds a one-way trip on an idle network.
  Time GetSerializationDelay(uint32_t bytes) const;

 private:
  StunDemoTopologyConfig m_config;
  NodeContainer m_nodes;
  NetDeviceContainer m_lanDevices;
  NetDeviceContainer m_internetDevices;
};

}  // namespace ns3
