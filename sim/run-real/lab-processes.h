// The process half of a real run: one punchlab-node derp-server (with STUN)
// per DERP region, one control-server holding the scenario's domains, and one
// punchlab-node node per scenario node, each in its namespace. Keys and
// identity tokens are made in-process (an IdentityProvider the control
// server trusts); a node restart is a new process with the same node key.
//
// Every wait is bounded; the lab stops whatever is left at teardown.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lab/child-process.h"
#include "run-real/commands.h"
#include "run-real/lab-plan.h"
#include "run-real/lab-world.h"
#include "run-real/node-log.h"
#include "results/results.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

// How long a server may take to print its readiness line.
constexpr Duration kServerReadyTimeout = Duration::Seconds(10);

class LabProcesses {
 public:
  LabProcesses(LabWorld& world, const scenario::Scenario& scenario, const LabPlan& plan,
               std::string node_bin, uint64_t seed, std::vector<std::string>& notes);
  // Removes the program nodes' working directories.
  ~LabProcesses();
  LabProcesses(const LabProcesses&) = delete;
  LabProcesses& operator=(const LabProcesses&) = delete;

  // Before StartServers: the processes append to a captured run's key logs
  // (the DERP servers to files.tls, the control server and the nodes to
  // files.control, the nodes to files.disco when the scenario's disco_log
  // is on).
  void LogKeysTo(KeyLogFiles files) { key_logs_ = std::move(files); }

  // Starts the DERP servers and the control server and waits until each is
  // listening. Throws lab::LabError quoting a server that does not come up.
  void StartServers();

  // The run's start instant (Unix ns), passed to every node.
  void SetEpoch(int64_t epoch_unix_ns) { epoch_unix_ns_ = epoch_unix_ns; }

  // A program node (scenario.h Program) starts its program: one that cannot
  // be executed is recorded as never started, and the run goes on.
  // A `gated` punchlab-node node (schedule.h) waits after its instant until
  // ReleaseNode.
  void StartNode(size_t index, Duration at, bool gated = false);
  // Lets a gated node start and waits (bounded) until it says it started, so
  // what the runner does next comes after its start; a node that does not
  // start in time gets a note, and the run goes on.
  void ReleaseNode(size_t index);
  // Ends the node's process (SIGTERM: it leaves control and DERP) and starts
  // a new one with the same key and flows; `at` is the run time of the stop.
  void RestartNode(size_t index, Duration at);
  void StopDerp(size_t region);
  void StartDerp(size_t region);

  // Notes each process that exited by itself (once per process), with the
  // run time it was noticed at and the end of its stderr; a program is
  // recorded in its report instead, and one whose output went over its
  // max_output is stopped.
  void NoteExited(Duration now);

  // Stops every node (then the servers), in that order, and returns each
  // node's process runs in scenario order.
  std::vector<std::vector<ProcessRun>> StopAll();

  // After StopAll: every program node's process runs, in start order.
  std::vector<results::ProgramReport> ProgramReports() const;

  // "derp/<region>" and "control" counters from the servers' final lines.
  std::map<std::string, std::map<std::string, uint64_t>> Counters() const;
  NodeDirectory Directory() const;

  // Writes every process's command, stdout and stderr into `dir`.
  void SaveLogs(const std::string& dir) const;

 private:
  struct Proc {
    std::string name;  // "node-alice.1", "derp-fra.0", "control"
    lab::ChildProcess* child = nullptr;  // null: a program that never started
    bool stopped_by_us = false;
    bool exit_noted = false;
    // Program nodes only:
    std::optional<size_t> program_node;
    std::string command;  // as started (facts filled in)
    Duration started_at;
    std::optional<Duration> exited_at;  // seen exited by itself (or killed for its output)
    bool output_flood = false;
    std::string never_started;  // why, when it could not be executed
  };

  void StartProgram(size_t index, Duration at);
  void StopProc(Proc& p);

  lab::ChildProcess& Spawn(const std::string& ns, const std::string& name,
                           const std::vector<std::string>& argv, bool stdin_pipe = false);
  // Puts one of the lab's own processes at SCHED_FIFO (kLabProcessPriority);
  // where the kernel refuses (a container), a note says so, once.
  void KeepTime(lab::ChildProcess& child);
  std::vector<std::string> NodeCommand(size_t index, Duration at, bool gated) const;

  LabWorld& world_;
  const scenario::Scenario& scenario_;
  const LabPlan& plan_;
  std::string node_bin_;
  uint64_t seed_ = 0;
  std::vector<std::string>& notes_;
  bool realtime_refused_ = false;
  std::string program_root_;  // the programs' working directories (in the lab's TempDir), made on first use
  int64_t epoch_unix_ns_ = 0;

  std::string control_key_;
  std::vector<std::string> derp_private_keys_;
  std::string tls_root_;  // the DERP servers' certificates and keys (in the lab's TempDir)
  KeyLogFiles key_logs_;
  std::vector<DerpTls> derp_tls_;
  std::vector<NodeIdentity> identities_;
  std::vector<Proc> procs_;                     // every process ever started, in order
  std::vector<std::vector<size_t>> node_runs_;  // per node: indices into procs_
  std::vector<std::vector<size_t>> derp_runs_;  // per region
  std::vector<std::optional<Duration>> node_stopped_at_;  // per proc index: restart instant
};

// Where punchlab-node is: $PUNCHLAB_NODE_BIN, else next to this executable,
// else on PATH. Throws results::RunError when it is not executable.
std::string FindNodeBinary();

}  // namespace punchlab::runreal
