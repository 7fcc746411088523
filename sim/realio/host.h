// realio::Host: the POSIX adapter of the one host core (hosts/): it runs a
// DatagramMachine, a StreamMachine, or a machine of both shapes (node::Node,
// derp::RegionNode: pass it twice) on real non-blocking sockets in an
// EventLoop. Everything a host decides — the drain rule, output queues,
// backpressure, accepted ids, the one timer — is hosts::Host's (read
// hosts/include/punchlab/hosts/host.h); this file only moves bytes:
//
// * UDP: AddSocket() takes bound sockets; every datagram read becomes
//   OnDatagram (with the socket's local address, IP_PKTINFO on a wildcard
//   socket), read into one reused buffer; a transmit leaves through the
//   socket whose local endpoint equals transmit.source (or a wildcard one of
//   the same family and port). Receive and send failures are counted, never
//   thrown: UDP loses packets anyway.
// * TCP: Listen() accepts connections; kConnect starts a non-blocking
//   connect. Reads go to the machine, EOF / a reset / any socket error end the
//   connection (HandleClosed). Out of descriptors, a listener pauses briefly.
//
// Options::clock_offset is added to the monotonic clock for every `now`
// handed to the machine and subtracted from its PollTimeout(), so a machine
// can live on another epoch (e.g. the Unix epoch, for wall-clock token
// expiry) while the loop's timers stay monotonic.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "punchlab/hosts/host.h"
#include "realio/event-loop.h"
#include "realio/tcp-socket.h"
#include "realio/udp-socket.h"

namespace punchlab::realio {

struct HostOptions : hosts::HostOptions {
  Duration clock_offset;
};

class Host final : private hosts::Sockets {
 public:
  static constexpr ConnectionId kFirstAcceptedId = hosts::Host::kFirstAcceptedId;
  using Stats = hosts::Stats;
  using DrainEvents = hosts::Host::DrainEvents;
  using ConnectionHook = hosts::ConnectionHook;
  using Options = HostOptions;

  Host(EventLoop& loop, DatagramMachine& machine, DrainEvents drain_events = {});
  Host(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events = {},
       Options options = {});
  // One machine of both shapes: one host, one timer.
  Host(EventLoop& loop, DatagramMachine& datagrams, StreamMachine& streams,
       DrainEvents drain_events = {}, Options options = {});
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Takes a bound socket; its datagrams go to the machine from now on.
  void AddSocket(UdpSocket socket);
  std::vector<Endpoint> LocalEndpoints() const;
  // Accepts connections on `local` from now on; returns the bound endpoint
  // (port 0 picks one). Throws SocketError.
  Endpoint Listen(const Endpoint& local, int backlog = 128);

  // Runs the drain rule: call it after giving the machine a command.
  void Drain() { core_.Drain(); }

  size_t ConnectionCount() const { return core_.ConnectionCount(); }
  // Bytes accepted from the machine but not yet taken by the kernel.
  size_t PendingOutput(ConnectionId conn) const { return core_.PendingOutput(conn); }
  const Stats& stats() const { return core_.stats(); }

 private:
  struct Stream {
    UniqueFd fd;
    bool connecting = false;
  };
  struct Listener {
    TcpListener socket;
    bool paused = false;
  };

  Host(EventLoop& loop, DatagramMachine* datagrams, StreamMachine* streams,
       DrainEvents drain_events, Options options);

  // hosts::Sockets
  Timestamp Now() const override;
  hosts::SendResult SendDatagram(const Transmit& transmit) override;
  bool Connect(ConnectionId conn, const Endpoint& remote) override;
  hosts::WriteResult Write(ConnectionId conn, ByteView bytes) override;
  void SetInterest(ConnectionId conn, bool reading, bool want_write) override;
  void CloseStream(ConnectionId conn, hosts::CloseReason why) override;
  void ArmTimer(std::optional<Timestamp> at) override;

  void OnReadable(UdpSocket& socket);
  void OnListenerReady(Listener& listener);
  void OnStreamReady(ConnectionId conn, short revents);
  void ReadFrom(ConnectionId conn);
  const UdpSocket* SocketFor(const Endpoint& source) const;

  EventLoop& loop_;
  Duration clock_offset_;
  hosts::Host core_;
  // unique_ptr: the loop's callbacks hold a reference that must survive growth.
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<ConnectionId, Stream> streams_;
  EventLoop::TimerId timer_;
  EventLoop::TimerId resume_accept_timer_;
  Bytes datagram_buffer_;
  Bytes read_buffer_;
};

}  // namespace punchlab::realio
