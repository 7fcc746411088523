// A single-threaded poll(2) event loop: file descriptors with readiness
// callbacks, one-shot timers on the monotonic clock, and a stop flag.
//
// It knows nothing about UDP, TCP or machines: Host (realio/host.h)
// register their sockets and timers here, so UDP and TCP machines (and any
// number of each) share one loop and one thread. Callbacks may add, change and
// remove watches and timers, and call Stop(), at any time.
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "punchlab/time.h"

namespace punchlab::realio {

class EventLoop {
 public:
  // Receives the poll revents (POLLIN, POLLOUT, POLLERR, POLLHUP, ...).
  using FdCallback = std::function<void(short revents)>;
  using TimerCallback = std::function<void(Timestamp now)>;
  using TimerId = uint64_t;

  enum class StopReason { kStopped, kDeadline };

  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches `fd` for `events` (POLLIN / POLLOUT); errors and hang-ups are
  // always reported. One watch per fd; watching it again replaces the first.
  void Watch(int fd, short events, FdCallback callback);
  void SetEvents(int fd, short events);
  // Safe to call from inside any callback, for any fd, watched or not.
  void Unwatch(int fd);

  TimerId CreateTimer(TimerCallback callback);
  // Fires once at `when` (immediately if already past); nullopt disarms.
  void ArmTimer(TimerId id, std::optional<Timestamp> when);
  void DestroyTimer(TimerId id);

  // Runs until Stop() is called or the monotonic clock reaches `deadline`.
  StopReason Run(Timestamp deadline = Timestamp::Max());
  void Stop() { stop_requested_ = true; }

 private:
  struct Watcher {
    short events = 0;
    uint64_t serial = 0;  // tells a re-used fd number from the watch it replaced
    FdCallback callback;
  };
  struct Timer {
    std::optional<Timestamp> when;
    TimerCallback callback;
  };

  std::optional<Timestamp> EarliestTimer() const;
  void PollOnce(Timestamp wake_at);
  void FireDueTimers(Timestamp now);

  std::unordered_map<int, Watcher> watchers_;
  std::map<TimerId, Timer> timers_;
  uint64_t next_serial_ = 1;
  TimerId next_timer_ = 1;
  bool stop_requested_ = false;
};

}  // namespace punchlab::realio
