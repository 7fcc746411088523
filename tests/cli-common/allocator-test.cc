// HoldMmapThreshold (cli-common/allocator.h): after a big block is freed, a
// block of 128 KiB or more still gets a mapping of its own, where glibc's
// own rule would have raised the threshold above it and served it from the
// heap. Each check runs in a child process of its own (a death test), where
// glibc's threshold starts fresh: a fresh process (the threadsafe style
// re-executes the test), started without the environment that would set
// glibc's malloc knobs. Any of them (MALLOC_MMAP_THRESHOLD_ and the others
// below, or GLIBC_TUNABLES' glibc.malloc.*) fixes the threshold, as mallopt
// does, so glibc's own rule, which every check depends on, would not run.
// glibc.malloc.hugetlb does not fix it: punchlab runs with it
// (AdoptHeapHugePages), and the checks of that case set it.
#include "cli-common/allocator.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace punchlab::cli {
namespace {

#if defined(M_MMAP_THRESHOLD) && !defined(__SANITIZE_ADDRESS__)  // ASan has its own allocator
// Where allocations go, so the compiler keeps each malloc/free pair.
void* volatile sink;

// Mapped blocks glibc holds now.
size_t MappedBlocks() { return mallinfo2().hblks; }

// Frees a 4 MiB block (mapped: above the starting threshold), then asks for
// `size` (256 KiB unless told), and exits 0 when that block got its own
// mapping, 1 when not.
[[noreturn]] void ExitMappedAfterABigFree(size_t size = 256 << 10) {
  sink = std::malloc(4 << 20);
  std::free(sink);
  const size_t before = MappedBlocks();
  sink = std::malloc(size);
  const bool mapped = MappedBlocks() == before + 1;
  std::free(sink);
  std::_Exit(mapped ? 0 : 1);
}

// The same after HoldMmapThreshold.
[[noreturn]] void ExitMappedAfterABigFreeHeld(size_t size = 256 << 10) {
  HoldMmapThreshold();
  ExitMappedAfterABigFree(size);
}

// Clears glibc's malloc variables for the children, as re-executed; puts
// them back afterwards.
class HoldMmapThresholdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    for (const char* name : {"GLIBC_TUNABLES", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                             "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"}) {
      if (const char* value = std::getenv(name)) {
        saved_.emplace_back(name, value);
        unsetenv(name);
      }
    }
  }
  void TearDown() override {
    unsetenv("GLIBC_TUNABLES");
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }
  // The children start as punchlab runs: with heap huge pages
  // (AdoptHeapHugePages), glibc.malloc.hugetlb=1. Only in THP madvise mode:
  // elsewhere punchlab does not set it and glibc ignores it.
  static void WithHeapHugePages() { setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1); }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(HoldMmapThresholdTest, ABlockOf256KiBIsMappedAfterA4MiBOneWasFreed) {
  EXPECT_EXIT(ExitMappedAfterABigFreeHeld(), ::testing::ExitedWithCode(0), "");
}

// With heap huge pages glibc grows the heap in whole huge pages, and a
// block that fits in the up to 2 MiB free at its top comes from there,
// held threshold or not ...
TEST_F(HoldMmapThresholdTest, WithHeapHugePagesABlockThatFitsAtTheHeapsTopComesFromIt) {
  if (!KernelThpModeIsMadvise()) {
    GTEST_SKIP() << "THP mode is not madvise: glibc ignores glibc.malloc.hugetlb=1 there and "
                    "punchlab does not set it (allocator.h)";
  }
  WithHeapHugePages();
  EXPECT_EXIT(ExitMappedAfterABigFreeHeld(256 << 10), ::testing::ExitedWithCode(1), "");
}

// ... and a bigger one (3 MiB: more than the top's 2 MiB, less than the 4
// MiB glibc's rule raises the threshold to) still gets a mapping of its own
// with the hold, and grows the heap without it.
TEST_F(HoldMmapThresholdTest, WithHeapHugePagesABlockPastTheHeapsTopIsMapped) {
  if (!KernelThpModeIsMadvise()) {
    GTEST_SKIP() << "THP mode is not madvise: glibc ignores glibc.malloc.hugetlb=1 there and "
                    "punchlab does not set it (allocator.h)";
  }
  WithHeapHugePages();
  EXPECT_EXIT(ExitMappedAfterABigFreeHeld(3 << 20), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(ExitMappedAfterABigFree(3 << 20), ::testing::ExitedWithCode(1), "");
}

// What the call prevents: glibc's own rule.
TEST_F(HoldMmapThresholdTest, WithoutItGlibcServesThatBlockFromTheHeap) {
  EXPECT_EXIT(ExitMappedAfterABigFree(), ::testing::ExitedWithCode(1), "");
}
#endif

}  // namespace
}  // namespace punchlab::cli
