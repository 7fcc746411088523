// How both binaries' main() set up glibc's allocator before anything else.
#pragma once

namespace punchlab::cli {

// The variable that turns heap huge pages off: PUNCHLAB_HEAP_HUGE_PAGES=0
// ("1", empty or unset: on; any other value is an error, exit 2).
inline constexpr char kHeapHugePagesVariable[] = "PUNCHLAB_HEAP_HUGE_PAGES";

// Gives `punchlab`'s heap transparent huge pages (2 MiB) by re-executing the
// program once (/proc/self/exe, the same argv) with glibc.malloc.hugetlb=1
// added to GLIBC_TUNABLES: glibc then madvise(MADV_HUGEPAGE)s the heap it
// grows, which the kernel's THP "madvise" mode (this machine's) needs before
// it backs memory with huge pages. Only in THP madvise mode: glibc (2.36)
// acts on glibc.malloc.hugetlb=1 only then (under "always" the kernel backs
// the heap with huge pages where it can by itself, and glibc ignores the
// tunable: the re-exec would buy nothing). glibc reads its tunables only
// when a process starts, so there is no other way for a program to ask for
// it while keeping glibc's malloc. Why: a simulated tailnet of 1,000 or more
// nodes spreads each event over many small heap objects of other nodes, so
// its time goes to TLB misses and page walks (bench/README.md, "Session 14
// (cache19)"); with huge pages the bench's tailnet-acl of 1,000 and 10,000
// took 18-19 % less CPU on a quiet machine ("Session 14 (lead)"; on the
// shared one, "Session 15 (alloc15)": the tailnet-acl of 1,000 from -10.5 %
// to +2.3 % by window, a crowd -8.8 %, the fully visible tailnet -7.0 %) for
// about a quarter more resident memory. Simulated results do not depend on
// where the heap lives.
//
// Returns without re-executing (and so keeps 4 KiB pages) when
// PUNCHLAB_HEAP_HUGE_PAGES is "0", when GLIBC_TUNABLES already says
// glibc.malloc.hugetlb (the user's choice stands), when the kernel's THP
// mode is not "madvise" (KernelThpModeIsMadvise: no THP, "never" or
// "always"), under valgrind (it would lose the process: it does not follow
// an exec by default) or a sanitizer's allocator, and when the exec fails
// (the program goes on as it was). PUNCHLAB_HEAP_HUGE_PAGES set to anything
// but "0", "1" or "" ends the program first: an error naming the variable
// and its value, exit 2 (kExitUsage, as PUNCHLAB_LAB_LINKS). The re-executed
// process puts the user's GLIBC_TUNABLES back (as it was, or unset) before
// main goes on, so the programs it starts (punchlab-node in the lab, Python,
// tshark, ...) get the environment the user gave, and re-executes never more
// than once; it also takes its name (comm, what ps, top and pgrep show) back
// from argv[0]: the exec of /proc/self/exe named it "exe".
// (A debugger that follows the exec stops in main twice; the opt-out keeps
// one program image.)
// Only a program's main can do this: the Python bindings run in the
// interpreter's process, which reads GLIBC_TUNABLES when Python starts.
void AdoptHeapHugePages(char** argv);

// Whether the kernel's transparent huge pages mode
// (/sys/kernel/mm/transparent_hugepage/enabled) is exactly "[madvise]": the
// one mode where heap huge pages re-execute (above).
bool KernelThpModeIsMadvise();

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
// addresses. With heap huge pages (AdoptHeapHugePages) glibc grows the
// heap in whole huge pages, so up to 2 MiB at its top is free, and a block
// that fits there comes from the heap even above the threshold; the hold
// still maps every bigger one (at 1,000 nodes the fully visible tailnet
// peaked 871 -> ~900 MiB with both). Does nothing where the C library has no
// such knob.
void HoldMmapThreshold();

}  // namespace punchlab::cli
