// Hosts one punchlab::StreamMachine on real TCP sockets in an EventLoop.
//
// The machine's actions are carried out on non-blocking sockets:
//   kConnect  starts a connect; HandleConnected when it completes, or
//             HandleClosed when it fails;
//   kWrite    appends to the connection's output buffer, which is flushed as
//             the socket accepts bytes (partial writes are kept, in order);
//   kClose    closes once the buffered output is written (no HandleClosed:
//             the machine asked for it).
// Connections accepted on Listen() endpoints are reported with
// HandleConnected under ids the host assigns, from kFirstAcceptedId up, so they
// never collide with the small ids a client machine picks for its connects.
// Bytes read are passed on as HandleStream; EOF, a reset or any socket error
// ends the connection with HandleClosed. After each input the host drains
// actions, calls `drain_events`, and arms one timer at PollTimeout().
//
// Flow control (Options). A connection's unsent output is bounded by
// max_output: a peer that reads slower than the machine writes cannot grow
// our memory without limit; past the bound the connection is closed as an
// error (HandleClosed; Stats::closed_output_overflow). A machine that can hold
// back (the DERP server queues, then drops and counts) sets on_write_blocked
// and on_writable (both or neither: one alone is ignored): the host calls on_write_blocked once the unsent output rises
// above high_water (after buffering the write that crossed it) and
// on_writable once it has fallen to low_water or below. Machines that set no
// hooks are unaffected but for the bound.
//
// Buffers (Options::recycle). A write's buffer becomes the connection's output
// buffer when nothing is pending (no copy); the one it replaces, emptied but
// with its memory, goes to `recycle`, as does a write's buffer once its bytes
// were appended behind pending output. A machine that writes a lot (the DERP
// relay: a read's worth of frames per write) reuses them instead of having
// the allocator hand fresh pages for every write, which costs a page fault
// per 4 KiB touched.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "punchlab/stream-machine.h"
#include "realio/event-loop.h"
#include "realio/tcp-socket.h"

namespace punchlab::realio {

class StreamHost {
 public:
  static constexpr ConnectionId kFirstAcceptedId = ConnectionId{1} << 63;

  struct Stats {
    uint64_t accepted = 0;
    uint64_t accept_errors = 0;
    uint64_t connects_started = 0;
    uint64_t connects_failed = 0;
    uint64_t bytes_read = 0;
    uint64_t bytes_written = 0;
    uint64_t closed_by_peer = 0;    // EOF
    uint64_t closed_on_error = 0;   // reset, write failure, ...
    uint64_t closed_by_machine = 0;
    uint64_t closed_output_overflow = 0;  // unsent output above max_output
    uint64_t write_blocked = 0;     // on_write_blocked calls
    uint64_t bad_actions = 0;       // write/close to an unknown id, connect to an id in use
    int last_error = 0;             // errno of the latest socket failure, for logs
  };
  using DrainEvents = std::function<void()>;
  using ConnectionHook = std::function<void(Timestamp now, ConnectionId conn)>;

  struct Options {
    // Unsent bytes per connection (see "Flow control" above).
    size_t high_water = 256 * 1024;
    size_t low_water = 64 * 1024;
    size_t max_output = 64 * 1024 * 1024;
    ConnectionHook on_write_blocked;
    ConnectionHook on_writable;
    // Takes back emptied write buffers (see "Buffers" above); optional.
    std::function<void(Bytes&& spare)> recycle;
    // Added to the monotonic clock for every `now` handed to the machine and
    // subtracted from its PollTimeout(), so a machine can live on another
    // epoch (e.g. the Unix epoch, for wall-clock token expiry) while the
    // host's timers stay monotonic.
    Duration clock_offset;
  };

  StreamHost(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events = {});
  StreamHost(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events, Options options);
  ~StreamHost();
  StreamHost(const StreamHost&) = delete;
  StreamHost& operator=(const StreamHost&) = delete;

  // Accepts connections on `local` from now on; returns the bound endpoint
  // (port 0 picks one). Throws SocketError.
  Endpoint Listen(const Endpoint& local, int backlog = 128);

  // Carries out pending actions, drains events and re-arms the timer. The host
  // does this after its own inputs; call it after giving the machine a command.
  void Drain();

  size_t ConnectionCount() const { return connections_.size(); }
  // Bytes accepted from the machine but not yet taken by the kernel.
  size_t PendingOutput(ConnectionId conn) const;
  const Stats& stats() const { return stats_; }

 private:
  struct Connection {
    UniqueFd fd;
    Endpoint remote;
    bool connecting = false;
    bool closing = false;  // the machine closed it; flush, then close
    bool blocked = false;  // on_write_blocked called, on_writable not yet
    Bytes output;
    size_t output_sent = 0;  // bytes of `output` already written
  };
  struct Listener {
    TcpListener socket;
    bool paused = false;
  };

  void Apply(StreamAction action);
  void StartConnect(ConnectionId conn, const Endpoint& remote);
  void OnListenerReady(Listener& listener);
  void OnConnectionReady(ConnectionId conn, short revents);
  void FinishConnect(ConnectionId conn);
  void ReadFrom(ConnectionId conn);
  // Writes what the kernel takes; false when the connection failed.
  bool Flush(Connection& c);
  // Buffers `data` behind what is pending, writing straight from it when
  // nothing is; false when the connection failed.
  bool Write(Connection& c, Bytes data);
  // Hands an emptied buffer to options_.recycle (or frees it).
  void Recycle(Bytes buffer);
  size_t Pending(const Connection& c) const { return c.output.size() - c.output_sent; }
  // Applies the bound and the blocked/writable hooks after output changed;
  // false when the connection was dropped for exceeding max_output.
  bool CheckOutput(ConnectionId conn, Connection& c);
  Timestamp Now() const;
  void UpdateInterest(int fd, const Connection& c);
  // Closes the socket; tells the machine unless it asked for the close itself.
  void Drop(ConnectionId conn, bool tell_machine);
  void OnTimer(Timestamp now);

  EventLoop& loop_;
  StreamMachine& machine_;
  DrainEvents drain_events_;
  Options options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
  ConnectionId next_accepted_id_ = kFirstAcceptedId;
  EventLoop::TimerId timer_;
  EventLoop::TimerId resume_accept_timer_;
  Bytes read_buffer_;
  Stats stats_;
  bool draining_ = false;
  bool drain_again_ = false;
};

}  // namespace punchlab::realio
