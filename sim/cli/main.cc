// punchlab: the user-facing CLI. Subcommands register themselves (cmd-*.cc).
#include <malloc.h>

#include "cli-common/subcommand.h"

int main(int argc, char** argv) {
#ifdef M_MMAP_THRESHOLD
  // Every block of 128 KiB or more gets a mapping of its own, returned to
  // the system when freed. That is glibc's starting threshold, but glibc
  // raises it to the largest such block ever freed (up to 32 MiB): after the
  // first big domain's netmaps (~290 KB each at 1,000 nodes: the server's
  // output, the nodes' control frames) every later one comes from the heap,
  // which they fragment, and the freed space stays resident. A tailnet of
  // 1,000 peaked ~80 MiB lower with the threshold held (bench/README.md,
  // "Session 12 (tail19)"); smaller blocks, where nearly all allocations
  // are, do not change. Simulated results do not depend on addresses.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
  return punchlab::cli::DispatchSubcommand(
      "punchlab", "punchlab: a test harness for peer-to-peer NAT traversal", argc, argv);
}
