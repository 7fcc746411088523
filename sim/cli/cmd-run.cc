// punchlab run PATH... [--seed N] [--out DIR] [--pcap] [--real] [--quiet]
//                      [--junit FILE | --no-junit]
//
// Runs scenarios in ns-3 (or, with --real, in the network-namespace lab with
// punchlab-node processes: sim/run-real/) and writes one results directory
// per scenario, DIR/<scenario name>/ (sim/results/README.md), the same
// format from either world, and DIR/junit.xml: every scenario of the run in
// one file for CI, with wall times (results/write-junit.h). Every file is loaded and
// checked before anything runs: one broken file and nothing runs (exit 3).
// Exit 0 when every expectation of every scenario held, 1 when one did not,
// 4 when a run could not happen at all.
#include <boost/program_options.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/shard.h"
#include "cli-common/subcommand.h"
#include "cli/cmd-run.h"
#include "cli/scenario-files.h"
#include "results/run-options.h"
#include "results/summary.h"
#include "results/write-directory.h"
#include "results/write-junit.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "run-real/run-real.h"
#include "run-sim/run-sim.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "run", "run PATH... [options]",
      "Runs scenario files in the ns-3 simulation (or, with --real, as\n"
      "punchlab-node processes behind nftables NATs in network namespaces)\n"
      "and writes, per scenario,\n"
      "DIR/<name>/results.json, latency.csv and junit.xml (and pcap/ with\n"
      "--pcap), and DIR/junit.xml with every scenario of the run (wall times\n"
      "in time=) for CI. Prints each scenario's verdicts. A directory stands\n"
      "for every .yaml/.yml file under it. Every file is checked first;\n"
      "a broken one stops everything.\n"
      "Exit code: 0 every expectation held, 1 one did not, 2 a usage mistake,\n"
      "3 a file is broken, 4 a run could not happen.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("seed", po::value<uint64_t>()->value_name("N"), "use this seed instead of each file's")
      ("out", po::value<std::string>()->default_value("results")->value_name("DIR"),
       "results go to DIR/<scenario name>/")
      ("pcap", po::bool_switch(), "also write DIR/<scenario name>/pcap/<link>.pcap")
      ("real", po::bool_switch(),
       "run in the real network-namespace lab (root; real time) instead of ns-3")
      ("quiet,q", po::bool_switch(), "one line per scenario instead of the full summary")
      ("junit", po::value<std::string>()->value_name("FILE"),
       "write the run's junit.xml here instead of DIR/junit.xml")
      ("no-junit", po::bool_switch(), "write no junit.xml for the run (each DIR/<name>/ keeps its own)")
      ("shard", po::value<std::string>()->value_name("INDEX/COUNT"),
       "run files INDEX, INDEX+COUNT, ... of those given (default: GTEST_SHARD_INDEX/"
       "GTEST_TOTAL_SHARDS if set)");
  spec.positional.add("file", -1);
  return spec;
}

// The command line, checked; false: --help was printed.
bool ParseRunCommandLine(const std::vector<std::string>& argv, po::variables_map& vm) {
  if (!ParseCommandLine(argv, Spec(), vm)) return false;
  if (!vm.count("file")) throw UsageError("give at least one scenario file");
  if (vm.count("junit") && vm["no-junit"].as<bool>()) {
    throw UsageError("--junit and --no-junit exclude each other");
  }
  return true;
}

int RunScenarios(const po::variables_map& vm,
                 const std::optional<std::vector<scenario::Scenario>>& scenarios);

int RunRun(const std::vector<std::string>& argv) {
  po::variables_map vm;
  if (!ParseRunCommandLine(argv, vm)) return kExitOk;
  return RunScenarios(
      vm, LoadScenarioFiles("punchlab run", ExpandScenarioPaths("punchlab run",
                                                                vm["file"].as<std::vector<std::string>>())));
}

