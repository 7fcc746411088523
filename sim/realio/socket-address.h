// Conversions between punchlab::Endpoint and the socket API's sockaddr types.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>

#include "punchlab/endpoint.h"

namespace punchlab::realio {

// A sockaddr big enough for IPv4 and IPv6, with its meaningful length.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

SocketAddress ToSocketAddress(const Endpoint& endpoint);
// nullopt for families other than AF_INET / AF_INET6 or a too-short length.
std::optional<Endpoint> FromSocketAddress(const sockaddr* address, socklen_t length);

IpAddress FromInAddr(const in_addr& address);
IpAddress FromIn6Addr(const in6_addr& address);
in_addr ToInAddr(const IpAddress& address);    // IPv4 only
in6_addr ToIn6Addr(const IpAddress& address);  // IPv6 only

// AF_INET or AF_INET6.
int AddressFamily(const IpAddress& address);

}  // namespace punchlab::realio
