#include "punchlab/hosts/host.h"

#include <cassert>
#include <utility>

namespace punchlab::hosts {

const char* CloseReasonName(CloseReason why) {
  switch (why) {
    case CloseReason::kPeerClosed: return "peer closed";
    case CloseReason::kError: return "error";
    case CloseReason::kConnectFailed: return "connect failed";
    case CloseReason::kClosedByMachine: return "closed by machine";
    case CloseReason::kOutputOverflow: return "output overflow";
    case CloseReason::kDetached: return "detached";
  }
  return "?";
}

namespace {

// The most-derived object behind a face: a machine of both shapes is one
// object, whose HandleTimeout and PollTimeout must run once, not twice.
const void* ObjectOf(const DatagramMachine* m) { return dynamic_cast<const void*>(m); }
const void* ObjectOf(const StreamMachine* m) { return dynamic_cast<const void*>(m); }

}  // namespace

Host::Host(Sockets& sockets, DatagramMachine* datagrams, StreamMachine* streams,
           DrainEvents drain_events, Options options)
    : sockets_(sockets),
      datagrams_(nullptr),
      streams_(nullptr),
      drain_events_(std::move(drain_events)),
      options_() {
  assert(datagrams != nullptr || streams != nullptr);
  SetOptions(std::move(options));
  datagrams_ = datagrams;
  streams_ = streams;
  one_object_ = datagrams_ && streams_ && ObjectOf(datagrams_) == ObjectOf(streams_);
  timer_first_ = datagrams_ ? Side::kDatagrams : Side::kStreams;
}

void Host::SetOptions(Options options) {
  options_ = std::move(options);
  // One hook without the other would leave a connection blocked for good.
  if (!options_.on_write_blocked || !options_.on_writable) {
    options_.on_write_blocked = nullptr;
    options_.on_writable = nullptr;
  }
}

bool Host::Has(Side side) const {
  return side == Side::kDatagrams ? datagrams_ != nullptr : streams_ != nullptr;
}

size_t Host::PendingOutput(ConnectionId conn) const {
  auto it = connections_.find(conn);
  return it == connections_.end() ? 0 : Pending(it->second);
}

// ---- the drain rule ----------------------------------------------------------

void Host::Drain() { DrainFrom(datagrams_ ? Side::kDatagrams : Side::kStreams); }

void Host::DrainFrom(Side first) {
  // The events callback may command the machine and call Drain() again: the
  // outer call repeats the round instead of recursing, and arms the timer once.
  if (draining_) {
    drain_again_ = true;
    return;
  }
  draining_ = true;
  const Side second = first == Side::kDatagrams ? Side::kStreams : Side::kDatagrams;
  do {
    drain_again_ = false;
    PollSide(first);
    DrainEventsNow();
    if (Has(second)) {
      PollSide(second);
      DrainEventsNow();
    }
    // Stream writes the events made go out before another round; both hosts
    // this replaces did that, and neither polled transmits again here (a
    // command from the events comes with Drain(), which repeats the round).
    PollSide(Side::kStreams);
  } while (drain_again_ && attached());
  draining_ = false;
  // Two hosts armed a timer each, the second-drained side first; that one
  // fired first.
  if (datagrams_ && streams_) timer_first_ = second;
  ArmTimer();
}

void Host::PollSide(Side side) {
  if (side == Side::kDatagrams) {
    while (datagrams_) {
      std::optional<Transmit> transmit = datagrams_->PollTransmit();
      if (!transmit) break;
      Send(*transmit);
    }
  } else {
    while (streams_) {
      std::optional<StreamAction> action = streams_->PollStreamAction();
      if (!action) break;
      Apply(std::move(*action));
    }
  }
}

void Host::DrainEventsNow() {
  if (drain_events_ && attached()) drain_events_();
}

void Host::ArmTimer() {
  std::optional<Timestamp> at;
  auto consider = [&at](std::optional<Timestamp> t) {
    if (t && (!at || *t < *at)) at = t;
  };
  if (datagrams_) consider(datagrams_->PollTimeout());
  if (streams_ && !one_object_) consider(streams_->PollTimeout());
  // Timestamp::Max() means "never": arming it would only drag a simulated
  // clock to the end of time.
  if (at && *at == Timestamp::Max()) at.reset();
  sockets_.ArmTimer(at);
}

void Host::OnTimer(Timestamp now) {
  if (!attached()) return;
  ++stats_.timeouts;
  const Side first = timer_first_;
  if (datagrams_) datagrams_->HandleTimeout(now);
  if (streams_ && !one_object_) streams_->HandleTimeout(now);
  DrainFrom(first);
}

// ---- datagrams -----------------------------------------------------------------

void Host::OnDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) {
  if (!datagrams_) return;
  ++stats_.datagrams_received;
  datagrams_->HandleDatagram(now, local, remote, payload);
  DrainFrom(Side::kDatagrams);
}

