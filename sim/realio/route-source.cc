#include "realio/route-source.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "realio/socket-address.h"
#include "realio/socket-error.h"
#include "realio/unique-fd.h"

namespace punchlab::realio {

IpAddress RouteSource(const IpAddress& destination) {
  const std::string what = "route to " + destination.ToString();
  UniqueFd fd(::socket(AddressFamily(destination), SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) throw SocketError(what, errno);
  // Any port will do: only the route lookup matters.
  const SocketAddress to = ToSocketAddress(Endpoint(destination, 9));
  if (::connect(fd.get(), to.get(), to.length) != 0) throw SocketError(what, errno);
  SocketAddress local;
  local.length = sizeof(local.storage);
  if (::getsockname(fd.get(), local.get(), &local.length) != 0) throw SocketError(what, errno);
  const auto endpoint = FromSocketAddress(local.get(), local.length);
  if (!endpoint) throw SocketError(what, EAFNOSUPPORT);
  return endpoint->ip;
}

}  // namespace punchlab::realio
