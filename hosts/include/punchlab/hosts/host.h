// Host: runs one machine — a DatagramMachine, a StreamMachine, or one object
// that is both (node::Node, derp::RegionNode) — over a Sockets world. The
// rules every host follows live here once; ns-3 and POSIX only move bytes.
//
// Drain rule. After every input (a datagram, stream bytes, a connect, a
// close, the timer, or Drain() after a command) the host polls until nothing
// is left, in this order: the side that had the input (PollTransmit() for a
// datagram, PollStreamAction() for the stream side), the events callback (the
// owner polls the concrete machine's PollEvent()), the other side and the
// events again, then the stream side once more. A Drain() from inside the
// events callback (an owner that commands the machine there) is remembered
// and the whole round repeats. Then the one
// timer is armed at PollTimeout() (Timestamp::Max() means never). For a
// machine of both shapes that is the order the two separate hosts it
// replaces used, which keeps simulated runs byte-identical: a timer drains
// the side opposite to the one whose drain armed it (the other host's
// timer, armed first, fired first).
//
// Streams. kConnect opens a connection under the machine's id; accepted
// connections get ids from kFirstAcceptedId up. kWrite appends to the
// connection's output queue: what the socket takes goes at once, the rest
// waits, in order, and goes when the world reports room (OnWritable). A
// write's buffer becomes the queue when nothing waits (no copy); the buffer
// it replaces, a buffer whose bytes were appended behind others, and a big
// buffer (above kKeptOutputCapacity) the socket has emptied, or taken a
// quarter of (the rest moves to a buffer of its own size), go to
// Options::recycle, so a queue holds about what waits, not the largest write
// it ever had. kClose closes once the queue is flushed (no HandleClosed:
// the machine asked for it). Bytes that arrive after it are discarded.
//
// Flow control. Unsent output per connection is bounded by max_output: past
// it the connection is closed as an error (HandleClosed). A machine that can
// hold back sets on_write_blocked and on_writable (both or neither): the
// first once the unsent output rises above high_water (after queueing the
// write that crossed it), the second once it falls to low_water or below;
// never before the machine heard HandleConnected.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "punchlab/datagram-machine.h"
#include "punchlab/hosts/sockets.h"
#include "punchlab/stream-machine.h"

namespace punchlab::hosts {

struct Stats {
  // Datagrams.
  uint64_t datagrams_received = 0;
  uint64_t datagrams_sent = 0;
  uint64_t no_source_socket = 0;  // transmit.source matched no socket: dropped
  uint64_t send_errors = 0;       // the socket refused it: dropped
  int last_send_error = 0;
  // Kept by the world (the core never sees these datagrams).
  uint64_t receive_errors = 0;
  uint64_t truncated = 0;
  // Streams.
  uint64_t accepted = 0;
  uint64_t accept_errors = 0;  // kept by the world
  uint64_t connects_started = 0;
  uint64_t connects_failed = 0;
  uint64_t bytes_read = 0;     // handed to the machine
  uint64_t bytes_written = 0;  // taken by a socket
  uint64_t closed_by_peer = 0;
  uint64_t closed_on_error = 0;
  uint64_t closed_by_machine = 0;
  uint64_t closed_output_overflow = 0;
  uint64_t write_blocked = 0;  // on_write_blocked calls
  uint64_t bad_actions = 0;    // write/close to an unknown id, connect to an id in use
  int last_error = 0;          // the latest stream failure's error code, for logs
  // Both.
  uint64_t timeouts = 0;  // HandleTimeout calls
};

using ConnectionHook = std::function<void(Timestamp now, ConnectionId conn)>;

// Flow control and buffers (see "Flow control" and "Streams" above).
struct HostOptions {
  size_t high_water = 256 * 1024;
  size_t low_water = 64 * 1024;
  size_t max_output = 64 * 1024 * 1024;
  ConnectionHook on_write_blocked;
  ConnectionHook on_writable;
  // Takes back emptied write buffers; optional.
  std::function<void(Bytes&& spare)> recycle;
};

class Host {
 public:
  static constexpr ConnectionId kFirstAcceptedId = ConnectionId{1} << 63;
  // A connection's output buffer keeps at most this capacity once drained or
  // compacted; a bigger one goes (to Options::recycle, if set).
  static constexpr size_t kKeptOutputCapacity = 64 * 1024;

  using DrainEvents = std::function<void()>;
  using ConnectionHook = hosts::ConnectionHook;
  using Options = HostOptions;

