// punchlab bench [--only matrix|tailnet|tailnet-acl|crowd] [--tailnet N,...] [--crowd N,...]
//                [--limit FACTOR] [--memory-limit MIB] [--jobs N] [--json]
//
// Measures the simulator on the workloads the project promises numbers for,
// and prints them beside their goals (a benchmark, not a test: nothing here
// passes or fails):
//
//   matrix   the classic 4x4 NAT matrix, 60 simulated seconds per cell,
//            10 probes/s each way, cells in parallel child processes
//            (cli/matrix-runner.h), as `punchlab matrix` runs it.
//            Goal: at most 0.5 s wall on 2 cores.
//   tailnet  N nodes (default 1,000 and 10,000) in ONE tailnet, each behind
//            its own NAT, each sending to the next 3 every second for 60
//            simulated seconds. Goal: 1,000 in 20 s and 1 GiB, 10,000 in
//            5 minutes and 8 GiB; cost per node roughly flat between them.
//   tailnet-acl  the same tailnets with access rules (control.acls) that
//            let node i reach i+1..i+3, so each node is told only the 6
//            peers it sends to or that send to it (peer visibility, as big
//            real tailnets run), not all N. Same goals.
//   crowd    N nodes (default 1,000 and 10,000) in tailnets of four, each
//            sending to its 3 peers every second for 60 simulated seconds.
//            Goal: 10,000 in 5 minutes and 8 GiB; cost per node roughly
//            flat from 1,000 to 10,000.
//
// Each simulated workload runs in a child process of its own, so its peak
// memory is its own (wait4's ru_maxrss), and is stopped at --limit times its
// wall goal (then reported as stopped, with the time it had run), and its
// address space is capped (--memory-limit; by default twice its memory goal,
// at most half the machine's memory; the matrix's cells at 1 GiB each), so
// no workload can take a shared machine's memory: one that reaches the cap
// fails. A workload that fails (an error, the cap, a child killed, a matrix
// cell that did not run) is reported as FAILED with what happened, and the
// next one runs; the exit code is then kExitRuntime, after every workload.
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/address-space-cap.h"
#include "cli/matrix-runner.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "results/run-options.h"
#include "run-sim/run-sim.h"
#include "scenario/generate.h"
#include "scenario/loader.h"
#include "scenario/yaml-document.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

struct Measurement {
  std::string name;
  std::string workload;
  double wall_s = 0;
  double cpu_s = 0;  // user + system CPU of the workload's processes (the load inflates wall_s)
  double simulated_s = 0;
  uint64_t events = 0;
  double peak_rss_mib = 0;
  double goal_wall_s = 0;
  double goal_rss_mib = 0;  // 0: none
  std::string outcome;      // what the run produced, in words
  std::string kind;         // matrix, tailnet, tailnet-acl, crowd
  uint32_t nodes = 0;       // tailnet and crowd
  bool stopped = false;     // stopped at the limit: wall_s is how long it had run
  std::string error;        // non-empty: the workload failed, and this is what happened
};

// The control server's batch delay in the tailnets and the crowd: headscale's
// default batch_change_delay (a busy Tailscale map session coalesces too;
// scenario schema, control.batch_delay).
constexpr const char* kBenchBatchDelay = "800ms";

