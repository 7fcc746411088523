// A lab of network namespaces that always cleans up after itself.
//
// Namespaces are named "<prefix><name>", the prefix "plab<pid>x<n>-" carrying
// the creating process's pid: a Lab that starts deletes every namespace with
// such a prefix whose pid is no longer alive (a run killed with SIGKILL), and
// leaves live ones alone. veth pairs are created inside the namespaces
// (never in the root namespace), addresses are checked to lie in the
// documentation ranges 203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24 or
// 2001:db8::/32, or in 10.0.0.0/8 / 192.168.0.0/16 (which then exist only
// inside the lab), so nothing the lab does can reach a real network. One
// more range, 11.0.0.0/24, is the lab's "public" one for a router that runs
// miniupnpd: the daemon refuses to map ports behind an external address it
// calls private or reserved, which every range above is (lab/miniupnpd.h).
// 11.0.0.0/8 is assigned space that is not special, so miniupnpd accepts it;
// like the others it exists only inside the lab's namespaces, which have no
// link to any real network.
//
// Teardown (explicit, or in the destructor, including while an exception or
// an Interrupted unwinds) stops the processes the lab spawned, then any
// process still inside its namespaces (found by its /proc/PID/ns/net, as
// `ip netns pids` does: a program's daemon that left its process group with
// setsid and a double fork too; SIGTERM, a second, SIGKILL, looking again
// every round until none is left, so one that forks when told to stop goes
// as well), then deletes the namespaces; the veth
// pairs, addresses, routes, nftables rules and qdiscs go with them. Then the
// lab's temp directory (TempDir) goes: files the lab's daemons need (their
// configurations, pid and lease files) live there, never in /var/run, which
// every namespace shares.
//
// When the process dies without a teardown (kill -9), nothing of the lab
// stays: every process the lab started dies with it (PR_SET_PDEATHSIG, see
// child-process.h; the wire's TAP devices go with the wire), and a guard
// process forked by the Lab, which waits on a pipe only the lab's process
// holds, sees the pipe close, ends every process still inside the lab's
// namespaces as Teardown does, and deletes the namespaces (with their
// nftables tables) and its temp directory. `punchlab lab clean` removes what
// a lab left behind otherwise (the guard itself killed too, a reboot of /run, ...).
//
// Links are veth pairs (Link) or, with StartWire, TAP pairs joined by the
// userspace wire (WireLink, lab/wire.h), which applies the link model.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lab/child-process.h"
#include "lab/command.h"
#include "lab/interrupt.h"
#include "lab/wire.h"
#include "punchlab/time.h"

namespace punchlab::lab {

struct Namespace {
  std::string name;       // "router"
  std::string full_name;  // "plab1234x1-router"
};

// argv run inside `ns`: "ip netns exec <ns> argv...". ip execs argv in place
// (the child's pid is argv's pid) in a mount namespace made from the
// child's (a ChildProcess's binds included).
std::vector<std::string> InNamespace(const Namespace& ns, const std::vector<std::string>& argv);

class Lab {
 public:
  // Needs root. Removes stale labs first (RemoveStaleLabs).
  Lab();
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const std::string& prefix() const { return prefix_; }

  // A new namespace with its loopback up. `name`: lower-case letters, digits, '-'.
  Namespace AddNamespace(const std::string& name);
  // A veth pair between a (interface a_if) and b (b_if), both up, with the
  // given "address/prefix" strings. Interface names: at most 15 characters.
  void Link(const Namespace& a, const std::string& a_if, const std::vector<std::string>& a_cidrs,
            const Namespace& b, const std::string& b_if, const std::vector<std::string>& b_cidrs);
  // Starts the lab's wire (`node_bin wire --seed seed`, in the root
  // namespace); WireLink then makes links through it.
  void StartWire(const std::string& node_bin, uint64_t seed);
  // Like Link, but a TAP device at each end joined by the wire as link
  // `name` (unshaped until wire().SetShape). Throws LabError without StartWire.
  void WireLink(const std::string& name, const Namespace& a, const std::string& a_if,
                const std::vector<std::string>& a_cidrs, const Namespace& b,
                const std::string& b_if, const std::vector<std::string>& b_cidrs);
  bool has_wire() const { return wire_ != nullptr; }
  WireClient& wire();
  // `destination`: "default" or "address/prefix".
  void Route(const Namespace& ns, const std::string& destination, const std::string& via);
  void Sysctl(const Namespace& ns, const std::string& key, const std::string& value);
  // Loads an nftables ruleset (nft -f -).
  void Nft(const Namespace& ns, const std::string& ruleset);
  // tc netem: every packet leaving `ifname` is held `delay` (one way).
  void Delay(const Namespace& ns, const std::string& ifname, Duration delay);

