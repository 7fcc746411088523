#include "cli/address-space-cap.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

namespace punchlab::cli {
namespace {

constexpr rlim_t kMib = rlim_t{1} << 20;

rlimit GetAs() {
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) != 0) {
    throw std::runtime_error(std::string("getrlimit(RLIMIT_AS): ") + std::strerror(errno));
  }
  return r;
}

void SetAs(const rlimit& r) {
  if (setrlimit(RLIMIT_AS, &r) != 0) {
    throw std::runtime_error(std::string("setrlimit(RLIMIT_AS): ") + std::strerror(errno));
  }
}

uint64_t ToMib(rlim_t bytes) { return bytes == RLIM_INFINITY ? 0 : bytes / kMib; }

// Set once in a child before its workload; read by the new handler only.
int g_oom_fd = -1;
const std::string* g_oom_message = nullptr;

void OutOfMemory() {
  const std::string& text = *g_oom_message;
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = write(g_oom_fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  _exit(0);
}

}  // namespace

uint64_t PhysicalMemoryMib() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / kMib;
}

uint64_t AddressSpaceLimitMib() { return ToMib(GetAs().rlim_cur); }

uint64_t CapAddressSpace(uint64_t mib) {
  rlimit r = GetAs();
  const rlim_t wanted = static_cast<rlim_t>(mib) * kMib;
  const rlim_t cap = std::min({wanted, r.rlim_cur, r.rlim_max});
  r.rlim_cur = cap;
  r.rlim_max = cap;
  SetAs(r);
  return ToMib(cap);
}

void ReportOutOfMemoryTo(int fd, std::string message) {
  g_oom_fd = fd;
  g_oom_message = new std::string(std::move(message));  // lives until _exit
  std::set_new_handler(&OutOfMemory);
}

}  // namespace punchlab::cli