// A matrix cell is two nodes (about 25 MiB resident): 1 GiB of address
// space is room to spare, and two of them at once cannot hurt a machine.
constexpr uint64_t kMatrixCellCapMib = 1024;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ru_maxrss is in KiB on Linux.
double PeakRssMib(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double CpuSeconds(const rusage& usage) {
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// The CPU of this process's children that ended and were waited for so far.
double ChildrenCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return CpuSeconds(usage);
}

// The matrix's cells are forked copies of this process running `punchlab
// run` (matrix-runner.h), each capping its own address space at `cap_mib`.
Measurement BenchMatrix(unsigned jobs, const std::string& dir, uint64_t cap_mib) {
  // A cell's cap never lifts one this process was given.
  const uint64_t given = AddressSpaceLimitMib();
  if (given > 0 && (cap_mib == 0 || given < cap_mib)) cap_mib = given;
  MatrixRunOptions options;
  options.cell_address_space_mib = cap_mib;
  options.nats = kClassicNats;
  options.spec.duration = Duration::Seconds(60);
  options.spec.packets_per_second = 10;
  options.jobs = jobs;
  options.out = dir;
  const Clock::time_point start = Clock::now();
  const double cpu_before = ChildrenCpuSeconds();
  const MatrixRun run = RunMatrixCells(options);
  Measurement m;
  m.cpu_s = ChildrenCpuSeconds() - cpu_before;
  m.name = "matrix";
  m.kind = "matrix";
  m.workload = "classic 4x4 NAT matrix, 60 s simulated per cell, 10 probes/s each way, " +
               std::to_string(jobs) + " jobs";
  m.wall_s = Seconds(Clock::now() - start);
  m.simulated_s = 60.0 * static_cast<double>(run.matrix.cells.size());
  m.events = run.events;
  m.peak_rss_mib = PeakRssMib(RUSAGE_CHILDREN);
  m.goal_wall_s = 0.5;
  size_t direct = 0;
  for (const results::MatrixCell& c : run.matrix.cells) {
    direct += c.path == results::PathKind::kDirect ? 1 : 0;
  }
  m.outcome = std::to_string(run.matrix.cells.size()) + " cells ran (" + std::to_string(direct) +
              " direct), " + std::to_string(run.errors.size()) + " failed";
  if (!run.errors.empty()) {
    m.error = run.errors.front();
    if (cap_mib > 0) {
      m.error += " (each cell's address space was capped at " + std::to_string(cap_mib) +
                 " MiB: --memory-limit)";
    }
  }
  return m;
}

nlohmann::ordered_json ToJson(const Measurement& m) {
  nlohmann::ordered_json j;
  j["name"] = m.name;
  j["workload"] = m.workload;
  if (!m.error.empty()) {
    // Nothing measured but how long it took to fail and the memory it had.
    j["failed"] = true;
    j["error"] = m.error;
    j["wall_s"] = m.wall_s;
    j["peak_rss_mib"] = m.peak_rss_mib;
    if (m.nodes > 0) j["nodes"] = m.nodes;
    if (!m.outcome.empty()) j["outcome"] = m.outcome;
    return j;
  }
  j["wall_s"] = m.wall_s;
  j["cpu_s"] = m.cpu_s;
  j["simulated_s"] = m.simulated_s;
  j["simulated_per_wall"] = m.simulated_s / m.wall_s;
  j["events"] = m.events;
  j["events_per_s"] = static_cast<double>(m.events) / m.wall_s;
  j["peak_rss_mib"] = m.peak_rss_mib;
  j["goal_wall_s"] = m.goal_wall_s;
  j["goal_wall_met"] = m.wall_s <= m.goal_wall_s;
  if (m.goal_rss_mib > 0) {
    j["goal_rss_mib"] = m.goal_rss_mib;
    j["goal_rss_met"] = m.peak_rss_mib <= m.goal_rss_mib;
  }
  if (m.nodes > 0) {
    j["nodes"] = m.nodes;
    j["wall_ms_per_node"] = m.wall_s * 1000 / m.nodes;
    j["cpu_ms_per_node"] = m.cpu_s * 1000 / m.nodes;
    j["rss_kib_per_node"] = m.peak_rss_mib * 1024 / m.nodes;
  }
  j["stopped"] = m.stopped;
  j["failed"] = false;
  j["outcome"] = m.outcome;
  return j;
}

// The simulated workloads of many nodes.
enum class Nodes { kTailnet, kTailnetAcl, kCrowd };

const char* KindName(Nodes kind) {
  switch (kind) {
    case Nodes::kTailnet: return "tailnet";
    case Nodes::kTailnetAcl: return "tailnet-acl";
    case Nodes::kCrowd: return "crowd";
  }
  return "";
}

// The workload's name, words and goals (the issue's: 60 simulated seconds,
// each node sending to 3 peers every second, on 2 cores).
Measurement Planned(uint32_t nodes, Nodes kind) {
  Measurement m;
  m.nodes = nodes;
  m.simulated_s = 60;
  m.kind = KindName(kind);
  char count[32];
  std::snprintf(count, sizeof count, "%u", nodes);
  m.name = m.kind + "-" + count;
  if (kind != Nodes::kCrowd) {
    m.workload = std::string(count) +
                 " nodes in one tailnet behind mixed NATs, each sending to the next 3 every "
                 "second, 60 s simulated" +
                 (kind == Nodes::kTailnetAcl
                      ? "; access rules: each sees only the 6 it sends to or hears from"
                      : "; no access rules: each sees all");
    m.goal_wall_s = nodes <= 1000 ? 20 : 300;
    m.goal_rss_mib = nodes <= 1000 ? 1024 : 8192;
  } else {
    m.workload = std::string(count) +
                 " nodes behind mixed NATs in tailnets of 4, each sending to its 3 peers every "
                 "second, 60 s simulated";
    m.goal_wall_s = 300;
    m.goal_rss_mib = 8192;
  }
  return m;
}

// The scenario of a tailnet of `nodes` (with or without access rules) or of
// a crowd of tailnets of four.
std::string NodesScenario(uint32_t nodes, Nodes kind, Duration batch_delay) {
  scenario::CrowdScenarioSpec spec;
  spec.nodes = nodes;
  spec.batch_delay = batch_delay;
  if (kind != Nodes::kCrowd) spec.tailnet_size = nodes;
  spec.acls = kind == Nodes::kTailnetAcl;
  return scenario::CrowdScenarioYaml(spec);
}

Measurement BenchNodes(uint32_t nodes, Nodes kind, Duration batch_delay) {
  const scenario::LoadResult loaded =
      scenario::LoadScenarioText(NodesScenario(nodes, kind, batch_delay), "bench.yaml");
  if (!loaded.ok()) throw std::logic_error("bench scenario: " + loaded.errors.front().ToString());
  const Clock::time_point start = Clock::now();
  results::RunOptions options;
  options.process_ends_after = true;  // BenchNodesInChild's child: its teardown is not timed
  const results::Results r = runsim::RunInSimulation(*loaded.scenario, options);
  Measurement m = Planned(nodes, kind);
  m.wall_s = Seconds(Clock::now() - start);
  m.events = r.events_executed;
  m.peak_rss_mib = PeakRssMib(RUSAGE_SELF);
  // Pairs without traffic (listed in a small enough domain) have no path
  // to speak of: they are counted apart, never as "derp at the end".
  size_t talking = 0, direct = 0, derp = 0, silent = 0;
  uint64_t sent = 0, lost = 0;
  // A probe lost on path "none" never left its sender (it had no path to
  // the peer yet: in a fully visible tailnet, a flow's first probe can be due
  // before the batch naming the peer has arrived); said apart, so the line
  // does not read as loss on the way.
  uint64_t never_left = 0;
  for (const results::Probe& p : r.probes)
    never_left += !p.echoed_at && p.path == results::PathKind::kNone ? 1 : 0;
  for (const results::PairSummary& p : r.pairs) {
    if (p.probes_sent == 0) {
      ++silent;
      continue;
    }
    ++talking;
    direct += p.final_path == results::PathKind::kDirect ? 1 : 0;
    derp += p.final_path == results::PathKind::kDerp ? 1 : 0;
    sent += p.probes_sent;
    lost += p.probes_lost;
  }
  const size_t neither = talking - direct - derp;
  m.outcome = std::to_string(talking) + " pairs with traffic: " + std::to_string(direct) +
              " direct, " + std::to_string(derp) + " derp at the end" +
              (neither > 0 ? ", " + std::to_string(neither) + " neither" : "") + "; " +
              std::to_string(lost) + " of " + std::to_string(sent) + " probes lost" +
              (never_left > 0 ? " (" + std::to_string(never_left) +
                                    " of them never left: the sender had no path to the peer yet)"
                              : "") +
              (silent > 0 ? "; " + std::to_string(silent) + " listed pairs without traffic" : "");
  return m;
}

std::string ChildEnd(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + ", " + strsignal(sig) +
           (sig == SIGKILL ? "; out of memory?" : "");
  }
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "wait status " + std::to_string(status);
}

