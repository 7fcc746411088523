#include "lab/netns-lab.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <set>

#include "lab/child-process.h"
#include "lab/lab-error.h"
#include "punchlab/endpoint.h"
#include "realio/monotonic-clock.h"
#include "realio/unique-fd.h"

namespace punchlab::lab {
namespace {

constexpr const char* kNetnsDir = "/run/netns";
// A lab's temp directory: kTempRoot + prefix + "tmp".
constexpr const char* kTempRoot = "/tmp/";
// "plab<pid>x<n>-<name>": the pid tells a stale lab from a live one.
const std::regex kLabName(R"(^plab(\d+)x\d+-)");
constexpr Duration kTeardownTimeout = Duration::Seconds(10);
// Processes still inside a lab's namespaces at its teardown (what the
// lab's own processes left behind): how long they have after SIGTERM, how
// long after SIGKILL, and how often the lab looks for them.
constexpr Duration kStrayGrace = Duration::Seconds(1);
constexpr Duration kStrayKillTimeout = Duration::Seconds(5);
constexpr Duration kStrayPoll = Duration::Millis(10);
constexpr size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1
// The wire's SCHED_FIFO priority: above every normal process (the nodes,
// other builds), below the kernel's own threads (50).
constexpr int kWirePriority = 10;

std::atomic<int> g_lab_counter{0};

// Teardown's commands: bounded, never aborted by a second signal, and their
// failures collected rather than thrown one by one.
CommandOptions TeardownOptions() {
  CommandOptions o;
  o.timeout = kTeardownTimeout;
  o.check = false;
  o.interruptible = false;
  return o;
}

bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  // A zombie still answers kill(); its parent will reap it, it holds no namespace.
  const std::optional<ProcStat> stat = ReadProcStat(pid);
  return stat.has_value() && stat->state == 'Z';
}

bool PidAlive(const std::string& digits) {
  // Longer than any pid_t: cannot belong to a live process.
  if (digits.size() > 9) return false;
  return !ProcessGone(static_cast<pid_t>(std::stol(digits)));
}

using sweep::NamespaceId;
using sweep::SparedSessions;

std::optional<NamespaceId> IdOf(const std::string& full_name) {
  return sweep::OpenNamespaceId(std::string(kNetnsDir) + "/" + full_name, full_name);
}

// Which of `ids` process `pid` is inside; nullptr when none (or it is gone,
// or a zombie: an ended process has left its namespaces).
const NamespaceId* NamespaceOf(pid_t pid, const std::vector<NamespaceId>& ids) {
  struct stat st {};
  if (stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &st) != 0) return nullptr;
  for (const NamespaceId& id : ids) {
    if (id.dev == st.st_dev && id.ino == st.st_ino) return &id;
  }
  return nullptr;
}

// Every process inside any of `ids`, by one pass over /proc: a process the
// lab did not start itself (a program's daemon, setsid'd and re-parented to
// init) is found by where it lives, not by whose child it is. Those of the
// `spared` sessions (sweep::IsSpared) are left out.
std::vector<pid_t> ProcessesIn(const std::vector<NamespaceId>& ids, const SparedSessions& spared) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    const pid_t pid = static_cast<pid_t>(std::atol(entry->d_name));
    if (NamespaceOf(pid, ids) == nullptr) continue;
    if (!spared.empty()) {
      const std::optional<ProcStat> stat = ReadProcStat(pid);
      if (!stat || sweep::IsSpared(*stat, spared)) continue;
    }
    pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

