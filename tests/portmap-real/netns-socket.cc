#include "portmap-real/netns-socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "lab/lab-error.h"
#include "realio/monotonic-clock.h"

namespace punchlab::lab {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Runs `make` inside `ns` and returns to this thread's own namespace.
int InNamespace(const Namespace& ns, const std::function<int()>& make) {
  realio::UniqueFd home(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  realio::UniqueFd target(open(("/run/netns/" + ns.full_name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!home.valid() || !target.valid()) throw LabError(Errno("open namespace " + ns.full_name));
  if (setns(target.get(), CLONE_NEWNET) != 0) throw LabError(Errno("setns " + ns.full_name));
  const int fd = make();
  const int error = errno;
  if (setns(home.get(), CLONE_NEWNET) != 0) throw LabError(Errno("setns back home"));
  errno = error;
  return fd;
}

sockaddr_in Address(const std::string& address, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) throw LabError("bad address " + address);
  return sa;
}

int64_t NowMs() { return realio::MonotonicNow().nanos() / 1000000; }

}  // namespace

UdpSocket::UdpSocket(const Namespace& ns, uint16_t port) {
  fd_ = realio::UniqueFd(InNamespace(ns, [&] {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fd;
    const sockaddr_in sa = Address("0.0.0.0", port);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      const int error = errno;
      close(fd);
      errno = error;
      return -1;
    }
    return fd;
  }));
  if (!fd_.valid()) throw LabError(Errno("udp socket in " + ns.full_name));
}

void UdpSocket::SendTo(const std::string& address, uint16_t port, const std::string& payload) const {
  const sockaddr_in sa = Address(address, port);
  if (sendto(fd_.get(), payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&sa),
             sizeof sa) < 0) {
    throw LabError(Errno("sendto " + address));
  }
}

std::optional<Datagram> UdpSocket::ReceiveMatching(const std::string& payload, int ms) const {
  return Receive(&payload, ms);
}

std::optional<Datagram> UdpSocket::ReceiveAny(int ms) const { return Receive(nullptr, ms); }

std::optional<Datagram> UdpSocket::Receive(const std::string* payload, int ms) const {
  const int64_t deadline = NowMs() + ms;
  for (int64_t left = ms; left > 0; left = deadline - NowMs()) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) != 1) continue;
    char buf[2048];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) continue;
    Datagram d;
    d.payload.assign(buf, static_cast<size_t>(n));
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
    d.from_address = text;
    d.from_port = ntohs(from.sin_port);
    if (payload == nullptr || d.payload == *payload) return d;
  }
  return std::nullopt;
}

realio::UniqueFd TcpConnect(const Namespace& ns, const std::string& address, uint16_t port, int ms,
                            const std::string& source) {
  realio::UniqueFd fd(InNamespace(ns, [] { return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); }));
  if (!fd.valid()) throw LabError(Errno("tcp socket in " + ns.full_name));
  if (!source.empty()) {
    const sockaddr_in from = Address(source, 0);
    if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) {
      throw LabError(Errno("bind " + source));
    }
  }
  const sockaddr_in sa = Address(address, port);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS) {
    throw LabError(Errno("connect " + address));
  }
  pollfd p{fd.get(), POLLOUT, 0};
  int error = 0;
  socklen_t len = sizeof error;
  if (poll(&p, 1, ms) != 1 || getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
    throw LabError("connect " + address + ":" + std::to_string(port) + ": " +
                   (error ? std::strerror(error) : "timed out"));
  }
  return fd;
}

std::string TcpExchange(int fd, const std::string& bytes, int ms) {
  const int64_t deadline = NowMs() + ms;
  size_t sent = 0;
  std::string got;
  bool open = true;
  while (open && NowMs() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < bytes.size() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, static_cast<int>(deadline - NowMs())) != 1) continue;
    if ((p.revents & POLLOUT) && sent < bytes.size()) {
      const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EAGAIN) {
        open = false;
      }
    }
  }
  return got;
}

}  // namespace punchlab::lab
