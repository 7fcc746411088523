// Runs a real command-line client (Debian's upnpc, natpmpc) as a child
// process while an event loop serves the model it talks to, and collects
// its stdout and stderr: the realio tests that hold clients nobody here
// wrote against the NAT model's servers share it.
#pragma once

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "loopback-helpers.h"
#include "realio/event-loop.h"

namespace punchlab::realio {

inline bool HaveTool(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// `program` with `args`, its stdout and stderr together, while `loop`
// serves; nullopt when it did not end within `bound` (it is killed).
inline std::optional<std::string> RunTool(EventLoop& loop, const std::string& program,
                                          std::vector<std::string> args,
                                          Duration bound = kLoopbackBound) {
  int out[2];
  if (pipe(out) != 0) return std::nullopt;
  const pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    close(out[1]);
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(program.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  bool ended = false;
  loop.Watch(out[0], POLLIN, [&](short) {
    char buf[4096];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) text.append(buf, static_cast<size_t>(n));
    if (n <= 0) {
      loop.Unwatch(out[0]);
      ended = true;
    }
  });
  const bool done = RunUntil(loop, [&] { return ended; }, bound);
  int status = 0;
  if (!done) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  loop.Unwatch(out[0]);
  close(out[0]);
  if (!done) return std::nullopt;
  return text;
}

}  // namespace punchlab::realio