int RunScenarios(const po::variables_map& vm,
                 const std::optional<std::vector<scenario::Scenario>>& scenarios) {
  if (!scenarios) return kExitBadScenario;

  const std::string out = vm["out"].as<std::string>();
  const bool quiet = vm["quiet"].as<bool>();
  const bool real = vm["real"].as<bool>();
  const std::optional<std::string> junit_file =
      vm["no-junit"].as<bool>() ? std::nullopt
                                : std::optional<std::string>(vm.count("junit") ? vm["junit"].as<std::string>()
                                                                               : out + "/junit.xml");
  std::vector<results::JunitRun> junit;
  // Rewritten after every scenario, so that it holds what ran even when a
  // later scenario cannot.
  const auto write_junit = [&] {
    if (!junit_file) return true;
    try {
      results::WriteTextFile(*junit_file, results::JunitAggregateText(junit));
    } catch (const std::exception& e) {
      std::cerr << "punchlab run: " << e.what() << "\n";
      return false;
    }
    return true;
  };
  const std::optional<Shard> shard = ResolveShard(
      vm.count("shard") ? std::optional<std::string>(vm["shard"].as<std::string>()) : std::nullopt);
  // The last scenario this process runs: the process ends after it (`punchlab
  // run`, a matrix cell), so its world is not freed (RunOptions).
  std::optional<size_t> last;
  for (size_t i = 0; i < scenarios->size(); ++i) {
    if (!shard || shard->Takes(i)) last = i;
  }
  int exit_code = kExitOk;
  for (size_t i = 0; i < scenarios->size(); ++i) {
    if (shard && !shard->Takes(i)) continue;
    const scenario::Scenario& s = (*scenarios)[i];
    results::RunOptions run;
    if (vm.count("seed")) run.seed = vm["seed"].as<uint64_t>();
    run.out_dir = out + "/" + s.name;
    run.pcap = vm["pcap"].as<bool>();
    run.process_ends_after = i == last;
    results::Results r;
    const auto started = std::chrono::steady_clock::now();
    const auto wall_s = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    try {
      r = real ? runreal::RunInLab(s, run) : runsim::RunInSimulation(s, run);
      results::WriteResultsDirectory(run.out_dir, r);
    } catch (const lab::Interrupted&) {
      lab::ReraiseCaughtSignal();  // the lab is gone; end the way the signal asked
      return kExitRuntime;
    } catch (const std::exception& e) {
      std::cerr << "punchlab run: " << s.file << ": " << e.what() << "\n";
      results::JunitRun failed;
      failed.results.scenario = s.name;
      failed.results.file = s.file;
      failed.results.seed = run.seed.value_or(s.seed);
      failed.results.mode = real ? results::Mode::kReal : results::Mode::kSimulation;
      failed.wall_s = wall_s();
      failed.error = e.what();
      junit.push_back(std::move(failed));
      write_junit();
      return kExitRuntime;
    }
    junit.push_back({r, wall_s(), std::nullopt});
    if (!write_junit()) return kExitRuntime;
    const bool ok = r.AllExpectationsOk();
    if (quiet) {
      size_t held = 0;
      for (const results::ExpectationResult& e : r.expectations) held += e.ok ? 1 : 0;
      std::cout << (ok ? "ok   " : "FAIL ") << s.name << ": " << held << "/"
                << r.expectations.size() << " expectations held (" << run.out_dir << ")\n";
      if (!ok) {
        for (const results::ExpectationResult& e : r.expectations) {
          if (!e.ok) {
            std::cout << "     " << s.file << ":" << e.where.line << ":" << e.where.column
                      << ": " << e.text << ": observed " << e.observed << "\n";
          }
        }
      }
    } else {
      std::cout << results::FormatSummary(r) << "results in " << run.out_dir << "/\n\n";
    }
    if (!ok) exit_code = kExitExpectationFailed;
  }
  return exit_code;
}

const SubcommandRegistration kRegistration("run", "run scenario files and judge their expectations",
                                           RunRun);

}  // namespace

int RunLoadedScenario(const std::vector<std::string>& argv, const scenario::Scenario& loaded) {
  po::variables_map vm;
  if (!ParseRunCommandLine(argv, vm)) return kExitOk;
  return RunScenarios(vm, std::vector<scenario::Scenario>{loaded});
}

}  // namespace punchlab::cli
