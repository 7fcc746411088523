// Small ns-3 worlds and socket actors for the NAT middlebox tests.
//
// LanWorld:     h1 10.0.0.1 ┐
//                           ├ LAN ─ 10.0.0.3 nat 203.0.113.1 ─ 203.0.113.2 server
//               h2 10.0.0.2 ┘                                  203.0.113.3 (second address)
// NestedWorld:  h 192.168.1.2 ─ 192.168.1.1 home 100.64.0.2 ─ 100.64.0.1 cgnat 203.0.113.1
//               ─ 203.0.113.2 server
// Static routes only: hosts default to their router, the server knows nothing
// but its own subnet, so private addresses are unreachable from outside.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "helper/nat-helper.h"
#include "ns3/inet-socket-address.h"
#include "ns3/net-device-container.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/socket.h"

namespace ns3 {
namespace nattest {

struct Datagram {
  InetSocketAddress from;
  std::string payload;
  Time at;
};

// A UDP socket that records what it receives. An echoing actor answers each
// datagram with the sender's address as it saw it ("a.b.c.d:port"), the way
// a STUN server tells a client its mapping.
class UdpActor {
 public:
  UdpActor(Ptr<Node> node, const InetSocketAddress& local, bool echo);
  ~UdpActor();
  UdpActor(const UdpActor&) = delete;
  UdpActor& operator=(const UdpActor&) = delete;

  void SendAt(Time at, const InetSocketAddress& to, const std::string& payload);
  void SendAt(Time at, const InetSocketAddress& to, uint32_t bytes);  // zero-filled
  const std::vector<Datagram>& received() const { return m_received; }
  // Datagrams received from `from`.
  size_t CountFrom(const InetSocketAddress& from) const;

 private:
  void OnRead(Ptr<Socket> socket);

  Ptr<Socket> m_socket;
  bool m_echo;
  std::vector<Datagram> m_received;
};

// Sends raw IPv4 payloads with protocol number `protocol` (malformed UDP/TCP).
void SendRaw(Ptr<Node> from, Ipv4Address to, uint8_t protocol, const std::vector<uint8_t>& bytes);

struct LanWorld {
  explicit LanWorld(const NatHelper& nat);
  Ptr<Node> h1, h2, nat, server;
  NetDeviceContainer lan;  // h1, h2, nat
  Ptr<NatMiddlebox> box;
  static Ipv4Address H1() { return Ipv4Address("10.0.0.1"); }
  static Ipv4Address H2() { return Ipv4Address("10.0.0.2"); }
  static Ipv4Address External() { return Ipv4Address("203.0.113.1"); }
  static Ipv4Address Server() { return Ipv4Address("203.0.113.2"); }
  static Ipv4Address Server2() { return Ipv4Address("203.0.113.3"); }
};

struct NestedWorld {
  NestedWorld(const NatHelper& home, const NatHelper& cgnat);
  Ptr<Node> h, home, cgnat, server;
  Ptr<NatMiddlebox> homeBox, cgnatBox;
  static Ipv4Address H() { return Ipv4Address("192.168.1.2"); }
  static Ipv4Address HomeExternal() { return Ipv4Address("100.64.0.2"); }
  static Ipv4Address External() { return Ipv4Address("203.0.113.1"); }
  static Ipv4Address Server() { return Ipv4Address("203.0.113.2"); }
};

// A preset name as a GoogleTest parameter name ("full-cone" -> "full_cone").
template <typename ParamInfo>
std::string PresetTestName(const ParamInfo& param) {
  std::string name = param.param;
  for (char& ch : name) {
    if (ch == '-') ch = '_';
  }
  return name;
}

// "a.b.c.d:port" as an InetSocketAddress.
InetSocketAddress ParseEndpoint(const std::string& text);
std::string ToText(const InetSocketAddress& a);

}  // namespace nattest
}  // namespace ns3