// Ends every process inside the namespaces `full_names` but the `spared`
// sessions' (SIGTERM, up to `grace` for them to end, then SIGKILL, up to
// kStrayKillTimeout) and waits until none is left; returns what is still
// running after that, or empty. Only called for namespaces a lab made, so every process in them
// was started by that lab, directly or not. Looked for again on every
// round, not once: a process may fork while it is being stopped (a daemon
// that answers SIGTERM with a fresh copy of itself), and its new child must
// not live on in a namespace that is no longer named anywhere. Why not a
// cgroup per lab (cgroup.kill, which also catches a process that leaves
// its namespace with setns): where the cgroup v2 tree is mounted differs
// (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts as this
// one), containers often mount it read-only, and a systemd host expects
// delegation, so the namespaces would still be needed where it is missing:
// two mechanisms for one job. Every process the lab starts lives in one of
// its namespaces, so this one is enough wherever the lab runs at all.
std::string EndProcessesIn(const std::vector<std::string>& full_names, Duration grace,
                           const SparedSessions& spared = {}) {
  // Held open until the sweep ends (NamespaceId): the ids stay these namespaces'.
  std::vector<NamespaceId> ids;
  for (const std::string& name : full_names) {
    if (std::optional<NamespaceId> id = IdOf(name)) ids.push_back(std::move(*id));
  }
  if (ids.empty()) return {};
  std::set<pid_t> asked;  // SIGTERM once each; what ignores it gets SIGKILL
  const Timestamp term_deadline = realio::MonotonicNow() + grace;
  const Timestamp kill_deadline = term_deadline + kStrayKillTimeout;
  while (true) {
    const std::vector<pid_t> pids = ProcessesIn(ids, spared);
    if (pids.empty()) return {};
    const Timestamp now = realio::MonotonicNow();
    if (now >= kill_deadline) {
      std::string left;
      for (pid_t pid : pids) {
        const NamespaceId* id = NamespaceOf(pid, ids);
        if (id == nullptr) continue;  // ended just now
        left += (left.empty() ? "" : ", ") + std::to_string(pid) + " in " + id->name;
      }
      if (left.empty()) return {};
      return "still running " + kStrayKillTimeout.ToString() + " after SIGKILL: " + left;
    }
    const bool terminate = now < term_deadline;
    for (pid_t pid : pids) {
      if (!terminate) {
        sweep::SignalInside(pid, SIGKILL, ids);
      } else if (asked.insert(pid).second) {
        sweep::SignalInside(pid, SIGTERM, ids);
      }
    }
    poll(nullptr, 0, static_cast<int>(kStrayPoll.nanos() / 1000000));
  }
}

bool NamespaceExists(const std::string& full_name) {
  return access((std::string(kNetnsDir) + "/" + full_name).c_str(), F_OK) == 0;
}

// Ends every process inside `full_names`, then deletes them; the failures,
// "; "-joined, or empty.
std::string DeleteNamespaces(const std::vector<std::string>& full_names) {
  std::string failures = EndProcessesIn(full_names, kStrayGrace);
  for (const std::string& name : full_names) {
    const CommandResult r = RunCommand({"ip", "netns", "delete", name}, TeardownOptions());
    if (NamespaceExists(name)) {
      failures += (failures.empty() ? "" : "; ") + ("ip netns delete " + name + ": " + TrimRight(r.err));
    }
  }
  return failures;
}

void CheckInterfaceName(const std::string& ifname) {
  if (ifname.empty() || ifname.size() > kMaxInterfaceName) {
    throw LabError("interface name '" + ifname + "' must have 1 to 15 characters");
  }
}

bool InV4Range(uint32_t ip, int length, uint32_t net, int net_length) {
  const uint32_t mask = net_length == 0 ? 0 : ~uint32_t{0} << (32 - net_length);
  return length >= net_length && (ip & mask) == net;
}

std::string TempDirOf(const std::string& prefix) { return kTempRoot + prefix + "tmp"; }

// Never throws: teardown and the guard go on with the rest.
void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

}  // namespace

namespace sweep {

std::optional<NamespaceId> OpenNamespaceId(const std::string& path, const std::string& name) {
  NamespaceId id;
  id.fd.Reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!id.fd.valid() || fstat(id.fd.get(), &st) != 0) return std::nullopt;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.name = name;
  return id;
}

void SignalInside(pid_t pid, int signal, const std::vector<NamespaceId>& ids, SignalVia via) {
  if (via == SignalVia::kPidfd) {
    // The pidfd holds the process, so the check and the signal are about
    // the same one even when the pid seen in /proc has ended and been
    // reused since.
    const realio::UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (fd.valid()) {
      if (NamespaceOf(pid, ids) != nullptr) syscall(SYS_pidfd_send_signal, fd.get(), signal, nullptr, 0);
      return;
    }
    const int error = errno;
    if (error != ENOSYS && error != EPERM) return;  // ESRCH: gone
    static std::atomic<bool> noted{false};
    if (!noted.exchange(true)) {
      std::cerr << "lab: pidfd_open unavailable (" << std::strerror(error)
                << "): ending processes in the lab's namespaces by pid\n";
    }
  }
  // By pid: the pid may be reused between the check and the kill (the
  // window is the two system calls; a pidfd closes it where there is one).
  if (NamespaceOf(pid, ids) != nullptr) kill(pid, signal);
}

