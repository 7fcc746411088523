#include "realio/stop-on-signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "realio/socket-error.h"

namespace punchlab::realio {

namespace {

// The handler's only state: where to write. Plain int, set before the handler
// is installed and cleared after it is removed.
volatile sig_atomic_t g_write_fd = -1;

void OnSignal(int signal) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal);
  // Non-blocking: when the pipe is full a stop is already pending.
  [[maybe_unused]] const ssize_t ignored = ::write(g_write_fd, &byte, 1);
  errno = saved_errno;
}

}  // namespace

StopOnSignals::StopOnSignals(EventLoop& loop, std::vector<int> signals)
    : loop_(loop), signals_(std::move(signals)) {
  if (g_write_fd != -1) throw std::logic_error("StopOnSignals: only one instance at a time");
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw SocketError("pipe", errno);
  read_end_.Reset(fds[0]);
  write_end_.Reset(fds[1]);
  g_write_fd = write_end_.get();
  loop_.Watch(read_end_.get(), POLLIN, [this](short) { OnReadable(); });
  previous_.resize(signals_.size());
  for (size_t i = 0; i < signals_.size(); ++i) {
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: poll() returns EINTR at once instead of finishing its wait.
    action.sa_flags = 0;
    ::sigaction(signals_[i], &action, &previous_[i]);
  }
}

StopOnSignals::~StopOnSignals() {
  for (size_t i = 0; i < signals_.size(); ++i) ::sigaction(signals_[i], &previous_[i], nullptr);
  g_write_fd = -1;
  loop_.Unwatch(read_end_.get());
}

void StopOnSignals::OnReadable() {
  unsigned char byte = 0;
  while (::read(read_end_.get(), &byte, 1) == 1) received_ = byte;
  loop_.Stop();
}

}  // namespace punchlab::realio
