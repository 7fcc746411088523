// ChildProcess's forked mode (a function run in a fork instead of an exec'd
// program: the matrix's simulated cells) and WaitAnyExit.
#include "lab/child-process.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
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

}  // namespace
}  // namespace punchlab::lab
