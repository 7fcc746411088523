#include "realio/socket-address.h"

#include <arpa/inet.h>

#include <cstring>

namespace punchlab::realio {

IpAddress FromInAddr(const in_addr& address) { return IpAddress::V4(ntohl(address.s_addr)); }

IpAddress FromIn6Addr(const in6_addr& address) {
  std::array<uint8_t, 16> bytes;
  std::memcpy(bytes.data(), address.s6_addr, bytes.size());
  return IpAddress::V6(bytes);
}

in_addr ToInAddr(const IpAddress& address) {
  in_addr out{};
  out.s_addr = htonl(address.v4());
  return out;
}

in6_addr ToIn6Addr(const IpAddress& address) {
  in6_addr out{};
  std::memcpy(out.s6_addr, address.bytes().data(), 16);
  return out;
}

int AddressFamily(const IpAddress& address) { return address.is_v4() ? AF_INET : AF_INET6; }

SocketAddress ToSocketAddress(const Endpoint& endpoint) {
  SocketAddress out;
  if (endpoint.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(endpoint.port);
    sin->sin_addr = ToInAddr(endpoint.ip);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(endpoint.port);
    sin6->sin6_addr = ToIn6Addr(endpoint.ip);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

std::optional<Endpoint> FromSocketAddress(const sockaddr* address, socklen_t length) {
  if (address == nullptr || length < static_cast<socklen_t>(sizeof(sa_family_t))) {
    return std::nullopt;
  }
  // Copy out instead of casting: `address` need not be aligned for sockaddr_in6.
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, address, sizeof(sin));
    return Endpoint(FromInAddr(sin.sin_addr), ntohs(sin.sin_port));
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, address, sizeof(sin6));
    return Endpoint(FromIn6Addr(sin6.sin6_addr), ntohs(sin6.sin6_port));
  }
  return std::nullopt;
}

}  // namespace punchlab::realio