// The address space a tailnet or crowd child may have, in MiB (0: no cap):
// `flag` when given (--memory-limit), else twice the workload's memory goal
// (room to see by how much it misses), but never more than half of this
// machine's memory, so a run with no flags cannot take the machine.
uint64_t MemoryCapMib(const Measurement& planned, std::optional<uint64_t> flag) {
  if (flag) return *flag;
  const auto twice_goal = static_cast<uint64_t>(2 * planned.goal_rss_mib);
  const uint64_t half_machine = PhysicalMemoryMib() / 2;
  return half_machine > 0 ? std::min(twice_goal, half_machine) : twice_goal;
}

// Runs BenchNodes in a child process: its own peak memory, stopped after
// `limit_s` (0: none), its address space capped at `cap_mib` (0: none). A
// failure (the cap reached included) comes back as Measurement::error.
Measurement BenchNodesInChild(uint32_t nodes, Nodes kind, Duration batch_delay, double limit_s,
                              uint64_t cap_mib) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::cout.flush();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      if (cap_mib > 0) {
        const uint64_t cap = CapAddressSpace(cap_mib);
        ReportOutOfMemoryTo(
            fds[1], nlohmann::json{{"error", "out of memory: its address space is capped at " +
                                                 std::to_string(cap) +
                                                 " MiB (--memory-limit), and the workload "
                                                 "needed more"}}
                        .dump());
      }
      out = ToJson(BenchNodes(nodes, kind, batch_delay)).dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}}.dump();
    }
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  const Clock::time_point start = Clock::now();
  std::string text;
  bool stopped = false;
  for (;;) {
    lab::ThrowIfInterrupted();
    const double left = limit_s > 0 ? limit_s - Seconds(Clock::now() - start) : 1.0;
    if (left <= 0) {
      stopped = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min(left, 1.0) * 1000) + 1);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (stopped) kill(pid, SIGKILL);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  Measurement m = Planned(nodes, kind);
  m.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  m.cpu_s = CpuSeconds(usage);
  if (stopped) {
    m.stopped = true;
    m.wall_s = Seconds(Clock::now() - start);
    m.outcome = "stopped at the limit, unfinished";
    return m;
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    m.wall_s = Seconds(Clock::now() - start);
    m.error = "the child ended without a measurement (" + ChildEnd(status) + ")";
    // Not every failed allocation reaches operator new (C code, the stack).
    if (cap_mib > 0) {
      m.error += "; its address space was capped at " + std::to_string(cap_mib) +
                 " MiB (--memory-limit)";
    }
    return m;
  }
  if (j.contains("error")) {
    m.wall_s = Seconds(Clock::now() - start);
    m.error = j["error"].get<std::string>();
    return m;
  }
  m.wall_s = j["wall_s"].get<double>();
  m.events = j["events"].get<uint64_t>();
  m.outcome = j["outcome"].get<std::string>();
  return m;
}