bool IsSpared(const ProcStat& process, const SparedSessions& spared) {
  const auto leader = spared.find(process.session);
  return leader != spared.end() && process.start_time >= leader->second;
}

}  // namespace sweep

void CheckLabAddress(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  const std::optional<IpAddress> ip =
      slash == std::string::npos ? std::nullopt : IpAddress::Parse(cidr.substr(0, slash));
  int length = -1;
  if (ip) {
    const std::string len = cidr.substr(slash + 1);
    if (!len.empty() && len.size() <= 3 && std::all_of(len.begin(), len.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; })) {
      length = std::stoi(len);
    }
  }
  if (!ip || length < 0 || length > (ip->is_v4() ? 32 : 128)) {
    throw LabError("'" + cidr + "' is not an address/prefix (write e.g. 203.0.113.1/24)");
  }
  bool allowed;
  if (ip->is_v4()) {
    const uint32_t a = ip->v4();
    allowed = InV4Range(a, length, 0xCB007100, 24) ||  // 203.0.113.0/24
              InV4Range(a, length, 0xC6336400, 24) ||  // 198.51.100.0/24
              InV4Range(a, length, 0xC0000200, 24) ||  // 192.0.2.0/24
              InV4Range(a, length, 0x0A000000, 8) ||   // 10.0.0.0/8
              InV4Range(a, length, 0xC0A80000, 16) ||  // 192.168.0.0/16
              InV4Range(a, length, 0x0B000000, 24);    // 11.0.0.0/24: see netns-lab.h
  } else {
    const auto& b = ip->bytes();
    allowed = length >= 32 && b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8;
  }
  if (!allowed) {
    throw LabError("'" + cidr +
                   "' is outside the lab's ranges (203.0.113.0/24, 198.51.100.0/24, "
                   "192.0.2.0/24, 10.0.0.0/8, 192.168.0.0/16, 11.0.0.0/24, 2001:db8::/32)");
  }
}

