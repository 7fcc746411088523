// punchlab: the user-facing CLI. Subcommands register themselves (cmd-*.cc).
#include "cli-common/allocator.h"
#include "cli-common/subcommand.h"

int main(int argc, char** argv) {
  // First: it may re-execute the program (heap huge pages, allocator.h).
  punchlab::cli::AdoptHeapHugePages(argv);
  punchlab::cli::HoldMmapThreshold();
  return punchlab::cli::DispatchSubcommand(
      "punchlab", "punchlab: a test harness for peer-to-peer NAT traversal", argc, argv);
}