  // The machines are borrowed; either may be null, not both. For a machine
  // of both shapes pass the same object twice.
  Host(Sockets& sockets, DatagramMachine* datagrams, StreamMachine* streams,
       DrainEvents drain_events = {}, Options options = {});
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // ---- inputs from the world ----
  void OnDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote, ByteView payload);
  // An accepted connection: returns its id. The world registers its socket
  // under it, then calls OnConnected.
  ConnectionId Accept(const Endpoint& remote);
  // A connect completed, or an Accept()ed connection is ready.
  void OnConnected(Timestamp now, ConnectionId conn);
  // Bytes arrived, in order.
  void OnStream(Timestamp now, ConnectionId conn, ByteView bytes);
  // The socket has room: the queue is flushed.
  void OnWritable(Timestamp now, ConnectionId conn);
  // The connection ended (kPeerClosed, kError, kConnectFailed). The world
  // closed its side; the core calls CloseStream to let it forget the socket.
  void OnClosed(Timestamp now, ConnectionId conn, CloseReason why, int error = 0);
  // An Accept()ed connection that never reached the machine (its TLS
  // handshake failed or timed out): forgotten, its socket closed
  // (CloseStream), the machine told nothing.
  void Abandon(ConnectionId conn);
  void OnTimer(Timestamp now);

  // Runs the drain rule: call it after giving the machine a command.
  void Drain();

  // Lets the machines go: every connection is closed (CloseStream, kDetached;
  // the machine hears nothing), the timer disarmed, nothing is touched again
  // until AttachMachine.
  void DetachMachine();
  // A new machine (a restarted process) takes over; drains.
  void AttachMachine(DatagramMachine* datagrams, StreamMachine* streams);
  // Forgets machines and connections without closing anything: the world
  // tears its sockets down itself.
  void Release();

  // Replaces the options (a world whose settings arrive after construction,
  // e.g. ns-3 attributes). Connections keep their state.
  void SetOptions(Options options);

  bool attached() const { return datagrams_ != nullptr || streams_ != nullptr; }
  bool has_streams() const { return streams_ != nullptr; }
  bool HasConnection(ConnectionId conn) const { return connections_.count(conn) != 0; }
  // Bytes that arrive on `conn` reach the machine (false once it closed it).
  bool Reading(ConnectionId conn) const {
    auto it = connections_.find(conn);
    return streams_ != nullptr && it != connections_.end() && !it->second.closing;
  }
  size_t ConnectionCount() const { return connections_.size(); }
  // Bytes the machine wrote that no socket has taken yet.
  size_t PendingOutput(ConnectionId conn) const;
  const Stats& stats() const { return stats_; }
  // For the world's own counters (receive errors, accept errors).
  Stats& mutable_stats() { return stats_; }

 private:
  enum class Side : uint8_t { kDatagrams, kStreams };
  struct Connection {
    Endpoint remote;
    bool connecting = false;
    bool closing = false;  // the machine closed it; flush, then close
    bool blocked = false;  // on_write_blocked called, on_writable not yet
    Bytes output;
    size_t output_sent = 0;  // bytes of `output` already taken
  };

  bool Has(Side side) const;
  void DrainFrom(Side first);
  void PollSide(Side side);
  void DrainEventsNow();
  void ArmTimer();
  void Send(const Transmit& transmit);
  void Apply(StreamAction action);
  void StartConnect(ConnectionId conn, const Endpoint& remote, const std::optional<TlsDial>& tls);
  // Writes what the socket takes; false when the connection failed.
  bool Flush(ConnectionId conn, Connection& c);
  bool Write(ConnectionId conn, Connection& c, Bytes data);
  void Recycle(Bytes buffer);
  static size_t Pending(const Connection& c) { return c.output.size() - c.output_sent; }
  // Applies the bound and the hooks after output changed; false when the
  // connection was dropped for exceeding max_output.
  bool CheckOutput(ConnectionId conn, Connection& c);
  void UpdateInterest(ConnectionId conn, const Connection& c);
  // Forgets the connection (CloseStream); tells the machine unless it asked
  // for the close itself.
  void Drop(ConnectionId conn, CloseReason why, bool tell_machine);

  Sockets& sockets_;
  DatagramMachine* datagrams_;
  StreamMachine* streams_;
  bool one_object_ = false;  // both faces are the same machine
  DrainEvents drain_events_;
  Options options_;
  std::map<ConnectionId, Connection> connections_;
  ConnectionId next_accepted_id_ = kFirstAcceptedId;
  Side timer_first_ = Side::kDatagrams;
  Stats stats_;
  bool draining_ = false;
  bool drain_again_ = false;
};

}  // namespace punchlab::hosts