  // Runs argv inside ns to completion (ip netns exec).
  CommandResult Exec(const Namespace& ns, const std::vector<std::string>& argv,
                     const CommandOptions& options = {});
  // Starts argv inside ns; it runs until the lab is torn down (or is stopped).
  // With `stdin_pipe` its stdin is a pipe the caller feeds (ChildProcess::WriteStdin).
  ChildProcess& Spawn(const Namespace& ns, const std::vector<std::string>& argv,
                      bool stdin_pipe = false);
  // The same (stdin /dev/null) in a mount namespace of its own with `binds`
  // mounted (ChildProcess::BindMount).
  ChildProcess& Spawn(const Namespace& ns, const std::vector<std::string>& argv,
                      std::vector<ChildProcess::BindMount> binds);

  // Ends every process inside `ns` that is not of a process the lab started
  // and that still runs (by session, each leads its own, and start time:
  // sweep::IsSpared): what a program
  // stopped there left behind outside its process group (a daemon: double
  // fork and setsid). SIGTERM, up to `grace`, SIGKILL, as the teardown
  // does; throws LabError when one still runs after that. For a namespace
  // that one program has to itself, besides the lab's own processes.
  void EndStrays(const Namespace& ns, Duration grace);

  // The lab's own directory, /tmp/<prefix>tmp (made on first use, mode 0700),
  // for files its processes need; removed with the lab, also by the guard and
  // by RemoveStaleLabs when the lab's process died.
  const std::string& TempDir();

  // Idempotent. Throws LabError when something could not be removed.
  void Teardown();
  // This lab's namespaces that still exist (none after Teardown).
  std::vector<std::string> Leftovers() const;

 private:
  void StartGuard();
  // Owns `child` until the teardown stops it.
  ChildProcess& Keep(std::unique_ptr<ChildProcess> child);
  void ConfigureEnds(const Namespace& a, const std::string& a_if,
                     const std::vector<std::string>& a_cidrs, const Namespace& b,
                     const std::string& b_if, const std::vector<std::string>& b_cidrs);

  InterruptGuard guard_;
  std::string prefix_;
  pid_t guard_pid_ = -1;
  int guard_fd_ = -1;  // the write end of the guard's pipe
  std::unique_ptr<WireClient> wire_;
  std::vector<Namespace> namespaces_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
  std::string temp_dir_;
  bool torn_down_ = false;
};

// Every network namespace (the names in /run/netns).
std::vector<std::string> ListNamespaces();
// Deletes namespaces that a Lab made in a process that is gone (and ends any
// process left inside them) and such labs' temp directories; returns the
// namespaces' names. `punchlab lab clean` runs it.
std::vector<std::string> RemoveStaleLabs();
// Throws LabError unless `cidr` ("address/prefix") lies in the ranges above.
void CheckLabAddress(const std::string& cidr);

// The namespace sweep's parts (what the teardown, the guard,
// RemoveStaleLabs and EndStrays end processes with), here for their tests.
namespace sweep {

// A namespace as its members see it: the device and inode of its file,
// which every member's /proc/PID/ns/net shares (what `ip netns pids`
// compares). The file is held open for as long as the id is used: an open
// descriptor keeps the namespace alive, so even when another lab deletes it
// meanwhile its inode number cannot go to a namespace made since (whose
// processes would then be taken for this one's).
struct NamespaceId {
  realio::UniqueFd fd;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;
};
// `path`'s id (e.g. /run/netns/<name>, or /proc/self/ns/net), named `name`
// in messages; nullopt when it cannot be opened.
std::optional<NamespaceId> OpenNamespaceId(const std::string& path, const std::string& name);

// How SignalInside signals: by a pidfd (the check and the signal are about
// one process even if its pid is reused meanwhile), or by pid (kill), which
// is what it falls back to where pidfd_open is missing or forbidden (an old
// kernel, a seccomp filter); kKill lets the tests take that path.
enum class SignalVia { kPidfd, kKill };
// Sends `signal` to `pid` if it is inside one of `ids`.
void SignalInside(pid_t pid, int signal, const std::vector<NamespaceId>& ids,
                  SignalVia via = SignalVia::kPidfd);

// The sessions a sweep leaves alone: each live process the lab started
// leads its own, mapped to that leader's start time (ProcStat::start_time).
using SparedSessions = std::map<pid_t, unsigned long long>;
// Whether `process` belongs to a spared session: its session's leader is one
// of them and it started no earlier than that leader. A member of a session
// starts after its leader; a daemon that kept the session id of a program
// that ended, whose pid the kernel then gave to a new lab process, started
// before that process, and is not spared.
bool IsSpared(const ProcStat& process, const SparedSessions& spared);

}  // namespace sweep
}  // namespace punchlab::lab