void Host::Send(const Transmit& transmit) {
  const SendResult result = sockets_.SendDatagram(transmit);
  switch (result.status) {
    case SendStatus::kSent:
      ++stats_.datagrams_sent;
      return;
    case SendStatus::kNoSocket:
      ++stats_.no_source_socket;
      return;
    case SendStatus::kRefused:
      ++stats_.send_errors;
      stats_.last_send_error = result.error;
      return;
  }
}

// ---- streams -------------------------------------------------------------------

ConnectionId Host::Accept(const Endpoint& remote) {
  const ConnectionId conn = next_accepted_id_++;
  ++stats_.accepted;
  connections_[conn].remote = remote;
  return conn;
}

void Host::OnConnected(Timestamp now, ConnectionId conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end() || !streams_) return;
  Connection& c = it->second;
  if (!c.connecting) {
    // Accepted.
    sockets_.Established(conn, c.remote);
    streams_->HandleConnected(now, conn, c.remote);
    DrainFrom(Side::kStreams);
    return;
  }
  c.connecting = false;
  // Writes the machine queued while the connect was pending go out first.
  if (!Flush(conn, c)) {
    Drop(conn, CloseReason::kError, true);
    DrainFrom(Side::kStreams);
    return;
  }
  UpdateInterest(conn, c);
  const Endpoint remote = c.remote;
  sockets_.Established(conn, remote);
  streams_->HandleConnected(now, conn, remote);
  // After HandleConnected: the machine may hear of backpressure only on a
  // connection it knows is up.
  it = connections_.find(conn);
  if (it != connections_.end() && CheckOutput(conn, it->second)) UpdateInterest(conn, it->second);
  DrainFrom(Side::kStreams);
}

void Host::OnStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  auto it = connections_.find(conn);
  if (it == connections_.end() || !streams_) return;
  if (it->second.closing) return;  // the machine is done with it; discard
  stats_.bytes_read += bytes.size();
  streams_->HandleStream(now, conn, bytes);
  DrainFrom(Side::kStreams);
}

void Host::OnWritable(Timestamp now, ConnectionId conn) {
  (void)now;
  auto it = connections_.find(conn);
  if (it == connections_.end() || !streams_) return;
  Connection& c = it->second;
  if (Pending(c) == 0 && !c.blocked) return;
  if (!Flush(conn, c)) {
    const bool tell_machine = !c.closing;
    Drop(conn, CloseReason::kError, tell_machine);
    if (tell_machine) DrainFrom(Side::kStreams);
    return;
  }
  if (c.closing && Pending(c) == 0) {
    Drop(conn, CloseReason::kClosedByMachine, false);
    return;
  }
  const bool was_blocked = c.blocked;
  CheckOutput(conn, c);  // only shrank: cannot overflow
  UpdateInterest(conn, c);
  if (was_blocked && !c.blocked) DrainFrom(Side::kStreams);
}

void Host::OnClosed(Timestamp now, ConnectionId conn, CloseReason why, int error) {
  (void)now;
  auto it = connections_.find(conn);
  if (it == connections_.end() || !streams_) return;
  switch (why) {
    case CloseReason::kPeerClosed: ++stats_.closed_by_peer; break;
    case CloseReason::kConnectFailed: ++stats_.connects_failed; break;
    default: ++stats_.closed_on_error; break;
  }
  if (error != 0) stats_.last_error = error;
  const bool tell_machine = !it->second.closing;
  Drop(conn, why, tell_machine);
  if (tell_machine) DrainFrom(Side::kStreams);
}

void Host::Abandon(ConnectionId conn) {
  auto it = connections_.find(conn);
  if (it == connections_.end() || it->second.connecting) return;
  Drop(conn, CloseReason::kError, false);
}

void Host::Apply(StreamAction action) {
  switch (action.kind) {
    case StreamAction::Kind::kConnect:
      StartConnect(action.conn, action.remote, action.tls);
      return;
    case StreamAction::Kind::kWrite: {
      auto it = connections_.find(action.conn);
      if (it == connections_.end() || it->second.closing) {
        ++stats_.bad_actions;
        return;
      }
      Connection& c = it->second;
      if (!Write(action.conn, c, std::move(action.data))) {
        Drop(action.conn, CloseReason::kError, true);
        return;
      }
      if (CheckOutput(action.conn, c)) UpdateInterest(action.conn, c);
      return;
    }
    case StreamAction::Kind::kClose: {
      auto it = connections_.find(action.conn);
      if (it == connections_.end()) {
        ++stats_.bad_actions;
        return;
      }
      ++stats_.closed_by_machine;
      Connection& c = it->second;
      c.closing = true;
      // A pending connect has nothing to flush; otherwise every queued byte
      // goes first (OnWritable finishes the close).
      if (c.connecting || Pending(c) == 0) {
        Drop(action.conn, CloseReason::kClosedByMachine, false);
      } else {
        UpdateInterest(action.conn, c);
      }
      return;
    }
  }
}

void Host::StartConnect(ConnectionId conn, const Endpoint& remote,
                        const std::optional<TlsDial>& tls) {
  if (connections_.count(conn)) {
    ++stats_.bad_actions;
    return;
  }
  ++stats_.connects_started;
  Connection& c = connections_[conn];
  c.remote = remote;
  c.connecting = true;
  if (!(tls ? sockets_.ConnectTls(conn, remote, *tls) : sockets_.Connect(conn, remote))) {
    // Failed at once (no route, bad family): the machine hears it as a close.
    ++stats_.connects_failed;
    Drop(conn, CloseReason::kConnectFailed, true);
  }
}

