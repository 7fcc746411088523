#include "lab/child-process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "realio/monotonic-clock.h"

namespace punchlab::lab {
namespace {

// What a child that could not exec reports beside its errno (>= 0: the
// index of the bind mount that failed).
constexpr int kExecFailed = -1;
constexpr int kNamespaceFailed = -2;

std::string ErrnoText(int error) { return std::strerror(error); }

realio::UniqueFd MemoryFile(const char* name) {
  realio::UniqueFd fd(memfd_create(name, MFD_CLOEXEC));
  if (!fd.valid()) throw LabError(std::string("memfd_create: ") + ErrnoText(errno));
  return fd;
}

// A child's stdin: `input` in a memory file, or /dev/null when empty.
realio::UniqueFd InputFile(const std::string& input) {
  if (input.empty()) {
    realio::UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null.valid()) throw LabError("open /dev/null: " + ErrnoText(errno));
    return null;
  }
  realio::UniqueFd fd = MemoryFile("lab-stdin");
  size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = write(fd.get(), input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw LabError(std::string("writing a child's stdin: ") + ErrnoText(errno));
    written += static_cast<size_t>(n);
  }
  lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string ReadAll(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size <= 0) return {};
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

int ToPollMillis(Duration d) {
  const int64_t ms = (d.nanos() + 999999) / 1000000;
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 60000));
}

// The forked child's life (ChildProcess's Forked constructor): what an exec
// would have reset is reset here (the lab's signal handlers, which would
// only record a SIGTERM from the parent's Stop), then body runs and the
// child ends without this process's exit handlers and static destructors.
int RunForked(const std::function<int()>& body) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction action {};
    if (sigaction(sig, nullptr, &action) == 0 && action.sa_handler != SIG_IGN) {
      signal(sig, SIG_DFL);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int code = 4;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
  } catch (...) {
    std::cerr << "unknown exception\n";
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  return code;
}

}  // namespace

std::string JoinCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::string& input)
    : argv_(std::move(argv)) {
  Start(InputFile(input));
}

ChildProcess::ChildProcess(std::vector<std::string> argv, StdinPipe) : argv_(std::move(argv)) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw LabError("pipe2: " + ErrnoText(errno));
  realio::UniqueFd in(fds[0]);
  stdin_ = realio::UniqueFd(fds[1]);
  Start(std::move(in));
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::vector<BindMount> binds)
    : argv_(std::move(argv)), binds_(std::move(binds)) {
  Start(InputFile(""));
}

