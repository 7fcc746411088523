#include "realio/datagram-host.h"

#include <cerrno>

#include "realio/monotonic-clock.h"

namespace punchlab::realio {

namespace {

// Datagrams handled per readiness callback before other sockets and timers get
// a turn, so one flooded socket cannot starve the rest of the loop.
constexpr int kMaxReceivesPerWakeup = 64;

}  // namespace

DatagramHost::DatagramHost(EventLoop& loop, DatagramMachine& machine, DrainEvents drain_events)
    : loop_(loop),
      machine_(machine),
      drain_events_(std::move(drain_events)),
      timer_(loop.CreateTimer([this](Timestamp now) { OnTimer(now); })) {}

DatagramHost::~DatagramHost() {
  for (const auto& socket : sockets_) loop_.Unwatch(socket->fd());
  loop_.DestroyTimer(timer_);
}

void DatagramHost::AddSocket(UdpSocket socket) {
  sockets_.push_back(std::make_unique<UdpSocket>(std::move(socket)));
  UdpSocket& added = *sockets_.back();
  loop_.Watch(added.fd(), POLLIN, [this, &added](short) { OnReadable(added); });
}

std::vector<Endpoint> DatagramHost::LocalEndpoints() const {
  std::vector<Endpoint> out;
  for (const auto& socket : sockets_) out.push_back(socket->local());
  return out;
}

void DatagramHost::OnReadable(UdpSocket& socket) {
  for (int i = 0; i < kMaxReceivesPerWakeup; ++i) {
    UdpSocket::Received received;
    const int error = socket.Receive(buffer_, received);
    if (error == EAGAIN || error == EWOULDBLOCK) break;
    if (error != 0) {
      // E.g. a queued ICMP error; the socket stays usable.
      ++stats_.receive_errors;
      continue;
    }
    if (received.truncated) {
      ++stats_.truncated;
      continue;
    }
    ++stats_.datagrams_received;
    machine_.HandleDatagram(MonotonicNow(), received.local, received.remote,
                            ByteView(buffer_.data(), received.size));
    Drain();
  }
}

void DatagramHost::OnTimer(Timestamp now) {
  machine_.HandleTimeout(now);
  Drain();
}

void DatagramHost::Drain() {
  // The events callback may give the machine a command and call Drain() again;
  // the outer call finishes that work instead of recursing.
  if (draining_) {
    drain_again_ = true;
    return;
  }
  draining_ = true;
  do {
    drain_again_ = false;
    while (auto transmit = machine_.PollTransmit()) Send(*transmit);
    if (drain_events_) drain_events_();
    while (auto transmit = machine_.PollTransmit()) Send(*transmit);
  } while (drain_again_);
  draining_ = false;
  loop_.ArmTimer(timer_, machine_.PollTimeout());
}

const UdpSocket* DatagramHost::SocketFor(const Endpoint& source) const {
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

void DatagramHost::Send(const Transmit& transmit) {
  const UdpSocket* socket = SocketFor(transmit.source);
  if (socket == nullptr) {
    ++stats_.no_source_socket;
    return;
  }
  const int error = socket->Send(transmit.destination, transmit.payload, transmit.source.ip);
  if (error != 0) {
    ++stats_.send_errors;
    stats_.last_send_error = error;
    return;
  }
  ++stats_.datagrams_sent;
}

}  // namespace punchlab::realio
