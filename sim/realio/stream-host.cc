#include "realio/stream-host.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "realio/monotonic-clock.h"
#include "realio/socket-error.h"

namespace punchlab::realio {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Reads / accepts per readiness callback before others get a turn.
constexpr int kMaxReadsPerWakeup = 16;
constexpr int kMaxAcceptsPerWakeup = 64;
// Out of descriptors: the listener stays readable, so stop polling it for a
// moment instead of spinning on accept() failures.
constexpr Duration kAcceptBackoff = Duration::Millis(100);

bool WouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

StreamHost::StreamHost(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events)
    : StreamHost(loop, machine, std::move(drain_events), Options{}) {}

StreamHost::StreamHost(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events,
                       Options options)
    : loop_(loop),
      machine_(machine),
      drain_events_(std::move(drain_events)),
      options_(std::move(options)),
      timer_(loop.CreateTimer([this](Timestamp now) { OnTimer(now); })),
      resume_accept_timer_(loop.CreateTimer([this](Timestamp) {
        for (auto& listener : listeners_) {
          if (listener->paused) {
            listener->paused = false;
            loop_.SetEvents(listener->socket.fd.get(), POLLIN);
          }
        }
      })) {
  read_buffer_.resize(kReadChunk);
  // One hook without the other would leave a connection blocked for good.
  if (!options_.on_write_blocked || !options_.on_writable) {
    options_.on_write_blocked = nullptr;
    options_.on_writable = nullptr;
  }
}

StreamHost::~StreamHost() {
  for (const auto& listener : listeners_) loop_.Unwatch(listener->socket.fd.get());
  for (const auto& [id, c] : connections_) loop_.Unwatch(c->fd.get());
  loop_.DestroyTimer(timer_);
  loop_.DestroyTimer(resume_accept_timer_);
}

Endpoint StreamHost::Listen(const Endpoint& local, int backlog) {
  listeners_.push_back(std::make_unique<Listener>(Listener{ListenTcp(local, backlog), false}));
  Listener& listener = *listeners_.back();
  loop_.Watch(listener.socket.fd.get(), POLLIN, [this, &listener](short) {
    OnListenerReady(listener);
  });
  return listener.socket.local;
}

size_t StreamHost::PendingOutput(ConnectionId conn) const {
  auto it = connections_.find(conn);
  return it == connections_.end() ? 0 : Pending(*it->second);
}

Timestamp StreamHost::Now() const { return MonotonicNow() + options_.clock_offset; }

void StreamHost::Drain() {
  // The events callback may command the machine and call Drain() again; the
  // outer call finishes that work instead of recursing.
  if (draining_) {
    drain_again_ = true;
    return;
  }
  draining_ = true;
  do {
    drain_again_ = false;
    while (auto action = machine_.PollStreamAction()) Apply(std::move(*action));
    if (drain_events_) drain_events_();
    while (auto action = machine_.PollStreamAction()) Apply(std::move(*action));
  } while (drain_again_);
  draining_ = false;
  std::optional<Timestamp> wake = machine_.PollTimeout();
  if (wake && *wake != Timestamp::Max()) *wake = *wake - options_.clock_offset;
  loop_.ArmTimer(timer_, wake);
}

void StreamHost::OnTimer(Timestamp now) {
  machine_.HandleTimeout(now + options_.clock_offset);
  Drain();
}

void StreamHost::Apply(StreamAction action) {
  switch (action.kind) {
    case StreamAction::Kind::kConnect:
      StartConnect(action.conn, action.remote);
      return;
    case StreamAction::Kind::kWrite: {
      auto it = connections_.find(action.conn);
      if (it == connections_.end() || it->second->closing) {
        ++stats_.bad_actions;
        return;
      }
      Connection& c = *it->second;
      if (!Write(c, std::move(action.data))) {
        Drop(action.conn, true);
        return;
      }
      if (!CheckOutput(action.conn, c)) return;
      UpdateInterest(c.fd.get(), c);
      return;
    }
    case StreamAction::Kind::kClose: {
      auto it = connections_.find(action.conn);
      if (it == connections_.end()) {
        ++stats_.bad_actions;
        return;
      }
      ++stats_.closed_by_machine;
      Connection& c = *it->second;
      c.closing = true;
      // Anything still unwritten (or a connect still pending) goes with it.
      if (c.connecting || c.output_sent == c.output.size()) {
        Drop(action.conn, false);
      } else {
        UpdateInterest(c.fd.get(), c);
      }
      return;
    }
  }
}

void StreamHost::StartConnect(ConnectionId conn, const Endpoint& remote) {
  if (connections_.count(conn)) {
    ++stats_.bad_actions;
    return;
  }
  ++stats_.connects_started;
  UniqueFd fd;
  try {
    fd = StartConnectTcp(remote);
  } catch (const SocketError& e) {
    // Failed at once (no route, bad family): the machine hears it as a close.
    ++stats_.connects_failed;
    stats_.last_error = e.error();
    machine_.HandleClosed(Now(), conn);
    return;
  }
  auto c = std::make_unique<Connection>();
  c->fd = std::move(fd);
  c->remote = remote;
  c->connecting = true;
  const int raw = c->fd.get();
  connections_[conn] = std::move(c);
  loop_.Watch(raw, POLLOUT, [this, conn](short revents) { OnConnectionReady(conn, revents); });
}

void StreamHost::OnListenerReady(Listener& listener) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    Endpoint remote;
    int error = 0;
    UniqueFd fd = AcceptTcp(listener.socket.fd.get(), remote, error);
    if (!fd.valid()) {
      if (WouldBlock(error)) return;
      ++stats_.accept_errors;
      stats_.last_error = error;
      if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
        listener.paused = true;
        loop_.SetEvents(listener.socket.fd.get(), 0);
        loop_.ArmTimer(resume_accept_timer_, MonotonicNow() + kAcceptBackoff);
        return;
      }
      continue;  // e.g. ECONNABORTED: that one connection is gone, others wait
    }
    ++stats_.accepted;
    const ConnectionId conn = next_accepted_id_++;
    auto c = std::make_unique<Connection>();
    c->fd = std::move(fd);
    c->remote = remote;
    const int raw = c->fd.get();
    connections_[conn] = std::move(c);
    loop_.Watch(raw, POLLIN, [this, conn](short revents) { OnConnectionReady(conn, revents); });
    machine_.HandleConnected(Now(), conn, remote);
    Drain();
  }
}

