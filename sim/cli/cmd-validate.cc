// punchlab validate FILE...: loads and checks scenario files without running
// them. Prints "FILE: ok" per good file, every problem of a bad one as
// file:line:col: message (on stderr); exit 0 when all are good, 3 otherwise.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

int RunValidate(const std::vector<std::string>& argv) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help and exit");
  po::options_description hidden;
  hidden.add_options()("file", po::value<std::vector<std::string>>(), "scenario file");
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("file", -1);
  po::variables_map vm;
  try {
    const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "punchlab validate: " << e.what() << " (see 'punchlab validate --help')\n";
    return kExitUsage;
  }
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
    std::cerr << "punchlab validate: give at least one scenario file (see 'punchlab validate "
                 "--help')\n";
    return kExitUsage;
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
