// One process the lab started. argv is exec'd directly (never through a
// shell, so no argument is ever re-parsed), in its own session (a terminal's
// Ctrl-C reaches only the lab, which then stops its children in order),
// with stdin fed from a given text or /dev/null, and stdout and stderr going
// into memory files: the child never blocks on a full pipe, and its output can
// be read at any time, also after it exited. Every wait is bounded.
//
// Stopping it stops its whole process group and waits until no member of it
// is still running (what the child forked and left behind belongs to init
// then; a zombie there holds no port or namespace, so it does not count). No
// subreaper: a process that embeds the lab (a test, the runner) would keep
// every orphan of every lab as its zombie.
// A child dies with the thread that started it (PR_SET_PDEATHSIG, SIGKILL),
// so `kill -9` of the runner leaves no process behind; the namespaces it
// made are removed by the Lab's guard (netns-lab.h).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "punchlab/time.h"
#include "realio/unique-fd.h"

namespace punchlab::lab {

// "ip netns exec plab1x1-router nft -f -", for messages.
std::string JoinCommand(const std::vector<std::string>& argv);

// What /proc/PID/stat says of a process: its state ('Z': a zombie, ended
// but not reaped), process group and session (a ChildProcess leads its own:
// the session id is its pid), and when it started (clock ticks since boot,
// field 22: tells a process from an earlier one that had the same pid);
// nullopt once it is gone (or its entry could not be read).
struct ProcStat {
  char state = 0;
  pid_t group = 0;
  pid_t session = 0;
  unsigned long long start_time = 0;
};
std::optional<ProcStat> ReadProcStat(pid_t pid);

class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH) with `input` on stdin. Throws LabError
  // when it cannot be started (e.g. not installed).
  explicit ChildProcess(std::vector<std::string> argv, const std::string& input = "");
  // Starts argv with a pipe on stdin that stays open: WriteStdin feeds it,
  // CloseStdin (or the destructor) ends it.
  struct StdinPipe {};
  ChildProcess(std::vector<std::string> argv, StdinPipe);
  // Starts argv (stdin /dev/null) in a mount namespace of its own, made after
  // the fork, in which each bind's source is mounted over its target, for
  // this child only (the namespace is a slave of the host's: nothing
  // propagates back). E.g. /dev/null over /dev/console for a daemon whose
  // syslog falls back to the console (lab/miniupnpd.h).
  struct BindMount {
    std::string source;
    std::string target;
  };
  ChildProcess(std::vector<std::string> argv, std::vector<BindMount> binds);
  // Runs `body` in a forked copy of this process instead of exec'ing a
  // program: the same session, stdin (/dev/null), memory-file outputs and
  // death signal, without paying a program's start (dynamic linking, static
  // initialisers) again. The child ends with what body returns (4, with the
  // message on stderr, when it throws), after flushing its streams and
  // without running this process's exit handlers. Only for a
  // single-threaded parent (a fork copies only the calling thread). `name`
  // stands for the command in messages.
  struct Forked {};
  ChildProcess(std::string name, std::function<int()> body, Forked);
  // Stops it (SIGTERM, then SIGKILL): no child outlives its owner.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  std::string command() const { return JoinCommand(argv_); }

  // Everything it wrote so far.
  std::string Stdout() const;
  std::string Stderr() const;
  // How much it wrote to stdout and stderr so far, without reading it.
  uint64_t OutputBytes() const;

  // Writes all of `text` to the child's stdin pipe (blocking). Throws
  // LabError when there is no pipe or the child has closed it.
  void WriteStdin(const std::string& text);
  void CloseStdin() { stdin_.Reset(); }

  bool exited();
  // The exit code, or 128 + the signal that ended it; -1 while it runs.
  int exit_code() const { return exit_code_; }
  // "exit 0", "killed by signal 9", "running".
  std::string DescribeStatus() const;

  // Waits at most `timeout` for it to exit; true when it did. An
  // interruptible wait throws Interrupted when a lab signal arrives.
  bool WaitExit(Duration timeout, bool interruptible = true);
  // Waits at most `timeout` until one of `children` has exited (true), so a
  // runner of several notices whichever ends first at once. Interruptible
  // like WaitExit.
  static bool WaitAnyExit(const std::vector<ChildProcess*>& children, Duration timeout);
  // Waits until a complete line of stdout (or of stderr, for a daemon that
  // logs there) matches `pattern` and returns that line. Throws LabError
  // (quoting its output) when it exits first or `timeout` passes.
  enum class Stream { kStdout, kStderr };
  // `poll`: how often it looks again (output going to a memory file has no
  // readiness signal of its own).
  static constexpr Duration kOutputPoll = Duration::Millis(20);
  std::string WaitForLine(const std::regex& pattern, Duration timeout,
                          Stream stream = Stream::kStdout, Duration poll = kOutputPoll);
  // SIGTERM to its process group; waits up to `grace` for the whole group
  // to end (not only the child: what it forked too, e.g. a shell's program
  // that ignores SIGTERM and still holds its port), then SIGKILL to the group
  // and waits up to `grace` again. Also when the child itself has already
  // exited but left processes in its group. Never interrupted: teardown must
  // finish.
  void Stop(Duration grace = Duration::Seconds(2));
  // SIGKILL to its process group at once (a power cut: no clean-up of its
  // own), then waits at most `timeout` for the group to end. Never interrupted.
  void Kill(Duration timeout = Duration::Seconds(2));
  // How often Stop and Kill look whether the rest of the group has ended
  // once the child has (those processes have no descriptor to wait on).
  static constexpr Duration kGroupPoll = Duration::Millis(10);

 private:
  // Reaps it if it exited; true when it is gone.
  bool Reap();
  // Polls the child's pidfd (and the lab's signal pipe) up to `timeout`.
  void PollOnce(Duration timeout, bool interruptible);
  // Signals its process group (the child alone before its setsid); nothing
  // once the group is gone.
  void Signal(int signal);
  // True once the child is reaped and no process of its group is still
  // running (zombies do not count).
  bool GroupGone();
  bool WaitGroupGone(Duration timeout);
  // Forks (an empty argv_ is a LabError); the child execs argv_, or runs
  // `body` when there is one.
  void Start(realio::UniqueFd in, const std::function<int()>& body = {});

  std::vector<std::string> argv_;
  std::vector<BindMount> binds_;
  pid_t pid_ = -1;
  realio::UniqueFd pidfd_;
  realio::UniqueFd stdin_;  // the write end of the stdin pipe, when there is one
  realio::UniqueFd stdout_;
  realio::UniqueFd stderr_;
  int exit_code_ = -1;
  int term_signal_ = 0;
  bool group_gone_ = false;  // then its id may be another's: never signal it again
};

}  // namespace punchlab::lab