void ChildProcess::WriteStdin(const std::string& text) {
  if (!stdin_.valid()) throw LabError("'" + command() + "' has no stdin pipe");
  // A child that is gone must give EPIPE, not end the runner with SIGPIPE:
  // block it while writing and swallow one that became pending.
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  size_t written = 0;
  int error = 0;
  while (written < text.size()) {
    const ssize_t n = write(stdin_.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (error == EPIPE) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (error != 0) {
    Reap();
    throw LabError("writing to '" + command() + "' (" + DescribeStatus() + "): " + ErrnoText(error));
  }
}

ChildProcess::ChildProcess(std::string name, std::function<int()> body, Forked)
    : argv_{std::move(name)} {
  Start(InputFile(""), body);
}

void ChildProcess::Start(realio::UniqueFd in, const std::function<int()>& body) {
  if (argv_.empty()) throw LabError("cannot start an empty command");
  stdout_ = MemoryFile("lab-stdout");
  stderr_ = MemoryFile("lab-stderr");
  // The child reports a failed exec through this pipe; a successful exec
  // closes it (O_CLOEXEC) and the parent reads end-of-file.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) throw LabError("pipe2: " + ErrnoText(errno));
  realio::UniqueFd exec_read(exec_pipe[0]);
  realio::UniqueFd exec_write(exec_pipe[1]);
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<char*> args;
  for (std::string& arg : argv_) args.push_back(arg.data());
  args.push_back(nullptr);

  if (body) {
    // Or the child would print what this process had buffered as its own.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
  }
  // A forked body runs this process's code: until RunForked has reset the
  // lab's handlers, a SIGTERM from Stop() would only be recorded (and
  // written to the signal pipe it shares with us). Blocked over the fork, it
  // waits in the child until RunForked clears the mask.
  sigset_t lab_signals;
  sigset_t before;
  sigemptyset(&before);
  sigemptyset(&lab_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&lab_signals, sig);
  if (body) sigprocmask(SIG_BLOCK, &lab_signals, &before);
  const pid_t parent = getpid();
  pid_ = fork();
  if (body && pid_ != 0) sigprocmask(SIG_SETMASK, &before, nullptr);
  if (pid_ < 0) throw LabError("fork for '" + command() + "': " + ErrnoText(errno));
  if (pid_ == 0) {
    // Dies with its parent, however the parent ends (kept across exec; `ip
    // netns exec` execs in place, so the command itself has it).
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(127);
    setsid();
    dup2(in.get(), STDIN_FILENO);
    dup2(stdout_.get(), STDOUT_FILENO);
    dup2(stderr_.get(), STDERR_FILENO);
    if (body) {
      // No exec will close the report pipe: close it, or the parent waits
      // for this child's end to read end-of-file.
      exec_write.Reset();
      exec_read.Reset();
      _exit(RunForked(body));
    }
    // {errno, the bind that failed, kExecFailed or kNamespaceFailed}: what
    // the parent reports.
    int report[2] = {0, kExecFailed};
    if (!binds_.empty()) {
      if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
        report[0] = errno;
        report[1] = kNamespaceFailed;
      }
      for (size_t i = 0; report[0] == 0 && i < binds_.size(); ++i) {
        if (mount(binds_[i].source.c_str(), binds_[i].target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
          report[0] = errno;
          report[1] = static_cast<int>(i);
        }
      }
    }
    if (report[0] == 0) {
      execvp(args[0], args.data());
      report[0] = errno;
    }
    [[maybe_unused]] const ssize_t n = write(exec_write.get(), report, sizeof report);
    _exit(127);
  }
  exec_write.Reset();
  int report[2] = {0, kExecFailed};
  ssize_t n;
  do {
    n = read(exec_read.get(), report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof report)) {
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    if (report[1] == kNamespaceFailed) {
      throw LabError("cannot make a mount namespace for '" + command() + "': " +
                     ErrnoText(report[0]));
    }
    if (report[1] >= 0) {
      const BindMount& b = binds_[static_cast<size_t>(report[1])];
      throw LabError("cannot mount " + b.source + " over " + b.target + " for '" + command() +
                     "': " + ErrnoText(report[0]));
    }
    throw LabError("cannot run '" + command() + "': " + ErrnoText(report[0]));
  }
  pidfd_ = realio::UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
  if (!pidfd_.valid()) {
    const int error = errno;
    Signal(SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw LabError("pidfd_open for '" + command() + "': " + ErrnoText(error));
  }
}

ChildProcess::~ChildProcess() {
  try {
    Stop();
  } catch (...) {
    // A destructor must not throw; Stop only fails on a broken system.
  }
}

std::string ChildProcess::Stdout() const { return ReadAll(stdout_.get()); }

std::string ChildProcess::Stderr() const { return ReadAll(stderr_.get()); }

uint64_t ChildProcess::OutputBytes() const {
  uint64_t total = 0;
  for (int fd : {stdout_.get(), stderr_.get()}) {
    struct stat st {};
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

bool ChildProcess::Reap() {
  if (pid_ < 0 || exit_code_ >= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  if (WIFSIGNALED(status)) {
    term_signal_ = WTERMSIG(status);
    exit_code_ = 128 + term_signal_;
  } else {
    exit_code_ = WEXITSTATUS(status);
  }
  return true;
}

bool ChildProcess::exited() { return Reap(); }

std::string ChildProcess::DescribeStatus() const {
  if (exit_code_ < 0) return "running";
  if (term_signal_ != 0) return "killed by signal " + std::to_string(term_signal_);
  return "exit " + std::to_string(exit_code_);
}

void ChildProcess::PollOnce(Duration timeout, bool interruptible) {
  pollfd fds[2] = {{pidfd_.get(), POLLIN, 0}, {InterruptFd(), POLLIN, 0}};
  const nfds_t count = interruptible && InterruptFd() >= 0 ? 2 : 1;
  // EINTR (a signal) simply ends this round; the caller looks again.
  poll(fds, count, ToPollMillis(timeout));
  if (interruptible) ThrowIfInterrupted();
}

bool ChildProcess::WaitExit(Duration timeout, bool interruptible) {
  const Timestamp deadline = realio::MonotonicNow() + timeout;
  while (true) {
    if (Reap()) return true;
    if (interruptible) ThrowIfInterrupted();
    const Timestamp now = realio::MonotonicNow();
    if (now >= deadline) return false;
    PollOnce(deadline - now, interruptible);
  }
}

bool ChildProcess::WaitAnyExit(const std::vector<ChildProcess*>& children, Duration timeout) {
  const Timestamp deadline = realio::MonotonicNow() + timeout;
  while (true) {
    for (ChildProcess* c : children) {
      if (c->Reap()) return true;
    }
    ThrowIfInterrupted();
    const Timestamp now = realio::MonotonicNow();
    if (now >= deadline || children.empty()) return false;
    std::vector<pollfd> fds;
    for (ChildProcess* c : children) fds.push_back({c->pidfd_.get(), POLLIN, 0});
    if (InterruptFd() >= 0) fds.push_back({InterruptFd(), POLLIN, 0});
    poll(fds.data(), fds.size(), ToPollMillis(deadline - now));
  }
}

std::string ChildProcess::WaitForLine(const std::regex& pattern, Duration timeout,
                                      Stream stream, Duration poll) {
  const Timestamp deadline = realio::MonotonicNow() + timeout;
  while (true) {
    // Look before reaping: a process may print the line and exit at once.
    const bool gone = Reap();
    const std::string out = stream == Stream::kStdout ? Stdout() : Stderr();
    size_t start = 0;
    for (size_t end; (end = out.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string line = out.substr(start, end - start);
      if (std::regex_search(line, pattern)) return line;
    }
    const Timestamp now = realio::MonotonicNow();
    if (gone || now >= deadline) {
      const std::string why =
          gone ? "ended (" + DescribeStatus() + ")" : "is still running after " + timeout.ToString();
      throw LabError("'" + command() + "' " + why + " without printing the expected line; stdout: " +
                     out + " stderr: " + Stderr());
    }
    PollOnce(std::min(deadline - now, poll), true);
  }
}

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  // The fields after the command's closing parenthesis (the command itself
  // may hold spaces and parentheses): state (field 3), parent, process
  // group, session (6), then fields 7 to 21, then the start time (22).
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(paren + 1));
  ProcStat stat;
  long parent = 0, group = 0, session = 0;  // the parent is read past, not kept
  if (!(fields >> stat.state >> parent >> group >> session)) return std::nullopt;
  std::string skipped;
  for (int field = 7; field <= 21; ++field) {
    if (!(fields >> skipped)) return std::nullopt;
  }
  if (!(fields >> stat.start_time)) return std::nullopt;
  stat.group = static_cast<pid_t>(group);
  stat.session = static_cast<pid_t>(session);
  return stat;
}

namespace {

// Whether any process of group `pgid` is still running (not a zombie).
bool GroupHasLiveMember(pid_t pgid) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return kill(-pgid, 0) == 0 || errno != ESRCH;
  bool live = false;
  while (const dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    const std::optional<ProcStat> stat = ReadProcStat(std::atoi(entry->d_name));
    if (stat && stat->group == pgid && stat->state != 'Z' && stat->state != 'X') {
      live = true;
      break;
    }
  }
  closedir(proc);
  return live;
}

}  // namespace

void ChildProcess::Signal(int signal) {
  if (group_gone_) return;  // its id may be another's by now
  // The child leads its own process group (setsid): signal the group, so
  // whatever it forked goes too. Before its setsid there is no such group
  // yet: signal the child alone, which is not reaped yet, so its id is still
  // ours (a reaped leader's id is held only by what is left of its group).
  if (kill(-pid_, signal) != 0 && exit_code_ < 0) kill(pid_, signal);
}

bool ChildProcess::GroupGone() {
  if (pid_ < 0 || group_gone_) return true;
  // The leader first: until its setsid the group is not its own.
  if (!Reap()) return false;
  // What the leader forked and left behind went to init (or to a subreaper
  // above us), which may never reap it: a zombie holds no port and no
  // namespace, so only members still running count.
  if (!GroupHasLiveMember(pid_)) group_gone_ = true;
  return group_gone_;
}

bool ChildProcess::WaitGroupGone(Duration timeout) {
  const Timestamp deadline = realio::MonotonicNow() + timeout;
  while (true) {
    if (GroupGone()) return true;
    const Timestamp now = realio::MonotonicNow();
    if (now >= deadline) return false;
    if (exit_code_ < 0) {
      PollOnce(deadline - now, false);  // the leader's pidfd says when it ends
    } else {
      // The rest of the group has no descriptor to wait on: look again shortly.
      poll(nullptr, 0, ToPollMillis(std::min(deadline - now, kGroupPoll)));
    }
  }
}

void ChildProcess::Stop(Duration grace) {
  if (GroupGone()) return;
  Signal(SIGTERM);
  if (WaitGroupGone(grace)) return;
  Signal(SIGKILL);
  WaitGroupGone(grace);
}

void ChildProcess::Kill(Duration timeout) {
  if (GroupGone()) return;
  Signal(SIGKILL);
  WaitGroupGone(timeout);
}

}  // namespace punchlab::lab
