#include "realio/host.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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
      })),
      tls_timer_(loop.CreateTimer([this](Timestamp) { OnTlsTimer(); })),
      tls_handshake_timeout_(options.tls_handshake_timeout),
      on_tls_failure_(options.on_tls_failure) {
  read_buffer_.resize(kReadChunk);
}

Host::~Host() {
  for (const auto& socket : sockets_) loop_.Unwatch(socket->fd());
  for (const auto& listener : listeners_) loop_.Unwatch(listener->socket.fd.get());
  for (const auto& [id, s] : streams_) loop_.Unwatch(s.fd.get());
  loop_.DestroyTimer(timer_);
  loop_.DestroyTimer(resume_accept_timer_);
  loop_.DestroyTimer(tls_timer_);
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
  return ListenOn(local, backlog, nullptr);
}

Endpoint Host::ListenTls(const Endpoint& local, std::shared_ptr<const TlsServerContext> tls,
                         int backlog) {
  return ListenOn(local, backlog, std::move(tls));
}

Endpoint Host::ListenOn(const Endpoint& local, int backlog,
                        std::shared_ptr<const TlsServerContext> tls) {
  listeners_.push_back(
      std::make_unique<Listener>(Listener{ListenTcp(local, backlog), false, std::move(tls)}));
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
    Stream& s = streams_[conn];
    s.fd = std::move(fd);
    s.remote = remote;
    s.accepted = true;
    loop_.Watch(raw, POLLIN, [this, conn](short revents) { OnStreamReady(conn, revents); });
    if (listener.tls) {
      // The machine hears of it once the handshake is done (DeliverTls).
      try {
        s.tls = TlsSession::Server(*listener.tls);
      } catch (const TlsError& e) {
        FailTls(conn, e.what(), EPROTO);
        continue;
      }
      s.tls_deadline = MonotonicNow() + tls_handshake_timeout_;
      ArmTlsTimer();
      continue;
    }
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
  Stream& s = streams_[conn];
  s.fd = std::move(fd);
  s.connecting = true;
  s.remote = remote;
  loop_.Watch(raw, POLLOUT, [this, conn](short revents) { OnStreamReady(conn, revents); });
  return true;
}

bool Host::ConnectTls(ConnectionId conn, const Endpoint& remote, const TlsDial& tls) {
  std::unique_ptr<TlsSession> session;
  try {
    if (!tls_client_) tls_client_ = std::make_unique<TlsClientContext>();
    session = TlsSession::Client(*tls_client_, tls, remote);
  } catch (const TlsError& e) {
    ++tls_stats_.failures;
    tls_stats_.last_failure = e.what();
    if (on_tls_failure_) on_tls_failure_(remote, e.what());
    return false;
  }
  if (!Connect(conn, remote)) return false;
  Stream& s = streams_.at(conn);
  s.tls = std::move(session);
  s.tls_deadline = MonotonicNow() + tls_handshake_timeout_;
  ArmTlsTimer();
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
    if (it->second.tls) {
      // TCP is up; the machine hears of it once TLS is (DeliverTls).
      it->second.tls->Start();
      if (DeliverTls(conn)) UpdateEvents(conn, streams_.at(conn));
      return;
    }
    core_.OnConnected(Now(), conn);
    return;
  }
  if (it->second.tls && (revents & POLLOUT) && it->second.tls->OutputSize() > 0) {
    if (!FlushTls(conn)) return;
  }
  // Read before acting on POLLHUP/POLLERR: data queued before an EOF or a reset
  // must still reach the machine, and the read reports the error itself.
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    ReadFrom(conn);
    if (!streams_.count(conn)) return;
  }
  Stream& s = streams_.at(conn);
  if ((revents & POLLOUT) && (!s.tls || s.established)) core_.OnWritable(Now(), conn);
  auto again = streams_.find(conn);
  if (again != streams_.end() && again->second.tls) UpdateEvents(conn, again->second);
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
    const ByteView bytes(read_buffer_.data(), static_cast<size_t>(n));
    if (it->second.tls) {
      if (n == 0) {
        if (!it->second.established) {
          FailTls(conn, "tls handshake: the peer closed the connection", ECONNRESET);
        } else {
          core_.OnClosed(Now(), conn, hosts::CloseReason::kPeerClosed);
        }
        return;
      }
      it->second.tls->Feed(bytes);
      if (!DeliverTls(conn)) return;
      continue;
    }
    if (n == 0) {
      core_.OnClosed(Now(), conn, hosts::CloseReason::kPeerClosed);
      return;
    }
    core_.OnStream(Now(), conn, bytes);
  }
}

hosts::WriteResult Host::Write(ConnectionId conn, ByteView bytes) {
  hosts::WriteResult result;
  auto it = streams_.find(conn);
  if (it == streams_.end()) return result;
  if (it->second.tls) return WriteTls(conn, it->second, bytes);
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
  if (it->second.tls) {
    it->second.reading = reading;
    it->second.want_write = want_write;
    UpdateEvents(conn, it->second);
    return;
  }
  int events = reading ? POLLIN : 0;
  if (want_write) events |= POLLOUT;
  loop_.SetEvents(it->second.fd.get(), static_cast<short>(events));
}

