#include "model/punchlab-ns3-convert.h"

#include "ns3/abort.h"

namespace ns3 {

punchlab::IpAddress ToPunchlab(const Ipv4Address& a) { return punchlab::IpAddress::V4(a.Get()); }

punchlab::IpAddress ToPunchlab(const Ipv6Address& a) {
  std::array<uint8_t, 16> b{};
  a.GetBytes(b.data());
  return punchlab::IpAddress::V6(b);
}

punchlab::IpAddress ToPunchlabIp(const Address& a) {
  if (Ipv4Address::IsMatchingType(a)) return ToPunchlab(Ipv4Address::ConvertFrom(a));
  NS_ABORT_MSG_UNLESS(Ipv6Address::IsMatchingType(a), "not an IPv4/IPv6 address");
  return ToPunchlab(Ipv6Address::ConvertFrom(a));
}

punchlab::Endpoint ToPunchlabEndpoint(const Address& a) {
  if (InetSocketAddress::IsMatchingType(a)) {
    InetSocketAddress in = InetSocketAddress::ConvertFrom(a);
    return punchlab::Endpoint(ToPunchlab(in.GetIpv4()), in.GetPort());
  }
  NS_ABORT_MSG_UNLESS(Inet6SocketAddress::IsMatchingType(a), "not an IPv4/IPv6 socket address");
  Inet6SocketAddress in = Inet6SocketAddress::ConvertFrom(a);
  return punchlab::Endpoint(ToPunchlab(in.GetIpv6()), in.GetPort());
}

punchlab::Timestamp ToPunchlab(const Time& t) {
  return punchlab::Timestamp::FromNanos(t.GetNanoSeconds());
}

Ipv4Address ToNs3Ipv4(const punchlab::IpAddress& a) {
  NS_ABORT_MSG_UNLESS(a.is_v4(), "not an IPv4 address: " << a.ToString());
  return Ipv4Address(a.v4());
}

Ipv6Address ToNs3Ipv6(const punchlab::IpAddress& a) {
  auto b = a.ToV6Mapped();
  return Ipv6Address(b.data());
}

Address ToNs3Address(const punchlab::Endpoint& e) {
  if (e.ip.is_v4()) return InetSocketAddress(ToNs3Ipv4(e.ip), e.port);
  return Inet6SocketAddress(ToNs3Ipv6(e.ip), e.port);
}

Time ToNs3Delay(punchlab::Timestamp now, punchlab::Timestamp at) {
  return at <= now ? Time(0) : NanoSeconds((at - now).nanos());
}

}  // namespace ns3
