#include "cli-common/allocator.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace punchlab::cli {
namespace {

constexpr char kTunables[] = "GLIBC_TUNABLES";
constexpr char kHugetlb[] = "glibc.malloc.hugetlb";
// Set only across the one re-exec: the user's GLIBC_TUNABLES ("" when it was
// unset), for the re-executed process to put back. Its presence is also what
// stops a second re-exec.
constexpr char kUserTunables[] = "PUNCHLAB_USER_GLIBC_TUNABLES";

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
constexpr bool kSanitizerAllocator = true;
#else
constexpr bool kSanitizerAllocator = false;
#endif
#else
constexpr bool kSanitizerAllocator = false;
#endif

// Whether GLIBC_TUNABLES ("name=value:name=value...") sets glibc.malloc.hugetlb.
bool SaysHugetlb(std::string_view tunables) {
  while (!tunables.empty()) {
    const size_t colon = tunables.find(':');
    const std::string_view item = tunables.substr(0, colon);
    if (item.substr(0, item.find('=')) == kHugetlb) return true;
    if (colon == std::string_view::npos) break;
    tunables.remove_prefix(colon + 1);
  }
  return false;
}

// Whether the kernel backs madvised memory with transparent huge pages: its
// mode is "[always]" or "[madvise]" (not "[never]", nor a kernel without THP).
bool KernelHasTransparentHugePages() {
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text;
  if (!std::getline(mode, text)) return false;
  return text.find("[always]") != std::string::npos ||
         text.find("[madvise]") != std::string::npos;
}

// valgrind preloads its vgpreload_*.so into the program it runs.
bool UnderValgrind() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::strstr(preload, "vgpreload") != nullptr;
}

}  // namespace

void AdoptHeapHugePages(char** argv) {
  if (const char* user = std::getenv(kUserTunables)) {
    // The re-executed process: glibc has read the tunables; give the
    // programs this one starts the user's environment back.
    const std::string before = user;
    if (before.empty()) {
      unsetenv(kTunables);
    } else {
      setenv(kTunables, before.c_str(), 1);
    }
    unsetenv(kUserTunables);
    return;
  }
  if (kSanitizerAllocator || argv == nullptr || argv[0] == nullptr) return;
  const char* off = std::getenv(kHeapHugePagesVariable);
  if (off != nullptr && std::string_view(off) == "0") return;
  const char* user = std::getenv(kTunables);
  if (user != nullptr && SaysHugetlb(user)) return;
  if (UnderValgrind() || !KernelHasTransparentHugePages()) return;

  const std::string user_text = user != nullptr ? user : "";
  std::vector<std::string> entries;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.substr(0, entry.find('=')) == kTunables) continue;
    entries.emplace_back(entry);
  }
  entries.push_back(std::string(kTunables) + "=" + user_text + (user_text.empty() ? "" : ":") +
                    kHugetlb + "=1");
  entries.push_back(std::string(kUserTunables) + "=" + user_text);
  std::vector<char*> env;
  env.reserve(entries.size() + 1);
  for (std::string& entry : entries) env.push_back(entry.data());
  env.push_back(nullptr);
  execve("/proc/self/exe", argv, env.data());
  // Only reached when the exec failed: go on with 4 KiB pages.
}

void HoldMmapThreshold() {
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace punchlab::cli