void Print(const Measurement& m) {
  char line[256];
  std::cout << m.name << ": " << m.workload << "\n";
  if (!m.error.empty()) {
    std::snprintf(line, sizeof line, "  FAILED after %.2f s, peak memory %.0f MiB: ", m.wall_s,
                  m.peak_rss_mib);
    std::cout << line << m.error << "\n";
    if (!m.outcome.empty()) std::cout << "  " << m.outcome << "\n";
    return;
  }
  if (m.stopped) {
    std::snprintf(line, sizeof line, "  stopped after %.0f s, unfinished (goal <= %.0f s: missed)\n",
                  m.wall_s, m.goal_wall_s);
  } else {
    std::snprintf(line, sizeof line, "  wall %.2f s (goal <= %.4g s: %s)\n", m.wall_s,
                  m.goal_wall_s, m.wall_s <= m.goal_wall_s ? "met" : "missed");
  }
  std::cout << line;
  std::snprintf(line, sizeof line, "  cpu %.2f s%s (user + system; wall exceeds it on a busy machine)\n",
                m.cpu_s, m.stopped ? " until stopped" : "");
  std::cout << line;
  if (!m.stopped) {
    std::snprintf(line, sizeof line, "  simulated/wall %.1f x, %.0f events/s (%llu events)\n",
                  m.simulated_s / m.wall_s, static_cast<double>(m.events) / m.wall_s,
                  static_cast<unsigned long long>(m.events));
    std::cout << line;
  }
  if (m.goal_rss_mib > 0) {
    std::snprintf(line, sizeof line, "  peak memory %.0f MiB%s (goal <= %.0f MiB: %s)\n",
                  m.peak_rss_mib, m.stopped ? " until stopped" : "", m.goal_rss_mib,
                  m.peak_rss_mib <= m.goal_rss_mib ? (m.stopped ? "so far" : "met") : "missed");
  } else {
    std::snprintf(line, sizeof line, "  peak memory %.0f MiB\n", m.peak_rss_mib);
  }
  std::cout << line;
  if (m.nodes > 0 && !m.stopped) {
    std::snprintf(line, sizeof line, "  per node: %.2f ms wall, %.2f ms cpu, %.0f KiB\n",
                  m.wall_s * 1000 / m.nodes, m.cpu_s * 1000 / m.nodes,
                  m.peak_rss_mib * 1024 / m.nodes);
    std::cout << line;
  }
  std::cout << "  " << m.outcome << "\n";
}

