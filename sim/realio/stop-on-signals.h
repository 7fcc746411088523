// Stops an EventLoop cleanly on SIGINT / SIGTERM.
//
// The handler only writes the signal number into a pipe that the loop
// watches (the self-pipe trick): a signal that lands between the loop's checks
// and its poll() still wakes it, and no non-async-signal-safe code runs in
// handler context. The previous handlers come back when this is destroyed.
#pragma once

#include <csignal>
#include <vector>

#include "realio/event-loop.h"
#include "realio/unique-fd.h"

namespace punchlab::realio {

class StopOnSignals {
 public:
  // At most one instance may exist at a time (signal handlers are global).
  explicit StopOnSignals(EventLoop& loop, std::vector<int> signals = {SIGINT, SIGTERM});
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  // The signal that stopped the loop, or 0.
  int received() const { return received_; }

 private:
  void OnReadable();

  EventLoop& loop_;
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;
  UniqueFd read_end_;
  UniqueFd write_end_;
  int received_ = 0;
};

}  // namespace punchlab::realio
