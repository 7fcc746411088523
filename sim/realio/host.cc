#include "realio/host.h"

#include <sys/socket.h>

#include <cerrno>

#include "realio/monotonic-clock.h"
#include "realio/socket-error.h"

namespace punchlab::realio {

namespace {

// Datagrams / reads / accepts handled per readiness callback before other
// sockets and timers get a turn, so one flooded socket cannot starve the loop.
constexpr int kMaxReceivesPerWakeup = 64;
constexpr int kMaxReadsPerWakeup = 16;
constexpr int kMaxAcceptsPerWakeup = 64;
constexpr size_t kReadChunk = 64 * 1024;
// Out of descriptors: the listener stays readable, so stop polling it for a
// moment instead of spinning on accept() failures.
constexpr Duration kAcceptBackoff = Duration::Millis(100);

bool WouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

Host::Host(EventLoop& loop, DatagramMachine& machine, DrainEvents drain_events)
    : Host(loop, &machine, nullptr, std::move(drain_events), Options{}) {}

Host::Host(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events, Options options)
    : Host(loop, nullptr, &machine, std::move(drain_events), std::move(options)) {}

Host::Host(EventLoop& loop, DatagramMachine& datagrams, StreamMachine& streams,
           DrainEvents drain_events, Options options)
    : Host(loop, &datagrams, &streams, std::move(drain_events), std::move(options)) {}

Host::Host(EventLoop& loop, DatagramMachine* datagrams, StreamMachine* streams,
           DrainEvents drain_events, Options options)
    : loop_(loop),
      clock_offset_(options.clock_offset),
      core_(*this, datagrams, streams, std::move(drain_events), std::move(options)),
      timer_(loop.CreateTimer([this](Timestamp now) { core_.OnTimer(now + clock_offset_); })),
      resume_accept_timer_(loop.CreateTimer([this](Timestamp) {
        for (auto& listener : listeners_) {
          if (listener->paused) {
            listener->paused = false;
            loop_.SetEvents(listener->socket.fd.get(), POLLIN);
          }
        }
      })) {
  read_buffer_.resize(kReadChunk);
}

Host::~Host() {
  for (const auto& socket : sockets_) loop_.Unwatch(socket->fd());
  for (const auto& listener : listeners_) loop_.Unwatch(listener->socket.fd.get());
  for (const auto& [id, s] : streams_) loop_.Unwatch(s.fd.get());
  loop_.DestroyTimer(timer_);
  loop_.DestroyTimer(resume_accept_timer_);
}

Timestamp Host::Now() const { return MonotonicNow() + clock_offset_; }

void Host::ArmTimer(std::optional<Timestamp> at) {
  if (at) *at = *at - clock_offset_;
  loop_.ArmTimer(timer_, at);
}

// ---- UDP -------------------------------------------------------------------------

void Host::AddSocket(UdpSocket socket) {
  sockets_.push_back(std::make_unique<UdpSocket>(std::move(socket)));
  UdpSocket& added = *sockets_.back();
  loop_.Watch(added.fd(), POLLIN, [this, &added](short) { OnReadable(added); });
}

std::vector<Endpoint> Host::LocalEndpoints() const {
  std::vector<Endpoint> out;
  for (const auto& socket : sockets_) out.push_back(socket->local());
  return out;
}

void Host::OnReadable(UdpSocket& socket) {
  for (int i = 0; i < kMaxReceivesPerWakeup; ++i) {
    UdpSocket::Received received;
    const int error = socket.Receive(datagram_buffer_, received);
    if (WouldBlock(error)) break;
    if (error != 0) {
      // E.g. a queued ICMP error; the socket stays usable.
      ++core_.mutable_stats().receive_errors;
      continue;
    }
    if (received.truncated) {
      ++core_.mutable_stats().truncated;
      continue;
    }
    core_.OnDatagram(Now(), received.local, received.remote,
                     ByteView(datagram_buffer_.data(), received.size));
  }
}

const UdpSocket* Host::SocketFor(const Endpoint& source) const {
  for (const auto& socket : sockets_) {
    if (socket->local() == source) return socket.get();
  }
  // A wildcard socket on the same port owns every address of its family; it
  // reported the specific one as `local`, so that is what comes back here.
  for (const auto& socket : sockets_) {
    if (socket->is_wildcard() && socket->local().port == source.port &&
        socket->local().ip.family() == source.ip.family()) {
      return socket.get();
    }
  }
  return nullptr;
}

hosts::SendResult Host::SendDatagram(const Transmit& transmit) {
  const UdpSocket* socket = SocketFor(transmit.source);
  if (socket == nullptr) return {hosts::SendStatus::kNoSocket, 0};
  const int error = socket->Send(transmit.destination, transmit.payload, transmit.source.ip);
  if (error != 0) return {hosts::SendStatus::kRefused, error};
  return {};
}

// ---- TCP -------------------------------------------------------------------------

Endpoint Host::Listen(const Endpoint& local, int backlog) {
  listeners_.push_back(std::make_unique<Listener>(Listener{ListenTcp(local, backlog), false}));
  Listener& listener = *listeners_.back();
  loop_.Watch(listener.socket.fd.get(), POLLIN, [this, &listener](short) {
    OnListenerReady(listener);
  });
  return listener.socket.local;
}

void Host::OnListenerReady(Listener& listener) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    Endpoint remote;
    int error = 0;
    UniqueFd fd = AcceptTcp(listener.socket.fd.get(), remote, error);
    if (!fd.valid()) {
      if (WouldBlock(error)) return;
      ++core_.mutable_stats().accept_errors;
      core_.mutable_stats().last_error = error;
      if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
        listener.paused = true;
        loop_.SetEvents(listener.socket.fd.get(), 0);
        loop_.ArmTimer(resume_accept_timer_, MonotonicNow() + kAcceptBackoff);
        return;
      }
      continue;  // e.g. ECONNABORTED: that one connection is gone, others wait
    }
    const ConnectionId conn = core_.Accept(remote);
    const int raw = fd.get();
    streams_[conn] = Stream{std::move(fd), false};
    loop_.Watch(raw, POLLIN, [this, conn](short revents) { OnStreamReady(conn, revents); });
    core_.OnConnected(Now(), conn);
  }
}

