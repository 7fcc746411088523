#include "realio/event-loop.h"

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "realio/monotonic-clock.h"
#include "realio/socket-error.h"

namespace punchlab::realio {

void EventLoop::Watch(int fd, short events, FdCallback callback) {
  watchers_[fd] = Watcher{events, next_serial_++, std::move(callback)};
}

void EventLoop::SetEvents(int fd, short events) {
  auto it = watchers_.find(fd);
  if (it != watchers_.end()) it->second.events = events;
}

void EventLoop::Unwatch(int fd) { watchers_.erase(fd); }

EventLoop::TimerId EventLoop::CreateTimer(TimerCallback callback) {
  const TimerId id = next_timer_++;
  timers_[id] = Timer{std::nullopt, std::move(callback)};
  return id;
}

void EventLoop::ArmTimer(TimerId id, std::optional<Timestamp> when) {
  auto it = timers_.find(id);
  if (it != timers_.end()) it->second.when = when;
}

void EventLoop::DestroyTimer(TimerId id) { timers_.erase(id); }

std::optional<Timestamp> EventLoop::EarliestTimer() const {
  std::optional<Timestamp> earliest;
  for (const auto& [id, timer] : timers_) {
    if (timer.when && (!earliest || *timer.when < *earliest)) earliest = timer.when;
  }
  return earliest;
}

EventLoop::StopReason EventLoop::Run(Timestamp deadline) {
  StopReason reason = StopReason::kStopped;
  // A Stop() issued before Run() (e.g. by an event drained during setup) wins.
  while (!stop_requested_) {
    const Timestamp now = MonotonicNow();
    if (now >= deadline) {
      reason = StopReason::kDeadline;
      break;
    }
    FireDueTimers(now);
    if (stop_requested_) break;
    Timestamp wake_at = deadline;
    if (const auto timer = EarliestTimer(); timer && *timer < wake_at) wake_at = *timer;
    PollOnce(wake_at);
  }
  stop_requested_ = false;  // so the loop can be run again
  return reason;
}

void EventLoop::PollOnce(Timestamp wake_at) {
  std::vector<pollfd> fds;
  std::vector<uint64_t> serials;
  fds.reserve(watchers_.size());
  serials.reserve(watchers_.size());
  for (const auto& [fd, watcher] : watchers_) {
    fds.push_back(pollfd{fd, watcher.events, 0});
    serials.push_back(watcher.serial);
  }
  // ppoll takes nanoseconds, so a timer is never woken early and then spun on.
  timespec timeout{};
  timespec* timeout_ptr = nullptr;
  if (wake_at != Timestamp::Max()) {
    const int64_t wait = std::max<int64_t>(0, (wake_at - MonotonicNow()).nanos());
    timeout.tv_sec = static_cast<time_t>(wait / 1000000000);
    timeout.tv_nsec = static_cast<long>(wait % 1000000000);
    timeout_ptr = &timeout;
  }
  const int ready = ::ppoll(fds.data(), fds.size(), timeout_ptr, nullptr);
  if (ready < 0) {
    // A signal handler ran (see StopOnSignals); the caller's loop re-checks.
    if (errno == EINTR) return;
    throw SocketError("poll", errno);
  }
  for (size_t i = 0; i < fds.size() && !stop_requested_; ++i) {
    if (fds[i].revents == 0) continue;
    // An earlier callback in this round may have removed or replaced the watch.
    auto it = watchers_.find(fds[i].fd);
    if (it == watchers_.end() || it->second.serial != serials[i]) continue;
    // Copy: the callback may Unwatch its own fd, destroying the stored one.
    const FdCallback callback = it->second.callback;
    callback(fds[i].revents);
  }
}

void EventLoop::FireDueTimers(Timestamp now) {
  std::vector<TimerId> due;
  for (const auto& [id, timer] : timers_) {
    if (timer.when && *timer.when <= now) due.push_back(id);
  }
  for (TimerId id : due) {
    if (stop_requested_) return;
    auto it = timers_.find(id);
    // An earlier timer's callback may have destroyed, disarmed or moved this one.
    if (it == timers_.end() || !it->second.when || *it->second.when > now) continue;
    it->second.when.reset();
    const TimerCallback callback = it->second.callback;
    callback(now);
  }
}

}  // namespace punchlab::realio