std::vector<std::string> ListNamespaces() {
  std::vector<std::string> names;
  DIR* dir = opendir(kNetnsDir);
  if (!dir) return names;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> RemoveStaleLabs() {
  std::vector<std::string> stale;
  for (const std::string& name : ListNamespaces()) {
    std::smatch m;
    if (std::regex_search(name, m, kLabName) && !PidAlive(m[1].str())) stale.push_back(name);
  }
  // Another lab starting at the same moment may delete them first: fine.
  DeleteNamespaces(stale);
  std::vector<std::string> removed;
  for (const std::string& name : stale) {
    if (!NamespaceExists(name)) removed.push_back(name);
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(kTempRoot, error)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (std::regex_search(name, m, kLabName) && name.size() > 3 &&
        name.compare(name.size() - 3, 3, "tmp") == 0 && !PidAlive(m[1].str())) {
      RemoveTree(entry.path().string());
    }
  }
  return removed;
}

Lab::Lab() {
  if (geteuid() != 0) throw LabError("the lab needs root to create network namespaces");
  RemoveStaleLabs();
  prefix_ = "plab" + std::to_string(getpid()) + "x" + std::to_string(++g_lab_counter) + "-";
  StartGuard();
}

void Lab::StartGuard() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw LabError(std::string("pipe2: ") + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw LabError(std::string("fork for the lab's guard: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // The guard: its own session (a terminal's Ctrl-C is the lab's to
    // handle), deaf to the signals the lab handles, holding no descriptor
    // but the read end, so only the lab's process keeps the pipe open.
    setsid();
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) signal(sig, SIG_IGN);
    dup2(fds[0], 3);
    const int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    close_range(4, ~0U, 0);
    char byte = 0;
    ssize_t n;
    do {
      n = read(3, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1) _exit(0);  // the lab tore itself down
    // The lab's process is gone without a teardown: delete what it made.
    try {
      std::vector<std::string> mine;
      for (const std::string& name : ListNamespaces()) {
        if (name.compare(0, prefix_.size(), prefix_) == 0) mine.push_back(name);
      }
      DeleteNamespaces(mine);
    } catch (...) {
    }
    RemoveTree(TempDirOf(prefix_));
    _exit(0);
  }
  close(fds[0]);
  guard_pid_ = pid;
  guard_fd_ = fds[1];
}

Lab::~Lab() {
  try {
    Teardown();
  } catch (const std::exception& e) {
    std::cerr << "lab teardown: " << e.what() << "\n";
  }
}

Namespace Lab::AddNamespace(const std::string& name) {
  static const std::regex kName("^[a-z0-9-]{1,32}$");
  if (!std::regex_match(name, kName)) {
    throw LabError("namespace name '" + name + "': use 1-32 lower-case letters, digits, '-'");
  }
  Namespace ns{name, prefix_ + name};
  // Recorded before it exists: a failure halfway is still cleaned up.
  namespaces_.push_back(ns);
  RunCommand({"ip", "netns", "add", ns.full_name});
  RunCommand({"ip", "-n", ns.full_name, "link", "set", "lo", "up"});
  return ns;
}

void Lab::Link(const Namespace& a, const std::string& a_if, const std::vector<std::string>& a_cidrs,
               const Namespace& b, const std::string& b_if,
               const std::vector<std::string>& b_cidrs) {
  CheckInterfaceName(a_if);
  CheckInterfaceName(b_if);
  for (const auto& cidr : a_cidrs) CheckLabAddress(cidr);
  for (const auto& cidr : b_cidrs) CheckLabAddress(cidr);
  // Created inside a and moved to b in one step: no name ever appears in
  // the root namespace.
  RunCommand({"ip", "-n", a.full_name, "link", "add", a_if, "type", "veth", "peer", "name", b_if,
              "netns", b.full_name});
  ConfigureEnds(a, a_if, a_cidrs, b, b_if, b_cidrs);
}

void Lab::StartWire(const std::string& node_bin, uint64_t seed) {
  if (wire_) throw LabError("the lab's wire is already running");
  processes_.push_back(std::make_unique<ChildProcess>(
      std::vector<std::string>{node_bin, "wire", "--seed", std::to_string(seed), "--realtime",
                               std::to_string(kWirePriority)},
      ChildProcess::StdinPipe{}));
  wire_ = std::make_unique<WireClient>(*processes_.back());
}

WireClient& Lab::wire() {
  if (!wire_) throw LabError("the lab has no wire (StartWire)");
  return *wire_;
}

void Lab::WireLink(const std::string& name, const Namespace& a, const std::string& a_if,
                   const std::vector<std::string>& a_cidrs, const Namespace& b,
                   const std::string& b_if, const std::vector<std::string>& b_cidrs) {
  CheckInterfaceName(a_if);
  CheckInterfaceName(b_if);
  for (const auto& cidr : a_cidrs) CheckLabAddress(cidr);
  for (const auto& cidr : b_cidrs) CheckLabAddress(cidr);
  wire().AddLink({name, a.full_name, a_if, b.full_name, b_if});
  ConfigureEnds(a, a_if, a_cidrs, b, b_if, b_cidrs);
}

void Lab::ConfigureEnds(const Namespace& a, const std::string& a_if,
                        const std::vector<std::string>& a_cidrs, const Namespace& b,
                        const std::string& b_if, const std::vector<std::string>& b_cidrs) {
  for (const auto& [ns, ifname, cidrs] :
       {std::tie(a, a_if, a_cidrs), std::tie(b, b_if, b_cidrs)}) {
    for (const std::string& cidr : cidrs) {
      RunCommand({"ip", "-n", ns.full_name, "addr", "add", cidr, "dev", ifname});
    }
    RunCommand({"ip", "-n", ns.full_name, "link", "set", ifname, "up"});
  }
}

void Lab::Route(const Namespace& ns, const std::string& destination, const std::string& via) {
  if (destination != "default") CheckLabAddress(destination);
  RunCommand({"ip", "-n", ns.full_name, "route", "add", destination, "via", via});
}

void Lab::Sysctl(const Namespace& ns, const std::string& key, const std::string& value) {
  Exec(ns, {"sysctl", "-q", "-w", key + "=" + value});
}

void Lab::Nft(const Namespace& ns, const std::string& ruleset) {
  CommandOptions o;
  o.input = ruleset;
  Exec(ns, {"nft", "-f", "-"}, o);
}

void Lab::Delay(const Namespace& ns, const std::string& ifname, Duration delay) {
  const std::string micros = std::to_string(delay.nanos() / 1000) + "us";
  std::vector<std::string> argv = {"tc", "-n", ns.full_name, "qdisc", "replace", "dev", ifname,
                                   "root", "netem", "delay", micros};
  CommandOptions o;
  o.check = false;
  const CommandResult r = RunCommand(argv, o);
  if (r.exit_code == 0) return;
  std::string hint;
  if (r.err.find("qdisc kind is unknown") != std::string::npos) {
    hint = " (this kernel has no netem qdisc, CONFIG_NET_SCH_NETEM: run without latency)";
  }
  throw LabError("'" + JoinCommand(argv) + "' failed (exit " + std::to_string(r.exit_code) +
                 "): " + TrimRight(r.err) + hint);
}

std::vector<std::string> InNamespace(const Namespace& ns, const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns.full_name};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

CommandResult Lab::Exec(const Namespace& ns, const std::vector<std::string>& argv,
                        const CommandOptions& options) {
  return RunCommand(InNamespace(ns, argv), options);
}

ChildProcess& Lab::Spawn(const Namespace& ns, const std::vector<std::string>& argv,
                         bool stdin_pipe) {
  std::vector<std::string> full = InNamespace(ns, argv);
  return Keep(stdin_pipe ? std::make_unique<ChildProcess>(std::move(full), ChildProcess::StdinPipe{})
                         : std::make_unique<ChildProcess>(std::move(full)));
}

ChildProcess& Lab::Spawn(const Namespace& ns, const std::vector<std::string>& argv,
                         std::vector<ChildProcess::BindMount> binds) {
  return Keep(std::make_unique<ChildProcess>(InNamespace(ns, argv), std::move(binds)));
}

ChildProcess& Lab::Keep(std::unique_ptr<ChildProcess> child) {
  processes_.push_back(std::move(child));
  return *processes_.back();
}

void Lab::EndStrays(const Namespace& ns, Duration grace) {
  // A child not reaped yet keeps its pid: the session id is its own.
  SparedSessions spared;
  for (const auto& child : processes_) {
    if (child->exited()) continue;
    const std::optional<ProcStat> stat = ReadProcStat(child->pid());
    if (stat && stat->state != 'Z') spared.emplace(child->pid(), stat->start_time);
  }
  const std::string failure = EndProcessesIn({ns.full_name}, grace, spared);
  if (!failure.empty()) throw LabError("ending what was left in " + ns.full_name + ": " + failure);
}

const std::string& Lab::TempDir() {
  if (temp_dir_.empty()) {
    const std::string dir = TempDirOf(prefix_);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw LabError("mkdir " + dir + ": " + std::strerror(errno));
    }
    temp_dir_ = dir;
  }
  return temp_dir_;
}

void Lab::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  wire_.reset();
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) (*it)->Stop();
  processes_.clear();
  // Then whatever they left in the namespaces (a daemon that left its
  // program's process group), all namespaces at once.
  std::vector<std::string> names;
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    names.push_back(it->full_name);
  }
  std::string failures = DeleteNamespaces(names);
  if (!temp_dir_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(temp_dir_, error);
    if (error) {
      failures += (failures.empty() ? "" : "; ") + ("remove " + temp_dir_ + ": " + error.message());
    }
  }
  // The guard's work is done: tell it so, and reap it.
  if (guard_fd_ >= 0) {
    const char done = 'd';
    [[maybe_unused]] const ssize_t n = write(guard_fd_, &done, 1);
    close(guard_fd_);
    guard_fd_ = -1;
    int status = 0;
    while (waitpid(guard_pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!failures.empty()) throw LabError("could not remove the lab: " + failures);
}

std::vector<std::string> Lab::Leftovers() const {
  std::vector<std::string> left;
  for (const std::string& name : ListNamespaces()) {
    if (name.compare(0, prefix_.size(), prefix_) == 0) left.push_back(name);
  }
  return left;
}

}  // namespace punchlab::lab