bool Host::Write(ConnectionId conn, Connection& c, Bytes data) {
  if (Pending(c) == 0) {
    // Nothing waiting: the machine's buffer becomes the queue (no copy), and
    // the emptied one it replaces goes back.
    c.output.clear();
    c.output.swap(data);
    c.output_sent = 0;
  } else {
    c.output.insert(c.output.end(), data.begin(), data.end());
  }
  Recycle(std::move(data));
  return c.connecting || Flush(conn, c);
}

void Host::Recycle(Bytes buffer) {
  if (!options_.recycle || buffer.capacity() == 0) return;
  buffer.clear();
  options_.recycle(std::move(buffer));
}

bool Host::Flush(ConnectionId conn, Connection& c) {
  if (Pending(c) > 0) {
    const WriteResult r =
        sockets_.Write(conn, ByteView(c.output.data() + c.output_sent, Pending(c)));
    c.output_sent += r.taken;
    stats_.bytes_written += r.taken;
    if (r.failed) {
      ++stats_.closed_on_error;
      if (r.error != 0) stats_.last_error = r.error;
      return false;
    }
  }
  if (Pending(c) == 0) {
    // Drained. A big buffer (a netmap for a tailnet of a thousand) goes back
    // now rather than at the connection's next write: a server that has just
    // written one to every member would otherwise keep them all.
    c.output_sent = 0;
    if (c.output.capacity() > kKeptOutputCapacity) {
      Recycle(std::exchange(c.output, Bytes()));
    } else {
      c.output.clear();
    }
  } else if (c.output.capacity() > kKeptOutputCapacity) {
    // A big buffer is replaced by one that holds only what waits (erase would
    // keep the capacity of what the socket has taken) once a quarter of it
    // has gone: a server that has just written a netmap to each of a
    // thousand members, and seen each socket take its send buffer's worth,
    // then holds the rest, not the whole. Each byte is copied at most three
    // times over.
    if (c.output_sent > c.output.size() / 4) {
      Bytes rest(c.output.begin() + static_cast<std::ptrdiff_t>(c.output_sent), c.output.end());
      c.output.swap(rest);
      c.output_sent = 0;
      Recycle(std::move(rest));
    }
  } else if (c.output_sent > c.output.size() / 2) {
    // Compact now and then, not on every partial write.
    c.output.erase(c.output.begin(), c.output.begin() + static_cast<std::ptrdiff_t>(c.output_sent));
    c.output_sent = 0;
  }
  return true;
}

bool Host::CheckOutput(ConnectionId conn, Connection& c) {
  const size_t pending = Pending(c);
  if (pending > options_.max_output) {
    ++stats_.closed_output_overflow;
    Drop(conn, CloseReason::kOutputOverflow, !c.closing);
    return false;
  }
  if (!options_.on_write_blocked || !streams_ || c.closing || c.connecting) return true;
  if (!c.blocked && pending > options_.high_water) {
    c.blocked = true;
    ++stats_.write_blocked;
    options_.on_write_blocked(sockets_.Now(), conn);
  } else if (c.blocked && pending <= options_.low_water) {
    c.blocked = false;
    options_.on_writable(sockets_.Now(), conn);
  }
  return true;
}

void Host::UpdateInterest(ConnectionId conn, const Connection& c) {
  sockets_.SetInterest(conn, !c.closing, c.connecting || Pending(c) > 0);
}

void Host::Drop(ConnectionId conn, CloseReason why, bool tell_machine) {
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  connections_.erase(it);
  sockets_.CloseStream(conn, why);
  if (tell_machine && streams_) streams_->HandleClosed(sockets_.Now(), conn);
}

// ---- lifetime ------------------------------------------------------------------

void Host::DetachMachine() {
  sockets_.ArmTimer(std::nullopt);
  auto connections = std::move(connections_);
  connections_.clear();
  for (const auto& entry : connections) sockets_.CloseStream(entry.first, CloseReason::kDetached);
  datagrams_ = nullptr;
  streams_ = nullptr;
}

void Host::AttachMachine(DatagramMachine* datagrams, StreamMachine* streams) {
  assert(!attached() && (datagrams != nullptr || streams != nullptr));
  datagrams_ = datagrams;
  streams_ = streams;
  one_object_ = datagrams_ && streams_ && ObjectOf(datagrams_) == ObjectOf(streams_);
  timer_first_ = datagrams_ ? Side::kDatagrams : Side::kStreams;
  // A restarted server starts on its stream side (its listeners survived).
  DrainFrom(streams_ ? Side::kStreams : Side::kDatagrams);
}

void Host::Release() {
  sockets_.ArmTimer(std::nullopt);
  connections_.clear();
  datagrams_ = nullptr;
  streams_ = nullptr;
}

}  // namespace punchlab::hosts
