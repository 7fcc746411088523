// How both binaries' main() set up glibc's allocator before anything else.
#pragma once

namespace punchlab::cli {

// Holds glibc's mmap threshold at 128 KiB: every block of 128 KiB or more
// gets a mapping of its own, returned to the system when freed. That is
// glibc's starting threshold, but glibc raises it to the largest such block
// ever freed (up to 32 MiB): after the first big domain's netmaps (~290 KB
// each at 1,000 nodes: the control server's output, the nodes' control
// frames) every later one comes from the heap, which they fragment, and the
// freed space stays resident. A simulated tailnet of 1,000 peaked ~80 MiB
// lower with the threshold held (bench/README.md, "Session 12 (issue 19,
// tail19)"); the real control server (punchlab-node control-server) and
// nodes build and read the same netmaps. Smaller blocks, where nearly all
// allocations are, do not change; simulated results do not depend on
// addresses. Does nothing where the C library has no such knob.
void HoldMmapThreshold();

}  // namespace punchlab::cli
