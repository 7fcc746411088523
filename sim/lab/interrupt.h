// Signals must not leave a lab behind. While an InterruptGuard lives,
// SIGINT, SIGTERM and SIGHUP only record themselves and write a byte into a
// self-pipe (InterruptFd), which every interruptible wait in the lab polls
// next to what it waits for; such a wait then throws Interrupted, the stack
// unwinds through the Lab's destructor, which deletes what the lab made, and
// the program finally ends the way the sender asked (ReraiseCaughtSignal).
// Teardown's own waits do not poll the pipe: a second Ctrl-C cannot cut the
// cleanup short.
#pragma once

namespace punchlab::lab {

class InterruptGuard {
 public:
  // Guards nest: the handlers are installed by the first one alive and the
  // previous ones restored when the last one goes. A signal that was ignored
  // when the first guard came (nohup) stays ignored.
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

// The signal caught since the first guard was installed, or 0.
int CaughtSignal();
// Readable once a signal was caught; -1 when no guard is alive.
int InterruptFd();
// Throws Interrupted when a signal was caught.
void ThrowIfInterrupted();
// After the lab is gone: when a signal was caught, ends the process with it
// (default disposition), so callers see "killed by SIGTERM" as they would
// have without the lab's cleanup. Returns when none was caught.
void ReraiseCaughtSignal();

}  // namespace punchlab::lab
