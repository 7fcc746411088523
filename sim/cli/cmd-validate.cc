// punchlab validate PATH...: loads and checks scenario files without running
// them. Prints "FILE: ok" per good file, every problem of a bad one as
// file:line:col: message (on stderr); exit 0 when all are good, 3 otherwise.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "cli/scenario-files.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

int RunValidate(const std::vector<std::string>& argv) {
  CommandSpec spec{"validate", "validate PATH...",
                   "Checks scenario files without running them: unknown keys, wrong types,\n"
                   "quantities without units, unknown names, impossible topologies. Prints\n"
                   "'FILE: ok' for each good file and file:line:col: message for every\n"
                   "problem. A directory stands for every .yaml/.yml file under it; a quoted\n"
                   "pattern ('scenarios/*/*.yaml') is expanded; other files are skipped.\n"
                   "Exit code 0 when every file is good, 3 otherwise, 2 when no scenario\n"
                   "file was given.\n"
                   "'punchlab schema' lists every key.",
                   po::options_description("Options"),
                   {}};
  spec.positional.add("file", -1);
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  if (!vm.count("file")) throw UsageError("give at least one scenario file");
  int exit_code = kExitOk;
  for (const std::string& file :
       ExpandScenarioPaths("punchlab validate", vm["file"].as<std::vector<std::string>>())) {
    const scenario::LoadResult result = scenario::LoadScenarioFile(file);
    if (result.ok()) {
      std::cout << file << ": ok\n";
      continue;
    }
    for (const scenario::Diagnostic& d : result.errors) std::cerr << d.ToString() << "\n";
    exit_code = kExitBadScenario;
  }
  return exit_code;
}

const SubcommandRegistration kRegistration("validate",
                                           "check scenario files without running them",
                                           RunValidate);

}  // namespace
}  // namespace punchlab::cli
