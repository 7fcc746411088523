// Sockets inside a lab namespace, for tests: the calling thread enters the
// namespace (setns), opens and binds the socket, and returns home; the
// socket stays in the namespace it was made in, so the test reads and
// writes it directly. Every wait is bounded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lab/netns-lab.h"
#include "realio/unique-fd.h"

namespace punchlab::lab {

struct Datagram {
  std::string payload;
  std::string from_address;
  uint16_t from_port = 0;
};

class UdpSocket {
 public:
  // Bound to 0.0.0.0:port in `ns` (0: any port). Throws LabError.
  UdpSocket(const Namespace& ns, uint16_t port);
  void SendTo(const std::string& address, uint16_t port, const std::string& payload) const;
  // The first datagram whose payload is `payload`, waiting at most `ms`.
  std::optional<Datagram> ReceiveMatching(const std::string& payload, int ms) const;
  // The next datagram, waiting at most `ms`.
  std::optional<Datagram> ReceiveAny(int ms) const;
  int fd() const { return fd_.get(); }

 private:
  std::optional<Datagram> Receive(const std::string* payload, int ms) const;
  realio::UniqueFd fd_;
};

// A TCP connection from `ns` (from `source` when given) to address:port, made
// within `ms`. Throws LabError.
realio::UniqueFd TcpConnect(const Namespace& ns, const std::string& address, uint16_t port, int ms,
                            const std::string& source = "");
// Writes all of `bytes`; reads until the peer closes or `ms` pass.
std::string TcpExchange(int fd, const std::string& bytes, int ms);

}  // namespace punchlab::lab
