// HoldMmapThreshold (cli-common/allocator.h): after a big block is freed, a
// block of 128 KiB or more still gets a mapping of its own, where glibc's
// own rule would have raised the threshold above it and served it from the
// heap. Each check runs in a child process of its own (a death test), where
// glibc's threshold starts fresh.
#include "cli-common/allocator.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

namespace punchlab::cli {
namespace {

#if defined(M_MMAP_THRESHOLD) && !defined(__SANITIZE_ADDRESS__)  // ASan has its own allocator
// Where allocations go, so the compiler keeps each malloc/free pair.
void* volatile sink;

// Mapped blocks glibc holds now.
size_t MappedBlocks() { return mallinfo2().hblks; }

// Frees a 4 MiB block (mapped: above the starting threshold), then asks for
// 256 KiB, and exits 0 when that block got its own mapping, 1 when not.
[[noreturn]] void ExitMappedAfterABigFree() {
  sink = std::malloc(4 << 20);
  std::free(sink);
  const size_t before = MappedBlocks();
  sink = std::malloc(256 << 10);
  const bool mapped = MappedBlocks() == before + 1;
  std::free(sink);
  std::_Exit(mapped ? 0 : 1);
}

TEST(HoldMmapThreshold, ABlockOf256KiBIsMappedAfterA4MiBOneWasFreed) {
  EXPECT_EXIT(
      {
        HoldMmapThreshold();
        ExitMappedAfterABigFree();
      },
      ::testing::ExitedWithCode(0), "");
}

// What the call prevents: glibc's own rule.
TEST(HoldMmapThreshold, WithoutItGlibcServesThatBlockFromTheHeap) {
  EXPECT_EXIT(ExitMappedAfterABigFree(), ::testing::ExitedWithCode(1), "");
}
#endif

}  // namespace
}  // namespace punchlab::cli
