// punchlab run FILE... [--seed N] [--out DIR] [--pcap] [--real] [--quiet]
//
// Runs scenarios in ns-3 (or, with --real, in the network-namespace lab with
// punchlab-node processes: sim/run-real/) and writes one results directory
// per scenario, DIR/<scenario name>/ (sim/results/README.md), the same
// format from either world. Every file is loaded and
// checked before anything runs: one broken file and nothing runs (exit 3).
// Exit 0 when every expectation of every scenario held, 1 when one did not,
// 4 when a run could not happen at all.
#include <boost/program_options.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/scenario-files.h"
#include "results/run-options.h"
#include "results/summary.h"
#include "results/write-directory.h"
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
      "run", "run FILE... [options]",
      "Runs scenario files in the ns-3 simulation (or, with --real, as\n"
      "punchlab-node processes behind nftables NATs in network namespaces)\n"
      "and writes, per scenario,\n"
      "DIR/<name>/results.json, latency.csv and junit.xml (and pcap/ with\n"
      "--pcap). Prints each scenario's verdicts. Every file is checked first;\n"
      "a broken one stops everything.\n"
      "Exit code: 0 every expectation held, 1 one did not, 3 a file is broken,\n"
      "4 a run could not happen.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("seed", po::value<uint64_t>()->value_name("N"), "use this seed instead of each file's")
      ("out", po::value<std::string>()->default_value("results")->value_name("DIR"),
       "results go to DIR/<scenario name>/")
      ("pcap", po::bool_switch(), "also write DIR/<scenario name>/pcap/<link>.pcap")
      ("real", po::bool_switch(),
       "run in the real network-namespace lab (root; real time) instead of ns-3")
      ("quiet,q", po::bool_switch(), "one line per scenario instead of the full summary");
  spec.positional.add("file", -1);
  return spec;
}

int RunRun(const std::vector<std::string>& argv) {
  po::variables_map vm;
  if (!ParseCommandLine(argv, Spec(), vm)) return kExitOk;
  if (!vm.count("file")) throw UsageError("give at least one scenario file");

  const std::optional<std::vector<scenario::Scenario>> scenarios =
      LoadScenarioFiles("punchlab run", vm["file"].as<std::vector<std::string>>());
  if (!scenarios) return kExitBadScenario;

  const std::string out = vm["out"].as<std::string>();
  const bool quiet = vm["quiet"].as<bool>();
  int exit_code = kExitOk;
  for (const scenario::Scenario& s : *scenarios) {
    results::RunOptions run;
    if (vm.count("seed")) run.seed = vm["seed"].as<uint64_t>();
    run.out_dir = out + "/" + s.name;
    run.pcap = vm["pcap"].as<bool>();
    results::Results r;
    try {
      r = vm["real"].as<bool>() ? runreal::RunInLab(s, run) : runsim::RunInSimulation(s, run);
      results::WriteResultsDirectory(run.out_dir, r);
    } catch (const lab::Interrupted&) {
      lab::ReraiseCaughtSignal();  // the lab is gone; end the way the signal asked
      return kExitRuntime;
    } catch (const std::exception& e) {
      std::cerr << "punchlab run: " << s.file << ": " << e.what() << "\n";
      return kExitRuntime;
    }
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
}  // namespace punchlab::cli