// Cost per node from the smallest to the largest finished workload of a
// kind (tailnet, tailnet-acl, crowd): the goal is roughly flat (a workload
// must not cost the square of its size).
std::string CostPerNode(const std::vector<Measurement>& measured, const std::string& kind) {
  const Measurement* small = nullptr;
  const Measurement* large = nullptr;
  for (const Measurement& m : measured) {
    if (m.kind != kind || !m.error.empty()) continue;
    if (!small || m.nodes < small->nodes) small = &m;
    if (!large || m.nodes > large->nodes) large = &m;
  }
  if (!small || !large || small == large) return "";
  auto per_node = [](double large_figure, const Measurement& l, double small_figure,
                     const Measurement& sm) {
    return (large_figure / l.nodes) / (small_figure / sm.nodes);
  };
  char line[320];
  if (large->stopped) {
    std::snprintf(line, sizeof line,
                  "cost per node, %s %u -> %u: at least %.1f x the wall time, %.1f x the cpu per "
                  "node (%u stopped after %.0f s; goal: roughly flat)",
                  kind.c_str(), small->nodes, large->nodes,
                  per_node(large->wall_s, *large, small->wall_s, *small),
                  per_node(large->cpu_s, *large, small->cpu_s, *small), large->nodes,
                  large->wall_s);
  } else {
    std::snprintf(line, sizeof line,
                  "cost per node, %s %u -> %u: wall x %.2f, cpu x %.2f, memory x %.2f (goal: "
                  "roughly flat)",
                  kind.c_str(), small->nodes, large->nodes,
                  per_node(large->wall_s, *large, small->wall_s, *small),
                  per_node(large->cpu_s, *large, small->cpu_s, *small),
                  per_node(large->peak_rss_mib, *large, small->peak_rss_mib, *small));
  }
  return line;
}

std::vector<uint32_t> ParseSizes(const std::string& flag, const std::string& text) {
  std::vector<uint32_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 4 || n > 100000) {
      throw UsageError(flag + ": '" + item + "' is not a node count from 4 to 100000");
    }
    out.push_back(static_cast<uint32_t>(n));
  }
  if (out.empty()) throw UsageError(flag + ": no node count");
  return out;
}

