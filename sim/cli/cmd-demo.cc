// punchlab demo [--out DIR] [--seed N] [--jobs N]: the main job.
//
// Runs the classic NAT matrix in simulation - full cone, restricted cone,
// port-restricted cone and symmetric, every pair, 60 simulated seconds each
// with 10 probes/s each way (cli/matrix-runner.h) - prints the grid, writes
// DIR/matrix.json, matrix.md, matrix.html and every cell's results, and ends
// by writing the HTML report of it all (DIR/report.html with its plots in
// DIR/plots/: RTT over time per pair, direct vs relayed RTT, the time to
// direct as a heat map). The STUN demo the project started with is
// `punchlab stun-demo`.
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/cmd-report.h"
#include "cli/matrix-runner.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"
#include "results/matrix.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

int RunDemo(const std::vector<std::string>& argv) {
  CommandSpec spec{"demo", "demo [options]",
                   "The classic NAT matrix in simulation: two nodes behind every pair of\n"
                   "full cone, restricted cone, port-restricted cone and symmetric NATs,\n"
                   "with a DERP relay and the coordination server, 60 simulated seconds\n"
                   "each. Prints which pairs go direct and how fast, writes the grid and\n"
                   "every cell's results to DIR, and ends with DIR/report.html.",
                   po::options_description("Options"),
                   {}};
  spec.options.add_options()
      ("out", po::value<std::string>()->default_value("demo")->value_name("DIR"),
       "where the grid, the cells' results and the report go")
      ("seed", po::value<uint64_t>()->default_value(1)->value_name("N"), "seed of every cell")
      ("jobs,j", po::value<unsigned>()->value_name("N"),
       "cells run at once (default: the number of cores)");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  const unsigned cores = std::max(1u, static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
  const unsigned jobs = vm.count("jobs") ? vm["jobs"].as<unsigned>() : cores;
  if (jobs < 1 || jobs > 64) throw UsageError("--jobs: must be from 1 to 64");
  const std::string out = vm["out"].as<std::string>();

  MatrixRunOptions matrix;
  matrix.nats = kClassicNats;
  matrix.spec.duration = Duration::Seconds(60);
  matrix.spec.packets_per_second = 10;
  matrix.spec.seed = vm["seed"].as<uint64_t>();
  matrix.jobs = jobs;
  matrix.out = out;
  std::cout << "The classic NAT matrix: alice behind the row's NAT, bob behind the column's,\n"
               "a DERP relay and the coordination server on the internet (20 ms), 60\n"
               "simulated seconds per pair, 10 probes/s each way.\n\n";
  MatrixRun run;
  try {
    run = RunMatrixCells(matrix);
    results::WriteMatrixFiles(out, run.matrix);
  } catch (const lab::Interrupted&) {
    lab::ReraiseCaughtSignal();
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::cerr << "punchlab demo: " << e.what() << "\n";
    return kExitRuntime;
  }
  for (const std::string& error : run.errors) std::cerr << "punchlab demo: " << error << "\n";
  std::cout << results::MatrixMarkdown(run.matrix) << "\nwritten: " << out << "/matrix.json, "
            << out << "/matrix.md, " << out << "/matrix.html; each cell's results in " << out
            << "/cells/\n";
  if (!run.errors.empty()) return kExitRuntime;
  // The matrix directory gives the heat map; its cells, the RTT plots.
  return WriteReport({out, out + "/cells", "-o", out + "/report.html", "--png-dir", out + "/plots",
                      "--title", "punchlab demo: the classic NAT matrix"});
}

const SubcommandRegistration kRegistration(
    "demo", "the main job: the classic NAT matrix in ns-3, its grid and an HTML report", RunDemo);

}  // namespace
}  // namespace punchlab::cli
