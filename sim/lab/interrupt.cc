#include "lab/interrupt.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <csignal>

#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};

volatile sig_atomic_t g_caught = 0;
int g_pipe[2] = {-1, -1};
int g_depth = 0;
std::array<struct sigaction, kSignals.size()> g_previous;

void OnSignal(int signal) {
  g_caught = signal;
  const char byte = 1;
  // Async-signal-safe; a full pipe already wakes every poll, so a failed
  // write loses nothing.
  [[maybe_unused]] const ssize_t n = write(g_pipe[1], &byte, 1);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  if (g_depth++ > 0) return;
  g_caught = 0;
  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    --g_depth;
    throw LabError("cannot create the lab's signal pipe");
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR at once
  for (size_t i = 0; i < kSignals.size(); ++i) {
    sigaction(kSignals[i], nullptr, &g_previous[i]);
    if (g_previous[i].sa_handler == SIG_IGN) continue;
    sigaction(kSignals[i], &action, nullptr);
  }
}

InterruptGuard::~InterruptGuard() {
  if (--g_depth > 0) return;
  for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &g_previous[i], nullptr);
  close(g_pipe[0]);
  close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

int CaughtSignal() { return g_caught; }

int InterruptFd() { return g_pipe[0]; }

void ThrowIfInterrupted() {
  if (g_caught != 0) throw Interrupted(g_caught);
}

void ReraiseCaughtSignal() {
  const int signal = g_caught;
  if (signal == 0) return;
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace punchlab::lab
