// Helpers for tests that run machines on real loopback sockets: a bounded
// wait that runs event loops in short slices until a condition holds, and a
// scripted TCP peer that writes whatever the test says and records what
// comes back (to play a misbehaving client).
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>

#include "punchlab/stream-machine.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "support/queued-stream.h"

namespace punchlab::realio {

constexpr Duration kLoopbackBound = Duration::Seconds(10);
inline const Endpoint kLoopbackAnyPort(IpAddress::V4(127, 0, 0, 1), 0);

// Runs every loop in turn, a few milliseconds each, until `done()` or the
// bound; returns done().
inline bool RunUntil(std::initializer_list<EventLoop*> loops, const std::function<bool()>& done,
                     Duration bound = kLoopbackBound) {
  const Timestamp deadline = MonotonicNow() + bound;
  while (!done() && MonotonicNow() < deadline) {
    for (EventLoop* loop : loops) loop->Run(MonotonicNow() + Duration::Millis(2));
  }
  return done();
}

inline bool RunUntil(EventLoop& loop, const std::function<bool()>& done,
                     Duration bound = kLoopbackBound) {
  return RunUntil({&loop}, done, bound);
}

// Connects (as connection 1) to `server` and writes what Send() is given.
class ScriptedPeer final : public testsupport::QueuedStreamMachine {
 public:
  static constexpr ConnectionId kConn = 1;

  ScriptedPeer(EventLoop& loop, const Endpoint& server) : host_(loop, *this) {
    Queue(StreamAction::Connect(kConn, server));
    host_.Drain();
  }

  void Send(Bytes bytes) {
    Queue(StreamAction::Write(kConn, std::move(bytes)));
    host_.Drain();
  }

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }
  const Bytes& received() const { return received_; }

  void HandleConnected(Timestamp, ConnectionId, const Endpoint&) override { connected_ = true; }
  void HandleStream(Timestamp, ConnectionId, ByteView bytes) override {
    received_.insert(received_.end(), bytes.begin(), bytes.end());
  }
  void HandleClosed(Timestamp, ConnectionId) override { closed_ = true; }

 private:
  bool connected_ = false;
  bool closed_ = false;
  Bytes received_;
  Host host_;  // last: built once the machine state it drives exists
};

}  // namespace punchlab::realio
