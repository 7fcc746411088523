// punchlab sweep TEMPLATE [--param KEY=V1,V2,...]... [--seeds 1-20] [--out DIR]
//                [--sample N] [--jobs N] [--scheduler tcp://HOST:8786]
//                [--shard INDEX/COUNT] [--quiet]
//
// A scenario template x parameters x seeds, in parallel (locally, or on a
// Dask distributed cluster), with a table of outcomes and rates with
// intervals; resumable. The sweep is Python (punchlab.sweep: pandas, Dask),
// so this subcommand only hands over, as `punchlab report` does: it runs
// `/usr/bin/python3 -m punchlab.sweep ARGS...` with the build tree's
// package on PYTHONPATH and PUNCHLAB_BIN set to this binary (each run of the
// sweep is a `punchlab run` child). Flags, --help and messages are the
// Python side's (exit 0 done, 2 bad input, 4 some runs could not run).
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "cli/cmd-report.h"

namespace punchlab::cli {
namespace {

// This binary's own path, for the sweep's runs (PUNCHLAB_BIN, unless set).
std::vector<std::string> SweepEnvironment() {
  const char* set = std::getenv("PUNCHLAB_BIN");
  if (set && *set) return {};
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return {};
  return {"PUNCHLAB_BIN=" + std::string(self, static_cast<size_t>(n))};
}

int RunSweep(const std::vector<std::string>& argv) {
  const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  return RunPythonModule("sweep", "punchlab.sweep", args, SweepEnvironment());
}

const SubcommandRegistration kRegistration(
    "sweep", "run a scenario template over parameters x seeds (locally or on Dask); resumable",
    RunSweep);

}  // namespace
}  // namespace punchlab::cli
