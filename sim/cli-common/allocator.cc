#include "cli-common/allocator.h"

#include <malloc.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli-common/subcommand.h"

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

// The program's name as its argv[0] says it, without the directories.
std::string_view ProgramName(const char* argv0) {
  const std::string_view path(argv0);
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// valgrind preloads its vgpreload_*.so into the program it runs.
bool UnderValgrind() {
  const char* preload = std::getenv("LD_PRELOAD");
  return preload != nullptr && std::strstr(preload, "vgpreload") != nullptr;
}

}  // namespace

bool KernelThpModeIsMadvise() {
  std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text;  // "always [madvise] never": the selected mode in brackets
  if (!std::getline(file, text)) return false;
  const size_t open = text.find('[');
  const size_t close = text.find(']', open);
  return open != std::string::npos && close != std::string::npos &&
         text.compare(open + 1, close - open - 1, "madvise") == 0;
}

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
    // The exec of /proc/self/exe named the process "exe" (comm: what ps, top
    // and pgrep show); give it the program's name back (at most 15 bytes).
    if (argv != nullptr && argv[0] != nullptr) {
      const std::string name(ProgramName(argv[0]).substr(0, 15));
      prctl(PR_SET_NAME, name.c_str(), 0, 0, 0);
    }
    return;
  }
  const char* setting = std::getenv(kHeapHugePagesVariable);
  const std::string_view on_off = setting != nullptr ? setting : "";
  if (!on_off.empty() && on_off != "0" && on_off != "1") {
    const std::string program(argv != nullptr && argv[0] != nullptr ? ProgramName(argv[0])
                                                                    : "punchlab");
    std::fprintf(stderr, "%s: %s='%s': write 0 or 1\n", program.c_str(), kHeapHugePagesVariable,
                 setting);
    std::exit(kExitUsage);
  }
  if (kSanitizerAllocator || argv == nullptr || argv[0] == nullptr) return;
  if (on_off == "0") return;
  const char* user = std::getenv(kTunables);
  if (user != nullptr && SaysHugetlb(user)) return;
  if (UnderValgrind() || !KernelThpModeIsMadvise()) return;

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
