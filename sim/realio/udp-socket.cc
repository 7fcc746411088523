#include "realio/udp-socket.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "realio/socket-address.h"
#include "realio/socket-error.h"

namespace punchlab::realio {

namespace {

void SetOption(int fd, int level, int name, int value, const std::string& what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) throw SocketError(what, errno);
}

// Room for one IPv4 or IPv6 packet-info control message.
constexpr size_t kControlSize = std::max(CMSG_SPACE(sizeof(in6_pktinfo)),
                                         CMSG_SPACE(sizeof(in_pktinfo)));

}  // namespace

UdpSocket UdpSocket::Bind(const Endpoint& local) {
  const std::string what = "bind udp " + local.ToString();
  const int family = AddressFamily(local.ip);
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) throw SocketError(what, errno);
  if (family == AF_INET6) SetOption(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, what);
  if (local.ip.IsUnspecified()) {
    if (family == AF_INET) {
      SetOption(fd.get(), IPPROTO_IP, IP_PKTINFO, 1, what);
    } else {
      SetOption(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, what);
    }
  }
  const SocketAddress address = ToSocketAddress(local);
  if (::bind(fd.get(), address.get(), address.length) != 0) throw SocketError(what, errno);
  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  if (::getsockname(fd.get(), bound.get(), &bound.length) != 0) throw SocketError(what, errno);
  const auto actual = FromSocketAddress(bound.get(), bound.length);
  if (!actual) throw SocketError(what, EAFNOSUPPORT);
  return UdpSocket(std::move(fd), *actual);
}

int UdpSocket::Receive(Bytes& buffer, Received& out) {
  buffer.resize(kMaxDatagramSize);
  SocketAddress from;
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) unsigned char control[kControlSize];
  msghdr msg{};
  msg.msg_name = from.get();
  msg.msg_namelen = sizeof(from.storage);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
  if (n < 0) return errno;
  from.length = msg.msg_namelen;
  const auto remote = FromSocketAddress(from.get(), from.length);
  if (!remote) return EAFNOSUPPORT;
  out.remote = *remote;
  out.local = local_;
  out.size = static_cast<size_t>(n);
  out.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      out.local.ip = FromInAddr(info.ipi_addr);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      out.local.ip = FromIn6Addr(info.ipi6_addr);
    }
  }
  return 0;
}

int UdpSocket::Send(const Endpoint& destination, ByteView payload,
                    const IpAddress& source_ip) const {
  const SocketAddress to = ToSocketAddress(destination);
  iovec iov{const_cast<uint8_t*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(to.get());
  msg.msg_namelen = to.length;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[kControlSize] = {};
  const bool choose_source = is_wildcard() && source_ip.family() == local_.ip.family() &&
                             !source_ip.IsUnspecified();
  if (choose_source) {
    msg.msg_control = control;
    cmsghdr* c;
    if (source_ip.is_v4()) {
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst = ToInAddr(source_ip);
      std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    } else {
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      info.ipi6_addr = ToIn6Addr(source_ip);
      std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    }
  }
  // A datagram is sent whole or not at all; a short count cannot happen for UDP.
  if (::sendmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) return errno;
  return 0;
}

}  // namespace punchlab::realio
