// punchlab-node: the protocol core on real sockets. Each role is a subcommand
// (node-*.cc) that registers itself.
#include "cli-common/allocator.h"
#include "cli-common/subcommand.h"

int main(int argc, char** argv) {
  punchlab::cli::HoldMmapThreshold();
  return punchlab::cli::DispatchSubcommand(
      "punchlab-node", "punchlab-node: punchlab's protocol core on real sockets", argc, argv);
}