void StreamHost::OnConnectionReady(ConnectionId conn, short revents) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  if (it->second->connecting) {
    FinishConnect(conn);
    return;
  }
  // Read before acting on POLLHUP/POLLERR: data queued before an EOF or a reset
  // must still reach the machine, and the read reports the error itself.
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    ReadFrom(conn);
    it = connections_.find(conn);
    if (it == connections_.end()) return;
  }
  if (revents & POLLOUT) {
    Connection& c = *it->second;
    if (!Flush(c)) {
      const bool tell_machine = !c.closing;
      Drop(conn, tell_machine);
      if (tell_machine) Drain();
      return;
    }
    if (c.closing && c.output_sent == c.output.size()) {
      Drop(conn, false);
      return;
    }
    const bool was_blocked = c.blocked;
    CheckOutput(conn, c);  // only shrank: cannot overflow
    UpdateInterest(c.fd.get(), c);
    if (was_blocked && !c.blocked) Drain();
  }
}

void StreamHost::FinishConnect(ConnectionId conn) {
  Connection& c = *connections_.at(conn);
  const int error = ConnectResult(c.fd.get());
  if (error != 0) {
    ++stats_.connects_failed;
    stats_.last_error = error;
    Drop(conn, true);
    Drain();
    return;
  }
  c.connecting = false;
  // Writes the machine queued while the connect was pending go out first.
  if (!Flush(c)) {
    Drop(conn, true);
    Drain();
    return;
  }
  UpdateInterest(c.fd.get(), c);
  machine_.HandleConnected(Now(), conn, c.remote);
  // After HandleConnected: the machine may hear of backpressure only on a
  // connection it knows is up.
  if (CheckOutput(conn, c)) UpdateInterest(c.fd.get(), c);
  Drain();
}

