// A non-blocking UDP socket bound to one local endpoint, IPv4 or IPv6.
//
// A socket bound to a wildcard address (0.0.0.0 or ::) learns which local
// address each datagram arrived on (IP_PKTINFO / IPV6_RECVPKTINFO) and can
// send from a chosen local address, so a machine that answers "from the
// address the request hit" behaves the same whether its host bound one
// address or all of them.
#pragma once

#include <cstddef>
#include <utility>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "realio/unique-fd.h"

namespace punchlab::realio {

// Large enough for any UDP payload over IPv4 or IPv6 (without jumbograms).
constexpr size_t kMaxDatagramSize = 65535;

class UdpSocket {
 public:
  struct Received {
    Endpoint remote;  // the sender, as this host sees it
    Endpoint local;   // the address and port it was sent to
    size_t size = 0;  // bytes stored in the caller's buffer
    bool truncated = false;
  };

  // Opens, configures and binds; port 0 lets the kernel choose. IPv6 sockets are
  // IPV6_V6ONLY so IPv4 and IPv6 sockets may share a port number. Throws
  // SocketError naming the endpoint on failure.
  static UdpSocket Bind(const Endpoint& local);

  int fd() const { return fd_.get(); }
  // The bound endpoint with the actual port (getsockname).
  const Endpoint& local() const { return local_; }
  bool is_wildcard() const { return local_.ip.IsUnspecified(); }

  // Reads one datagram into `buffer` (resized to kMaxDatagramSize first).
  // Returns 0, or the errno: EAGAIN/EWOULDBLOCK when nothing is queued.
  int Receive(Bytes& buffer, Received& out);

  // Sends one datagram. On a wildcard socket a specific `source_ip` of the
  // socket's family selects the source address; otherwise it is ignored.
  // Returns 0 or the errno (EAGAIN when the send buffer is full).
  int Send(const Endpoint& destination, ByteView payload, const IpAddress& source_ip) const;

 private:
  UdpSocket(UniqueFd fd, Endpoint local) : fd_(std::move(fd)), local_(local) {}

  UniqueFd fd_;
  Endpoint local_;
};

}  // namespace punchlab::realio