bool Host::Connect(ConnectionId conn, const Endpoint& remote) {
  UniqueFd fd;
  try {
    fd = StartConnectTcp(remote);
  } catch (const SocketError& e) {
    core_.mutable_stats().last_error = e.error();
    return false;
  }
  const int raw = fd.get();
  streams_[conn] = Stream{std::move(fd), true};
  loop_.Watch(raw, POLLOUT, [this, conn](short revents) { OnStreamReady(conn, revents); });
  return true;
}

void Host::OnStreamReady(ConnectionId conn, short revents) {
  auto it = streams_.find(conn);
  if (it == streams_.end()) return;
  if (it->second.connecting) {
    const int error = ConnectResult(it->second.fd.get());
    if (error != 0) {
      core_.OnClosed(Now(), conn, hosts::CloseReason::kConnectFailed, error);
      return;
    }
    it->second.connecting = false;
    core_.OnConnected(Now(), conn);
    return;
  }
  // Read before acting on POLLHUP/POLLERR: data queued before an EOF or a reset
  // must still reach the machine, and the read reports the error itself.
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    ReadFrom(conn);
    if (!streams_.count(conn)) return;
  }
  if (revents & POLLOUT) core_.OnWritable(Now(), conn);
}

void Host::ReadFrom(ConnectionId conn) {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    auto it = streams_.find(conn);
    if (it == streams_.end()) return;
    const ssize_t n =
        ::recv(it->second.fd.get(), read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (WouldBlock(errno)) return;
      if (errno == EINTR) continue;
      core_.OnClosed(Now(), conn, hosts::CloseReason::kError, errno);
      return;
    }
    if (n == 0) {
      core_.OnClosed(Now(), conn, hosts::CloseReason::kPeerClosed);
      return;
    }
    core_.OnStream(Now(), conn, ByteView(read_buffer_.data(), static_cast<size_t>(n)));
  }
}

hosts::WriteResult Host::Write(ConnectionId conn, ByteView bytes) {
  hosts::WriteResult result;
  auto it = streams_.find(conn);
  if (it == streams_.end()) return result;
  while (result.taken < bytes.size()) {
    const ssize_t n = ::send(it->second.fd.get(), bytes.data() + result.taken,
                             bytes.size() - result.taken, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (WouldBlock(errno)) break;
      if (errno == EINTR) continue;
      result.failed = true;
      result.error = errno;
      break;
    }
    result.taken += static_cast<size_t>(n);
  }
  return result;
}

void Host::SetInterest(ConnectionId conn, bool reading, bool want_write) {
  auto it = streams_.find(conn);
  if (it == streams_.end()) return;
  int events = reading ? POLLIN : 0;
  if (want_write) events |= POLLOUT;
  loop_.SetEvents(it->second.fd.get(), static_cast<short>(events));
}

void Host::CloseStream(ConnectionId conn, hosts::CloseReason /*why*/) {
  auto it = streams_.find(conn);
  if (it == streams_.end()) return;
  loop_.Unwatch(it->second.fd.get());
  streams_.erase(it);  // closes the socket
}

}  // namespace punchlab::realio
