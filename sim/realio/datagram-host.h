// Hosts one punchlab::DatagramMachine on real UDP sockets in an EventLoop.
//
// Every datagram that arrives on one of the host's sockets is handed to the
// machine as HandleDatagram(MonotonicNow(), local, remote, bytes). After each
// input the host follows the drain rule: it sends every PollTransmit() from the
// socket whose local endpoint equals transmit.source, calls the owner's
// `drain_events` callback (where the owner polls the machine's events, which
// only the concrete machine type knows), sends whatever that produced, and
// arms one timer at PollTimeout() that calls HandleTimeout.
//
// Send and receive failures are counted in Stats, never thrown: UDP loses
// packets anyway and the machine's retransmits deal with it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "realio/event-loop.h"
#include "realio/udp-socket.h"

namespace punchlab::realio {

class DatagramHost {
 public:
  struct Stats {
    uint64_t datagrams_received = 0;
    uint64_t datagrams_sent = 0;
    uint64_t receive_errors = 0;
    uint64_t truncated = 0;         // larger than kMaxDatagramSize; dropped
    uint64_t send_errors = 0;       // sendmsg failed (full buffer, no route, ...)
    uint64_t no_source_socket = 0;  // transmit.source matches none of our sockets
    int last_send_error = 0;        // errno of the latest send error, for logs
  };
  using DrainEvents = std::function<void()>;

  DatagramHost(EventLoop& loop, DatagramMachine& machine, DrainEvents drain_events = {});
  ~DatagramHost();
  DatagramHost(const DatagramHost&) = delete;
  DatagramHost& operator=(const DatagramHost&) = delete;

  // Takes a bound socket; its datagrams go to the machine from now on.
  void AddSocket(UdpSocket socket);
  std::vector<Endpoint> LocalEndpoints() const;

  // Sends pending transmits, drains events and re-arms the timer. The host does
  // this after its own inputs; call it after giving the machine a command.
  void Drain();

  const Stats& stats() const { return stats_; }

 private:
  void OnReadable(UdpSocket& socket);
  void OnTimer(Timestamp now);
  void Send(const Transmit& transmit);
  const UdpSocket* SocketFor(const Endpoint& source) const;

  EventLoop& loop_;
  DatagramMachine& machine_;
  DrainEvents drain_events_;
  // unique_ptr: the loop's callbacks hold a reference that must survive growth.
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  EventLoop::TimerId timer_;
  Bytes buffer_;
  Stats stats_;
  bool draining_ = false;
  bool drain_again_ = false;
};

}  // namespace punchlab::realio
