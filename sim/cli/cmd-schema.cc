// punchlab schema: the scenario file reference, from the one schema table the
// validator uses (sim/scenario/schema.cc). --markdown prints
// scenarios/REFERENCE.md exactly.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "scenario/schema.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

int RunSchema(const std::vector<std::string>& argv) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help and exit")
      ("markdown", "print markdown (what scenarios/REFERENCE.md holds)");
  po::variables_map vm;
  try {
    const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    po::store(po::command_line_parser(args)
                  .options(options)
                  .positional(po::positional_options_description())
                  .run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "punchlab schema: " << e.what() << " (see 'punchlab schema --help')\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "Usage: punchlab schema [--markdown]\n\n"
                 "Prints every key a scenario file may hold, with its type, default and\n"
                 "meaning, the units quantities take, and the NAT presets.\n\n"
              << options;
    return kExitOk;
  }
  std::cout << (vm.count("markdown") ? scenario::RenderSchemaMarkdown()
                                     : scenario::RenderSchemaText());
  return kExitOk;
}

const SubcommandRegistration kRegistration("schema",
                                           "print the scenario file reference (keys, defaults)",
                                           RunSchema);

}  // namespace
}  // namespace punchlab::cli
