#include "realio/tcp-socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "realio/socket-address.h"
#include "realio/socket-error.h"

namespace punchlab::realio {

namespace {

void SetOption(int fd, int level, int name, int value, const std::string& what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) throw SocketError(what, errno);
}

UniqueFd NewTcpSocket(const IpAddress& ip, const std::string& what) {
  UniqueFd fd(::socket(AddressFamily(ip), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) throw SocketError(what, errno);
  return fd;
}

}  // namespace

TcpListener ListenTcp(const Endpoint& local, int backlog) {
  const std::string what = "listen tcp " + local.ToString();
  TcpListener out;
  out.fd = NewTcpSocket(local.ip, what);
  SetOption(out.fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, what);
  if (local.ip.is_v6()) SetOption(out.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, what);
  const SocketAddress address = ToSocketAddress(local);
  if (::bind(out.fd.get(), address.get(), address.length) != 0) throw SocketError(what, errno);
  if (::listen(out.fd.get(), backlog) != 0) throw SocketError(what, errno);
  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  if (::getsockname(out.fd.get(), bound.get(), &bound.length) != 0) throw SocketError(what, errno);
  const auto actual = FromSocketAddress(bound.get(), bound.length);
  if (!actual) throw SocketError(what, EAFNOSUPPORT);
  out.local = *actual;
  return out;
}

UniqueFd StartConnectTcp(const Endpoint& remote) {
  const std::string what = "connect tcp " + remote.ToString();
  UniqueFd fd = NewTcpSocket(remote.ip, what);
  SetOption(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1, what);
  const SocketAddress address = ToSocketAddress(remote);
  // Even on loopback, a non-blocking connect that succeeds at once is reported
  // through writability like any other, so the caller has one path.
  if (::connect(fd.get(), address.get(), address.length) != 0 && errno != EINPROGRESS) {
    throw SocketError(what, errno);
  }
  return fd;
}

int ConnectResult(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

UniqueFd AcceptTcp(int listen_fd, Endpoint& remote, int& error) {
  SocketAddress from;
  from.length = sizeof(from.storage);
  UniqueFd fd(::accept4(listen_fd, from.get(), &from.length, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!fd.valid()) {
    error = errno;
    return fd;
  }
  const auto endpoint = FromSocketAddress(from.get(), from.length);
  if (!endpoint) {
    error = EAFNOSUPPORT;
    return UniqueFd();
  }
  const int one = 1;
  // Best effort: a connection without TCP_NODELAY still works, only slower.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  remote = *endpoint;
  error = 0;
  return fd;
}

}  // namespace punchlab::realio
