// punchlab compare PATH... [--seed N] [--out DIR] [--pcap] [--json]
//
// Runs each scenario twice — in ns-3 (runsim::RunInSimulation) and in the
// real lab (runreal::RunInLab, needs root) — writes both results
// directories, DIR/<name>/sim/ and DIR/<name>/real/, and reports per
// expectation whether the two worlds agree and per pair how far the time to a
// direct path differs (run-real/compare-results.h has the JSON shape).
// Every file is checked before anything runs. Exit 0 when every expectation
// came out the same in both worlds (ok in both, or failed in both), 1 when
// one differs, 3 for a broken file, 4 when a run could not happen.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/scenario-files.h"
#include "results/run-options.h"
#include "results/write-directory.h"
#include "run-real/compare-results.h"
#include "run-real/run-real.h"
#include "run-sim/run-sim.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

constexpr const char* kAbout =
    "Runs every scenario in the ns-3 simulation and in the real network-namespace\n"
    "lab (as root; punchlab-node processes behind nftables NATs, in real time), writes\n"
    "DIR/<name>/sim/ and DIR/<name>/real/ (results.json, latency.csv, junit.xml;\n"
    "real/lab-logs/ holds the lab processes' output), and reports for each\n"
    "expectation whether both worlds gave the same verdict, and for each pair the\n"
    "time to a direct path in both and its difference (real minus sim). The real\n"
    "run's notes say where the lab differs from the model (e.g. conntrack also\n"
    "refreshes a NAT's mapping on inbound packets); a NAT knob Linux cannot build\n"
    "(e.g. ports: sequential) stops the run before the lab is built.\n"
    "\n"
    "--json prints one object:\n"
    "  {\"format\": \"punchlab-compare/1\", \"agree\": true|false,\n"
    "   \"scenarios\": [{\"scenario\", \"file\", \"sim_dir\", \"real_dir\", \"agree\",\n"
    "     \"expectations\": [{\"line\", \"column\", \"text\", \"agree\",\n"
    "        \"sim\": {\"ok\", \"observed\", \"observed_value\"}, \"real\": {...}}],\n"
    "     \"pairs\": [{\"a\", \"b\", \"sim\": {\"time_to_direct_s\", \"final_path\"},\n"
    "        \"real\": {...}, \"time_to_direct_diff_s\"}],\n"
    "     \"notes\": {\"sim\": [...], \"real\": [...]}}]}\n"
    "(times in seconds; null when a pair never went direct or a world has no such\n"
    "pair).\n"
    "\n"
    "Exit code: 0 every expectation agrees (ok in both or failed in both), 1 one\n"
    "differs, 3 a file is broken, 4 a run could not happen (e.g. not root).";

int RunCompare(const std::vector<std::string>& argv) {
  CommandSpec spec{"compare", "compare PATH... [options]", kAbout,
                   po::options_description("Options"), {}};
  spec.options.add_options()
      ("seed", po::value<uint64_t>()->value_name("N"), "use this seed instead of each file's")
      ("out", po::value<std::string>()->default_value("compare-results")->value_name("DIR"),
       "results go to DIR/<scenario name>/sim/ and .../real/")
      ("pcap", po::bool_switch(), "also capture every link in both worlds (<dir>/pcap/)")
      ("json", po::bool_switch(), "print one JSON object (shape above) instead of text");
  spec.positional.add("file", -1);
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  if (!vm.count("file")) throw UsageError("give at least one scenario file");

  const std::optional<std::vector<scenario::Scenario>> scenarios =
      LoadScenarioFiles("punchlab compare", ExpandScenarioPaths("punchlab compare",
                                                                vm["file"].as<std::vector<std::string>>()));
  if (!scenarios) return kExitBadScenario;

  const std::string out = vm["out"].as<std::string>();
  const bool as_json = vm["json"].as<bool>();
  nlohmann::json report = {{"format", "punchlab-compare/1"}, {"scenarios", nlohmann::json::array()}};
  bool all_agree = true;
  size_t agreeing = 0;
  for (const scenario::Scenario& s : *scenarios) {
    results::RunOptions sim_options;
    if (vm.count("seed")) sim_options.seed = vm["seed"].as<uint64_t>();
    sim_options.pcap = vm["pcap"].as<bool>();
    results::RunOptions real_options = sim_options;
    sim_options.out_dir = out + "/" + s.name + "/sim";
    real_options.out_dir = out + "/" + s.name + "/real";
    results::Results sim;
    results::Results real;
    try {
      sim = runsim::RunInSimulation(s, sim_options);
      results::WriteResultsDirectory(sim_options.out_dir, sim);
      if (!as_json) std::cerr << "punchlab compare: " << s.name << ": running in the real lab ("
                              << s.stop_time.ToString() << ")...\n";
      real = runreal::RunInLab(s, real_options);
      results::WriteResultsDirectory(real_options.out_dir, real);
    } catch (const std::exception& e) {
      std::cerr << "punchlab compare: " << s.file << ": " << e.what() << "\n";
      return kExitRuntime;
    }
    const runreal::ScenarioComparison c =
        runreal::CompareResults(sim, real, sim_options.out_dir, real_options.out_dir);
    all_agree = all_agree && c.agree();
    agreeing += c.agree() ? 1 : 0;
    if (as_json) {
      report["scenarios"].push_back(runreal::ToJson(c));
    } else {
      std::cout << runreal::FormatComparison(c) << "\n";
    }
  }
  if (as_json) {
    report["agree"] = all_agree;
    std::cout << report.dump(2) << "\n";
  } else {
    std::cout << agreeing << " of " << scenarios->size()
              << " scenarios agree between simulation and real lab\n";
  }
  return all_agree ? kExitOk : kExitExpectationFailed;
}

const SubcommandRegistration kRegistration(
    "compare", "run scenarios in simulation and in the real lab and compare the verdicts",
    RunCompare);

}  // namespace
}  // namespace punchlab::cli
