// A program whose main() starts as punchlab's does (AdoptHeapHugePages), for
// test_heap_huge_pages.py: it grows its heap by 64 MiB of small blocks and
// prints, one per line:
//   re-executed <0|1>              (its environment at exec, /proc/self/environ,
//                                   has the variable only a re-exec sets)
//   GLIBC_TUNABLES=<getenv's value now, what its children get | ->
//   heap huge-page-advised <0|1>   (a [heap] mapping with VmFlags "hg":
//                                   madvise(MADV_HUGEPAGE) was called on it)
//   malloc perturbed <0|1>         (a new block holds glibc.malloc.perturb=0x5a's
//                                   0xa5 bytes: a user's tunable took effect)
// (GLIBC_TUNABLES itself is not read back from /proc/self/environ: glibc
// writes a NUL after the first tunable's value there.)
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cli-common/allocator.h"

namespace {

// The value of `name` in the environment this process was exec'd with.
std::string StartedWith(const std::string& name) {
  std::ifstream file("/proc/self/environ", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::istringstream entries(all);
  std::string entry;
  while (std::getline(entries, entry, '\0')) {
    if (entry.compare(0, name.size() + 1, name + "=") == 0) return entry.substr(name.size() + 1);
  }
  return "-";
}

bool HeapHugePageAdvised() {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_heap = false;
  while (std::getline(smaps, line)) {
    // A mapping's first line is "start-end perms offset dev inode [path]".
    const size_t dash = line.find('-');
    if (dash != std::string::npos && line.find(' ') > dash && line.find(':') > line.find(' ')) {
      in_heap = line.size() >= 6 && line.compare(line.size() - 6, 6, "[heap]") == 0;
    } else if (in_heap && line.compare(0, 8, "VmFlags:") == 0) {
      std::istringstream flags(line.substr(8));
      std::string flag;
      while (flags >> flag) {
        if (flag == "hg") return true;
      }
    }
  }
  return false;
}

}  // namespace

int main(int, char** argv) {
  punchlab::cli::AdoptHeapHugePages(argv);
  punchlab::cli::HoldMmapThreshold();
  std::vector<void*> blocks;
  for (int i = 0; i < (64 << 20) / 256; ++i) blocks.push_back(std::malloc(256));
  // Read before anything is written to it: glibc.malloc.perturb fills a new
  // block with the complement of its byte; without it the block is fresh
  // heap (zeros).
  auto* fresh = static_cast<volatile unsigned char*>(std::malloc(4096));  // past the tcache, which does not perturb
  bool perturbed = true;
  for (int i = 0; i < 4096; ++i) perturbed = perturbed && fresh[i] == 0xa5;
  const char* now = std::getenv("GLIBC_TUNABLES");
  std::printf("re-executed %d\nGLIBC_TUNABLES=%s\nheap huge-page-advised %d\nmalloc perturbed %d\n",
              StartedWith("PUNCHLAB_USER_GLIBC_TUNABLES") != "-" ? 1 : 0,
              now != nullptr ? now : "-", HeapHugePageAdvised() ? 1 : 0, perturbed ? 1 : 0);
  std::free(const_cast<unsigned char*>(fresh));
  for (void* block : blocks) std::free(block);
  return 0;
}
