// The bench's memory cap: a workload that grows far past its memory goal
// must fail on its own instead of taking a shared machine's memory (a 2,100
// node tailnet once grew to 22 GiB and stalled a 24 GiB machine for half an
// hour). The cap is RLIMIT_AS, the process's address space: unlike resident
// memory the kernel enforces it at the allocation, so the allocation fails
// in the process that asked, not in the OOM killer's choice of victim.
#pragma once

#include <cstdint>
#include <string>

namespace punchlab::cli {

// The machine's physical memory, in MiB.
uint64_t PhysicalMemoryMib();

// The soft RLIMIT_AS now, in MiB (0: unlimited).
uint64_t AddressSpaceLimitMib();

// Caps this process's address space (and so its future children's) at
// `mib`, never above a cap it already has (e.g. from prlimit(1)): returns the
// cap in force afterwards, in MiB. Soft and hard limit alike: for a child
// process that must not lift it again.
uint64_t CapAddressSpace(uint64_t mib);

// From now on, an allocation that fails (operator new, after the cap) writes
// `message` to `fd` and ends the process with _exit(0), without unwinding:
// nothing is allocated on that path, so the message always gets out. For a
// bench child, whose parent reads `message` as the workload's outcome.
void ReportOutOfMemoryTo(int fd, std::string message);

}  // namespace punchlab::cli