void Host::CloseStream(ConnectionId conn, hosts::CloseReason /*why*/) {
  auto it = streams_.find(conn);
  if (it == streams_.end()) return;
  if (TlsSession* tls = it->second.tls.get()) {
    // Best effort, without waiting: what is still queued, then close_notify.
    tls->Shutdown();
    const ByteView out = tls->Output();
    if (!out.empty()) {
      (void)::send(it->second.fd.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
  }
  loop_.Unwatch(it->second.fd.get());
  streams_.erase(it);  // closes the socket
}

// ---- TLS -------------------------------------------------------------------------

bool Host::FlushTls(ConnectionId conn) {
  Stream& s = streams_.at(conn);
  while (s.tls->OutputSize() > 0) {
    const ByteView out = s.tls->Output();
    const ssize_t n = ::send(s.fd.get(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (WouldBlock(errno)) return true;
      if (errno == EINTR) continue;
      const int error = errno;
      if (!s.established) {
        FailTls(conn, std::string("tls handshake: send: ") + std::strerror(error), error);
      } else {
        core_.OnClosed(Now(), conn, hosts::CloseReason::kError, error);
      }
      return false;
    }
    s.tls->Consume(static_cast<size_t>(n));
  }
  return true;
}

bool Host::DeliverTls(ConnectionId conn) {
  if (!FlushTls(conn)) return false;
  Stream* s = &streams_.at(conn);
  if (!s->established) {
    if (s->tls->state() == TlsSession::State::kFailed) {
      FailTls(conn, s->tls->error(), EPROTO);
      return false;
    }
    if (!s->tls->open()) return true;  // the handshake goes on
    s->established = true;
    ++tls_stats_.handshakes;
    ArmTlsTimer();
    core_.OnConnected(Now(), conn);
    auto it = streams_.find(conn);
    if (it == streams_.end()) return false;
    s = &it->second;
  }
  if (plain_buffer_.size() < kReadChunk) plain_buffer_.resize(kReadChunk);
  // Everything the ciphertext held: the socket will not wake us for it again.
  while (const size_t n = s->tls->Read(plain_buffer_.data(), plain_buffer_.size())) {
    core_.OnStream(Now(), conn, ByteView(plain_buffer_.data(), n));
    auto it = streams_.find(conn);
    if (it == streams_.end()) return false;
    s = &it->second;
  }
  if (!FlushTls(conn)) return false;
  switch (s->tls->state()) {
    case TlsSession::State::kClosed:
      core_.OnClosed(Now(), conn, hosts::CloseReason::kPeerClosed);
      return false;
    case TlsSession::State::kFailed:
      ++tls_stats_.broken;
      tls_stats_.last_failure = s->tls->error();
      core_.OnClosed(Now(), conn, hosts::CloseReason::kError, EPROTO);
      return false;
    default:
      return true;
  }
}

hosts::WriteResult Host::WriteTls(ConnectionId conn, Stream& s, ByteView bytes) {
  hosts::WriteResult result;
  // At most one record's worth of ciphertext waits in the session: the rest
  // stays in the core's queue, where backpressure sees it.
  constexpr size_t kChunk = 16 * 1024;
  const int fd = s.fd.get();
  TlsSession& tls = *s.tls;
  auto send_output = [&]() -> bool {
    while (tls.OutputSize() > 0) {
      const ByteView out = tls.Output();
      const ssize_t n = ::send(fd, out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (WouldBlock(errno)) return true;
        if (errno == EINTR) continue;
        result.failed = true;
        result.error = errno;
        return false;
      }
      tls.Consume(static_cast<size_t>(n));
    }
    return true;
  };
  if (!send_output()) return result;
  while (result.taken < bytes.size() && tls.OutputSize() == 0 && tls.open()) {
    const size_t chunk = std::min(kChunk, bytes.size() - result.taken);
    tls.Write(ByteView(bytes.data() + result.taken, chunk));
    result.taken += chunk;
    if (!send_output()) return result;
  }
  if (!tls.open() && result.taken < bytes.size()) {
    result.failed = true;
    result.error = EPROTO;
  }
  UpdateEvents(conn, s);
  return result;
}

void Host::FailTls(ConnectionId conn, const std::string& why, int error) {
  Stream& s = streams_.at(conn);
  ++tls_stats_.failures;
  tls_stats_.last_failure = why;
  const Endpoint remote = s.remote;
  const bool accepted = s.accepted;
  if (on_tls_failure_) on_tls_failure_(remote, why);
  if (accepted) {
    core_.Abandon(conn);  // CloseStream: the machine never knew it
  } else {
    core_.OnClosed(Now(), conn, hosts::CloseReason::kConnectFailed, error);
  }
  ArmTlsTimer();
}

void Host::UpdateEvents(ConnectionId conn, const Stream& s) {
  (void)conn;
  if (s.connecting) return;  // waits for POLLOUT: the connect's end
  // Until the handshake is done the host reads for TLS; after, as the core wishes.
  int events = (!s.established || s.reading) ? POLLIN : 0;
  if ((s.established && s.want_write) || s.tls->OutputSize() > 0) events |= POLLOUT;
  loop_.SetEvents(s.fd.get(), static_cast<short>(events));
}

void Host::ArmTlsTimer() {
  std::optional<Timestamp> earliest;
  for (const auto& [conn, s] : streams_) {
    if (s.tls && !s.established && (!earliest || s.tls_deadline < *earliest)) {
      earliest = s.tls_deadline;
    }
  }
  loop_.ArmTimer(tls_timer_, earliest);
}

void Host::OnTlsTimer() {
  const Timestamp now = MonotonicNow();
  std::vector<ConnectionId> late;
  for (const auto& [conn, s] : streams_) {
    if (s.tls && !s.established && s.tls_deadline <= now) late.push_back(conn);
  }
  for (const ConnectionId conn : late) {
    if (streams_.count(conn)) {
      FailTls(conn, "tls handshake not done within " + tls_handshake_timeout_.ToString(),
              ETIMEDOUT);
    }
  }
  ArmTlsTimer();
}

}  // namespace punchlab::realio