int RunBench(const std::vector<std::string>& argv) {
  CommandSpec spec{"bench", "bench [options]",
                   "Measures the simulator beside its goals (60 simulated seconds, each node\n"
                   "sending to 3 peers every second, on 2 cores): the classic 4x4 NAT matrix\n"
                   "(<= 0.5 s), one tailnet of 1,000 nodes (<= 20 s, 1 GiB) and of 10,000\n"
                   "(<= 5 min, 8 GiB; cost per node roughly flat), the same tailnets with\n"
                   "access rules that let each node see only the 6 peers it talks with\n"
                   "(tailnet-acl, same goals), crowds of 1,000 and 10,000\n"
                   "nodes in tailnets of 4 (<= 5 min, 8 GiB; cost per node roughly flat).\n"
                   "Prints wall and CPU time, simulated/wall ratio, events per second, peak\n"
                   "memory and cost per node. Each simulated workload\n"
                   "runs in a child process, is stopped at --limit times its goal, and may\n"
                   "have at most --memory-limit of address space (by default twice its\n"
                   "memory goal, at most half of this machine's memory): one that needs more\n"
                   "is FAILED. Run it on a quiet machine.",
                   po::options_description("Options"),
                   {}};
  spec.options.add_options()
      ("only", po::value<std::string>()->value_name("matrix|tailnet|tailnet-acl|crowd"),
       "run one workload")
      ("tailnet", po::value<std::string>()->default_value("1000,10000")->value_name("N,..."),
       "tailnet sizes, with and without access rules (4 to 100000 nodes each)")
      ("crowd", po::value<std::string>()->default_value("1000,10000")->value_name("N,..."),
       "crowd sizes (4 to 100000 nodes each; cost per node between the smallest and largest)")
      ("nodes", po::value<uint32_t>()->value_name("N"), "the same as --crowd (older spelling)")
      ("limit", po::value<double>()->default_value(2)->value_name("FACTOR"),
       "stop a simulated workload at FACTOR times its wall goal (0: never)")
      ("memory-limit", po::value<uint64_t>()->value_name("MIB"),
       "cap each simulated workload's address space at MIB (0: no cap; default: twice its "
       "memory goal, at most half of this machine's memory; 1024 per matrix cell); a "
       "workload that needs more is FAILED")
      ("jobs,j", po::value<unsigned>()->value_name("N"),
       "matrix cells at once (default: the number of cores)")
      ("batch-delay", po::value<std::string>()->default_value(kBenchBatchDelay)->value_name("DURATION"),
       "the tailnets' and crowd's control.batch_delay: how long the control server lets a "
       "tailnet's changes gather before sending them as one update per node (0s: each at once)")
      ("json", po::bool_switch(), "print the measurements as one JSON object")
      ("print-scenario", po::bool_switch(),
       "print the scenario of the first tailnet (with --only tailnet-acl, with its access "
       "rules; with --only crowd, of the crowd) and exit: to run or profile it with "
       "`punchlab run`");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  const std::string only = vm.count("only") ? vm["only"].as<std::string>() : "";
  if (!only.empty() && only != "matrix" && only != "crowd" && only != "tailnet" &&
      only != "tailnet-acl") {
    throw UsageError("--only: '" + only +
                     "' is not a workload (matrix, tailnet, tailnet-acl, crowd)");
  }
  const std::vector<uint32_t> tailnets = ParseSizes("--tailnet", vm["tailnet"].as<std::string>());
  const std::vector<uint32_t> crowds =
      vm.count("nodes") ? std::vector<uint32_t>{vm["nodes"].as<uint32_t>()}
                        : ParseSizes("--crowd", vm["crowd"].as<std::string>());
  if (vm.count("nodes") && (crowds.front() < 4 || crowds.front() > 100000)) {
    throw UsageError("--nodes: must be from 4 to 100000");
  }
  const double limit = vm["limit"].as<double>();
  if (!(limit >= 0)) throw UsageError("--limit: must be 0 or more");
  const std::optional<uint64_t> memory_limit =
      vm.count("memory-limit") ? std::optional<uint64_t>(vm["memory-limit"].as<uint64_t>())
                               : std::nullopt;
  if (memory_limit && *memory_limit > (uint64_t{1} << 30)) {
    throw UsageError("--memory-limit: must be at most 1073741824 (MiB)");
  }
  const unsigned cores = std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
  const unsigned jobs = vm.count("jobs") ? vm["jobs"].as<unsigned>() : cores;
  if (jobs < 1 || jobs > 64) throw UsageError("--jobs: must be from 1 to 64");
  const bool json = vm["json"].as<bool>();
  const Duration batch_delay =
      ParseDurationFlag("--batch-delay", vm["batch-delay"].as<std::string>(),
                        DurationRange{true, Duration::Seconds(60), false});
  // Every workload's scenario goes through the loader, which takes at most
  // kMaxScenarioBytes: refuse a size it cannot hold now, not after the
  // workloads before it ran.
  // How many fit depends on the workload (rules make the tailnet's nodes
  // bigger): the message says it for this one, from its bytes per node,
  // rounded down to a thousand.
  auto check_fits = [&](const char* flag, uint32_t nodes, Nodes kind) {
    const size_t bytes = NodesScenario(nodes, kind, batch_delay).size();
    if (bytes > scenario::kMaxScenarioBytes) {
      const uint64_t fit = uint64_t{scenario::kMaxScenarioBytes} * nodes / bytes / 1000;
      throw UsageError(std::string(flag) + ": " + std::to_string(nodes) +
                       " nodes make a scenario of " + std::to_string(bytes) +
                       " bytes, more than the scenario loader takes (" +
                       std::to_string(scenario::kMaxScenarioBytes) +
                       " bytes, sim/scenario/yaml-document.h): " +
                       (fit == 0 ? std::string("fewer than 1,000")
                                 : "about " + std::to_string(fit) + ",000") +
                       " nodes of this workload fit");
    }
  };
  const bool print = vm["print-scenario"].as<bool>();
  if ((only.empty() && !print) || only == "tailnet-acl") {
    // With its rules the tailnet's scenario is larger (tailnet-acl runs too).
    for (uint32_t n : tailnets) check_fits("--tailnet", n, Nodes::kTailnetAcl);
  } else if (only == "tailnet" || print) {
    for (uint32_t n : tailnets) check_fits("--tailnet", n, Nodes::kTailnet);
  }
  if (only.empty() || only == "crowd") {
    for (uint32_t n : crowds) {
      check_fits(vm.count("nodes") ? "--nodes" : "--crowd", n, Nodes::kCrowd);
    }
  }
  if (vm["print-scenario"].as<bool>()) {
    if (only == "matrix") throw UsageError("--print-scenario: the matrix is `punchlab matrix`");
    std::cout << (only == "crowd"         ? NodesScenario(crowds.front(), Nodes::kCrowd, batch_delay)
                  : only == "tailnet-acl" ? NodesScenario(tailnets.front(), Nodes::kTailnetAcl,
                                                          batch_delay)
                                          : NodesScenario(tailnets.front(), Nodes::kTailnet,
                                                          batch_delay));
    return kExitOk;
  }

  std::vector<Measurement> measured;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("punchlab-bench-" + std::to_string(getpid()));
  if (!json) std::cout << "punchlab bench on " << cores << " cores\n" << std::flush;
  auto done = [&](Measurement m) {
    if (!json) {
      Print(m);
      std::cout.flush();
    }
    measured.push_back(std::move(m));
  };
  // Every workload runs, whatever became of the one before; a failure is
  // one workload's outcome, and the exit code says so at the end.
  auto attempt = [&](Measurement planned, const std::function<Measurement()>& run) {
    const Clock::time_point start = Clock::now();
    try {
      done(run());
    } catch (const lab::Interrupted&) {
      throw;
    } catch (const std::exception& e) {
      planned.wall_s = Seconds(Clock::now() - start);
      planned.error = e.what();
      done(std::move(planned));
    }
  };
  try {
    if (only.empty() || only == "matrix") {
      Measurement planned;
      planned.name = "matrix";
      planned.workload = "classic 4x4 NAT matrix";
      planned.goal_wall_s = 0.5;
      attempt(planned, [&] {
        return BenchMatrix(jobs, dir.string(), memory_limit ? *memory_limit : kMatrixCellCapMib);
      });
    }
    auto nodes = [&](Nodes kind, const std::vector<uint32_t>& sizes) {
      if (!only.empty() && only != KindName(kind)) return;
      for (uint32_t n : sizes) {
        const Measurement planned = Planned(n, kind);
        attempt(planned, [&] {
          return BenchNodesInChild(n, kind, batch_delay, limit * planned.goal_wall_s,
                                   MemoryCapMib(planned, memory_limit));
        });
      }
    };
    nodes(Nodes::kTailnet, tailnets);
    nodes(Nodes::kTailnetAcl, tailnets);
    nodes(Nodes::kCrowd, crowds);
  } catch (const lab::Interrupted&) {
    std::filesystem::remove_all(dir);
    lab::ReraiseCaughtSignal();
    return kExitRuntime;
  }
  std::filesystem::remove_all(dir);
  const auto failed = static_cast<size_t>(std::count_if(
      measured.begin(), measured.end(), [](const Measurement& m) { return !m.error.empty(); }));
  const std::string cost = CostPerNode(measured, "tailnet");
  const std::string acl_cost = CostPerNode(measured, "tailnet-acl");
  const std::string crowd_cost = CostPerNode(measured, "crowd");
  if (json) {
    nlohmann::ordered_json j;
    j["cores"] = cores;
    j["benchmarks"] = nlohmann::ordered_json::array();
    for (const Measurement& m : measured) j["benchmarks"].push_back(ToJson(m));
    if (!cost.empty()) j["cost_per_node"] = cost;
    if (!acl_cost.empty()) j["tailnet_acl_cost_per_node"] = acl_cost;
    if (!crowd_cost.empty()) j["crowd_cost_per_node"] = crowd_cost;
    std::cout << j.dump(2) << "\n";
  } else {
    if (!cost.empty()) std::cout << cost << "\n";
    if (!acl_cost.empty()) std::cout << acl_cost << "\n";
    if (!crowd_cost.empty()) std::cout << crowd_cost << "\n";
  }
  if (failed > 0) {
    std::cerr << "punchlab bench: " << failed << " of " << measured.size()
              << " workloads failed (marked FAILED above)\n";
    return kExitRuntime;
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "bench", "measure the simulator beside its goals: the 4x4 matrix, big tailnets, a crowd",
    RunBench);

}  // namespace
}  // namespace punchlab::cli
