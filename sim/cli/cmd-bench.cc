// punchlab bench [--only matrix|crowd] [--nodes N] [--jobs N] [--json]
//
// Measures the simulator on the two workloads the project promises numbers
// for, and prints them (a benchmark, not a test: nothing here passes or
// fails, the goals are printed beside the numbers):
//
//   matrix  the classic 4x4 NAT matrix, 60 simulated seconds per cell,
//           10 probes/s each way, cells in parallel child processes
//           (cli/matrix-runner.h), as `punchlab matrix` runs it.
//           Goal: at most 5 s wall on 2 cores.
//   crowd   N nodes (default 1,000) behind mixed NATs, in tailnets of four,
//           each node sending to its 3 peers every second for 60 simulated
//           seconds (scenario/generate.h), in this process.
//           Goal: at most 60 s wall and 4 GiB.
//
// For each: wall time, simulated seconds per wall second, simulator events
// per wall second, and peak resident memory (matrix: the largest child).
#include <sys/resource.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/matrix-runner.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "results/run-options.h"
#include "run-sim/run-sim.h"
#include "scenario/generate.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

struct Measurement {
  std::string name;
  std::string workload;
  double wall_s = 0;
  double simulated_s = 0;
  uint64_t events = 0;
  double peak_rss_mib = 0;
  double goal_wall_s = 0;
  double goal_rss_mib = 0;  // 0: none
  std::string outcome;      // what the run produced, in words
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ru_maxrss is in KiB on Linux.
double PeakRssMib(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

Measurement BenchMatrix(unsigned jobs, const std::string& dir) {
  MatrixRunOptions options;
  options.nats = kClassicNats;
  options.spec.duration = Duration::Seconds(60);
  options.spec.packets_per_second = 10;
  options.jobs = jobs;
  options.out = dir;
  const Clock::time_point start = Clock::now();
  const MatrixRun run = RunMatrixCells(options);
  Measurement m;
  m.name = "matrix";
  m.workload = "classic 4x4 NAT matrix, 60 s simulated per cell, 10 probes/s each way, " +
               std::to_string(jobs) + " jobs";
  m.wall_s = Seconds(Clock::now() - start);
  m.simulated_s = 60.0 * static_cast<double>(run.matrix.cells.size());
  m.events = run.events;
  m.peak_rss_mib = PeakRssMib(RUSAGE_CHILDREN);
  m.goal_wall_s = 5;
  size_t direct = 0;
  for (const results::MatrixCell& c : run.matrix.cells) {
    direct += c.path == results::PathKind::kDirect ? 1 : 0;
  }
  m.outcome = std::to_string(run.matrix.cells.size()) + " cells ran (" + std::to_string(direct) +
              " direct), " + std::to_string(run.errors.size()) + " failed";
  return m;
}

Measurement BenchCrowd(uint32_t nodes) {
  scenario::CrowdScenarioSpec spec;
  spec.nodes = nodes;
  const scenario::LoadResult loaded =
      scenario::LoadScenarioText(scenario::CrowdScenarioYaml(spec), "crowd.yaml");
  if (!loaded.ok()) throw std::logic_error("crowd scenario: " + loaded.errors.front().ToString());
  const Clock::time_point start = Clock::now();
  const results::Results r = runsim::RunInSimulation(*loaded.scenario, results::RunOptions{});
  Measurement m;
  m.name = "crowd";
  m.workload = std::to_string(nodes) +
               " nodes behind mixed NATs in tailnets of 4, each sending to 3 peers every "
               "second, 60 s simulated";
  m.wall_s = Seconds(Clock::now() - start);
  m.simulated_s = spec.duration.seconds();
  m.events = r.events_executed;
  m.peak_rss_mib = PeakRssMib(RUSAGE_SELF);
  m.goal_wall_s = 60;
  m.goal_rss_mib = 4096;
  size_t direct = 0, derp = 0;
  uint64_t sent = 0, lost = 0;
  for (const results::PairSummary& p : r.pairs) {
    direct += p.final_path == results::PathKind::kDirect ? 1 : 0;
    derp += p.final_path == results::PathKind::kDerp ? 1 : 0;
    sent += p.probes_sent;
    lost += p.probes_lost;
  }
  m.outcome = std::to_string(r.pairs.size()) + " pairs: " + std::to_string(direct) + " direct, " +
              std::to_string(derp) + " derp at the end; " + std::to_string(lost) + " of " +
              std::to_string(sent) + " probes lost";
  return m;
}

void Print(const Measurement& m) {
  char line[256];
  std::cout << m.name << ": " << m.workload << "\n";
  std::snprintf(line, sizeof line, "  wall %.2f s (goal <= %.0f s: %s)\n", m.wall_s, m.goal_wall_s,
                m.wall_s <= m.goal_wall_s ? "met" : "missed");
  std::cout << line;
  std::snprintf(line, sizeof line, "  simulated/wall %.1f x, %.0f events/s (%llu events)\n",
                m.simulated_s / m.wall_s, static_cast<double>(m.events) / m.wall_s,
                static_cast<unsigned long long>(m.events));
  std::cout << line;
  if (m.goal_rss_mib > 0) {
    std::snprintf(line, sizeof line, "  peak memory %.0f MiB (goal <= %.0f MiB: %s)\n",
                  m.peak_rss_mib, m.goal_rss_mib, m.peak_rss_mib <= m.goal_rss_mib ? "met" : "missed");
  } else {
    std::snprintf(line, sizeof line, "  peak memory %.0f MiB\n", m.peak_rss_mib);
  }
  std::cout << line << "  " << m.outcome << "\n";
}

nlohmann::ordered_json ToJson(const Measurement& m) {
  nlohmann::ordered_json j;
  j["name"] = m.name;
  j["workload"] = m.workload;
  j["wall_s"] = m.wall_s;
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
  j["outcome"] = m.outcome;
  return j;
}

int RunBench(const std::vector<std::string>& argv) {
  CommandSpec spec{"bench", "bench [options]",
                   "Measures the simulator: the classic 4x4 NAT matrix (goal: <= 5 s wall on\n"
                   "2 cores) and a crowd of 1,000 nodes (goal: <= 60 s wall, <= 4 GiB).\n"
                   "Prints wall time, simulated/wall ratio, events per second and peak\n"
                   "memory. Run it on a quiet machine.",
                   po::options_description("Options"),
                   {}};
  spec.options.add_options()
      ("only", po::value<std::string>()->value_name("matrix|crowd"), "run one workload")
      ("nodes", po::value<uint32_t>()->default_value(1000)->value_name("N"),
       "nodes in the crowd (4 to 2000)")
      ("jobs,j", po::value<unsigned>()->value_name("N"),
       "matrix cells at once (default: the number of cores)")
      ("json", po::bool_switch(), "print the measurements as one JSON object");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  const std::string only = vm.count("only") ? vm["only"].as<std::string>() : "";
  if (!only.empty() && only != "matrix" && only != "crowd") {
    throw UsageError("--only: '" + only + "' is not a workload (matrix, crowd)");
  }
  const uint32_t nodes = vm["nodes"].as<uint32_t>();
  if (nodes < 4 || nodes > 2000) throw UsageError("--nodes: must be from 4 to 2000");
  const unsigned cores = std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
  const unsigned jobs = vm.count("jobs") ? vm["jobs"].as<unsigned>() : cores;
  if (jobs < 1 || jobs > 64) throw UsageError("--jobs: must be from 1 to 64");

  std::vector<Measurement> measured;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("punchlab-bench-" + std::to_string(getpid()));
  try {
    if (only.empty() || only == "matrix") measured.push_back(BenchMatrix(jobs, dir.string()));
    if (only.empty() || only == "crowd") measured.push_back(BenchCrowd(nodes));
  } catch (const lab::Interrupted&) {
    std::filesystem::remove_all(dir);
    lab::ReraiseCaughtSignal();
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::filesystem::remove_all(dir);
    std::cerr << "punchlab bench: " << e.what() << "\n";
    return kExitRuntime;
  }
  std::filesystem::remove_all(dir);
  if (vm["json"].as<bool>()) {
    nlohmann::ordered_json j;
    j["cores"] = cores;
    j["benchmarks"] = nlohmann::ordered_json::array();
    for (const Measurement& m : measured) j["benchmarks"].push_back(ToJson(m));
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "punchlab bench on " << cores << " cores\n";
    for (const Measurement& m : measured) Print(m);
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "bench", "measure the simulator: the 4x4 matrix and a 1,000-node crowd", RunBench);

}  // namespace
}  // namespace punchlab::cli
