// Conversions between ns-3's address/time types and the protocol core's.
// Every application that hosts a protocol/ machine goes through these.
#pragma once

#include "ns3/address.h"
#include "ns3/inet-socket-address.h"
#include "ns3/inet6-socket-address.h"
#include "ns3/ipv4-address.h"
#include "ns3/ipv6-address.h"
#include "ns3/nstime.h"
#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace ns3 {

punchlab::IpAddress ToPunchlab(const Ipv4Address& a);
punchlab::IpAddress ToPunchlab(const Ipv6Address& a);
// An Ipv4Address or Ipv6Address carried in an Address (as AddressValue
// attributes hold them); anything else is a programming error.
punchlab::IpAddress ToPunchlabIp(const Address& a);
// InetSocketAddress or Inet6SocketAddress; anything else is a programming error.
punchlab::Endpoint ToPunchlabEndpoint(const Address& a);
punchlab::Timestamp ToPunchlab(const Time& t);

Ipv4Address ToNs3Ipv4(const punchlab::IpAddress& a);
Ipv6Address ToNs3Ipv6(const punchlab::IpAddress& a);
// An InetSocketAddress (IPv4) or Inet6SocketAddress (IPv6).
Address ToNs3Address(const punchlab::Endpoint& e);
// Relative delay from `now` to `at`, never negative.
Time ToNs3Delay(punchlab::Timestamp now, punchlab::Timestamp at);

}  // namespace ns3
