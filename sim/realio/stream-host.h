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
    uint64_t bad_actions = 0;       // write/close to an unknown id, connect to an id in use
    int last_error = 0;             // errno of the latest socket failure, for logs
  };
  using DrainEvents = std::function<void()>;

  StreamHost(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events = {});
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
  void UpdateInterest(int fd, const Connection& c);
  // Closes the socket; tells the machine unless it asked for the close itself.
  void Drop(ConnectionId conn, bool tell_machine);
  void OnTimer(Timestamp now);

  EventLoop& loop_;
  StreamMachine& machine_;
  DrainEvents drain_events_;
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
