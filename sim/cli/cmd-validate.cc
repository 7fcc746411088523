// punchlab validate FILE...: loads and checks scenario files without running
// them. Prints "FILE: ok" per good file, every problem of a bad one as
// file:line:col: message (on stderr); exit 0 when all are good, 3 otherwise.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "cli/parse-options.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

int RunValidate(const std::vector<std::string>& argv) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help and exit");
  po::variables_map vm;
  if (!ParseOptions("validate", argv, options, /*files=*/true, vm)) return kExitUsage;
  if (vm.count("help")) {
    std::cout << "Usage: punchlab validate FILE...\n\n"
                 "Checks scenario files without running them: unknown keys, wrong types,\n"
                 "quantities without units, unknown names, impossible topologies. Prints\n"
                 "'FILE: ok' for each good file and file:line:col: message for every\n"
                 "problem. Exit code 0 when every file is good, 3 otherwise.\n"
                 "'punchlab schema' lists every key.\n\n"
              << options;
    return kExitOk;
  }
  if (!vm.count("file")) {
    return UsageError("validate", "give at least one scenario file");
  }
  int exit_code = kExitOk;
  for (const std::string& file : vm["file"].as<std::vector<std::string>>()) {
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
