// ChildProcess's forked mode (a function run in a fork instead of an exec'd
// program: the matrix's simulated cells), WaitAnyExit, and Stop ending the
// child's whole process group.
#include "lab/child-process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <regex>
#include <string>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "lab/interrupt.h"

namespace punchlab::lab {
namespace {

int SleepLong() {
  std::this_thread::sleep_for(std::chrono::seconds(30));
  return 0;
}

TEST(ForkedChild, ItsOutputIsCapturedAndWhatItReturnsIsItsExitCode) {
  std::cout << "buffered before the fork\n";  // not the child's output
  ChildProcess child(
      "writer",
      [] {
        std::cout << "to stdout\n";
        std::fprintf(stderr, "to stderr\n");
        return 3;
      },
      ChildProcess::Forked{});
  ASSERT_TRUE(child.WaitExit(Duration::Seconds(10)));
  EXPECT_EQ(child.exit_code(), 3);
  EXPECT_EQ(child.Stdout(), "to stdout\n");
  EXPECT_EQ(child.Stderr(), "to stderr\n");
  EXPECT_EQ(child.command(), "writer");
}

TEST(ForkedChild, AThrowingBodyEndsWithFourAndItsMessage) {
  ChildProcess child(
      "thrower", []() -> int { throw std::runtime_error("it broke"); }, ChildProcess::Forked{});
  ASSERT_TRUE(child.WaitExit(Duration::Seconds(10)));
  EXPECT_EQ(child.exit_code(), 4);
  EXPECT_EQ(child.Stderr(), "it broke\n");
}

// The constructor returns while the body runs (the exec-report pipe is
// closed in the child), the lab's signal handlers do not survive into it
// (SIGTERM from Stop ends it at once, not after the SIGKILL grace), and
// WaitAnyExit returns as soon as the quicker of two ends.
TEST(ForkedChild, WaitAnyExitReturnsWithTheFirstToEndAndStopEndsTheOther) {
  InterruptGuard guard;
  ChildProcess slow("slow", SleepLong, ChildProcess::Forked{});
  ChildProcess quick("quick", [] { return 0; }, ChildProcess::Forked{});
  EXPECT_TRUE(ChildProcess::WaitAnyExit({&slow, &quick}, Duration::Seconds(20)));
  EXPECT_TRUE(quick.exited());
  EXPECT_FALSE(slow.exited());
  EXPECT_FALSE(ChildProcess::WaitAnyExit({&slow}, Duration::Millis(50)));
  slow.Stop(Duration::Seconds(5));
  EXPECT_EQ(slow.DescribeStatus(), "killed by signal 15");
}

// Whether `pid` still runs: a zombie has ended (init may reap it late or
// never; it holds no port), a reaped process is gone.
bool StillRunning(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  return !stat.has_value() || stat->state != 'Z';
}

// A child leads its own session and process group (ReadProcStat tells a
// process's: Lab::EndStrays spares the lab's own children by session).
TEST(ReadProcStat, AChildLeadsItsOwnSessionAndGroup) {
  ChildProcess child({"sleep", "30"});
  const std::optional<ProcStat> stat = ReadProcStat(child.pid());
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->session, child.pid());
  EXPECT_EQ(stat->group, child.pid());
  const std::optional<ProcStat> self = ReadProcStat(getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_NE(self->session, child.pid());
  child.Stop(Duration::Seconds(5));
  EXPECT_FALSE(ReadProcStat(child.pid()).has_value());  // reaped: gone
}

// A shell whose program ignores SIGTERM: the shell ends at the SIGTERM, its
// program only at the SIGKILL after the grace, and Stop returns only then,
// with the program ended, not left running with its port.
TEST(Stop, WaitsForTheWholeGroupAndKillsWhatIgnoresSigterm) {
  // The program prints its id once SIGTERM is ignored (inherited across exec).
  ChildProcess shell({"sh", "-c", "(trap '' TERM; exec sh -c 'echo $$; exec sleep 30') & wait"});
  const std::string line = shell.WaitForLine(std::regex("^[0-9]+$"), Duration::Seconds(10));
  const pid_t program = std::stoi(line);
  ASSERT_TRUE(StillRunning(program));
  const auto start = std::chrono::steady_clock::now();
  shell.Stop(Duration::Millis(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(shell.DescribeStatus(), "killed by signal 15");
  EXPECT_FALSE(StillRunning(program));
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(5));
}

// The same when the shell has already exited by itself: its program still
// runs in the group and is stopped with it.
TEST(Stop, StopsWhatTheChildLeftBehind) {
  ChildProcess shell({"sh", "-c", "(trap '' TERM; exec sh -c 'echo $$; exec sleep 30') &"});
  ASSERT_TRUE(shell.WaitExit(Duration::Seconds(10)));
  for (int i = 0; i < 1000 && shell.Stdout().find('\n') == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const pid_t program = std::stoi(shell.Stdout());
  ASSERT_TRUE(StillRunning(program));
  shell.Stop(Duration::Millis(100));
  EXPECT_FALSE(StillRunning(program));
}

}  // namespace
}  // namespace punchlab::lab