void StreamHost::ReadFrom(ConnectionId conn) {
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    auto it = connections_.find(conn);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    const ssize_t n = ::recv(c.fd.get(), read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (WouldBlock(errno)) return;
      if (errno == EINTR) continue;
      ++stats_.closed_on_error;
      stats_.last_error = errno;
      Drop(conn, !c.closing);
      Drain();
      return;
    }
    if (n == 0) {
      ++stats_.closed_by_peer;
      Drop(conn, !c.closing);
      Drain();
      return;
    }
    stats_.bytes_read += static_cast<uint64_t>(n);
    if (c.closing) continue;  // the machine is done with it; discard
    machine_.HandleStream(Now(), conn,
                          ByteView(read_buffer_.data(), static_cast<size_t>(n)));
    Drain();
  }
}

bool StreamHost::Flush(Connection& c) {
  while (c.output_sent < c.output.size()) {
    const ssize_t n = ::send(c.fd.get(), c.output.data() + c.output_sent,
                             c.output.size() - c.output_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (WouldBlock(errno)) break;
      if (errno == EINTR) continue;
      ++stats_.closed_on_error;
      stats_.last_error = errno;
      return false;
    }
    c.output_sent += static_cast<size_t>(n);
    stats_.bytes_written += static_cast<uint64_t>(n);
  }
  if (c.output_sent == c.output.size()) {
    c.output.clear();
    c.output_sent = 0;
  } else if (c.output_sent > c.output.size() / 2) {
    // Compact now and then, not on every partial write.
    c.output.erase(c.output.begin(), c.output.begin() + static_cast<std::ptrdiff_t>(c.output_sent));
    c.output_sent = 0;
  }
  return true;
}

bool StreamHost::Write(Connection& c, Bytes data) {
  if (c.output_sent == c.output.size()) {
    // Nothing pending: take the machine's buffer as ours instead of copying,
    // and give back the (empty) one it replaces.
    c.output.clear();
    c.output.swap(data);
    c.output_sent = 0;
  } else {
    c.output.insert(c.output.end(), data.begin(), data.end());
  }
  Recycle(std::move(data));
  return c.connecting || Flush(c);
}

void StreamHost::Recycle(Bytes buffer) {
  if (!options_.recycle || buffer.capacity() == 0) return;
  buffer.clear();
  options_.recycle(std::move(buffer));
}

bool StreamHost::CheckOutput(ConnectionId conn, Connection& c) {
  const size_t pending = Pending(c);
  if (pending > options_.max_output) {
    ++stats_.closed_output_overflow;
    Drop(conn, !c.closing);
    return false;
  }
  if (!options_.on_write_blocked || c.closing || c.connecting) return true;
  if (!c.blocked && pending > options_.high_water) {
    c.blocked = true;
    ++stats_.write_blocked;
    options_.on_write_blocked(Now(), conn);
  } else if (c.blocked && pending <= options_.low_water) {
    c.blocked = false;
    options_.on_writable(Now(), conn);
  }
  return true;
}

void StreamHost::UpdateInterest(int fd, const Connection& c) {
  int events = c.closing ? 0 : POLLIN;
  if (c.connecting || c.output_sent < c.output.size()) events |= POLLOUT;
  loop_.SetEvents(fd, static_cast<short>(events));
}

void StreamHost::Drop(ConnectionId conn, bool tell_machine) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  loop_.Unwatch(it->second->fd.get());
  connections_.erase(it);  // closes the socket
  if (tell_machine) machine_.HandleClosed(Now(), conn);
}

}  // namespace punchlab::realio
