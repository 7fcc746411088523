// punchlab schema: the scenario file reference, from the one schema table the
// validator uses (sim/scenario/schema.cc). --markdown prints
// scenarios/REFERENCE.md exactly.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "scenario/schema.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

int RunSchema(const std::vector<std::string>& argv) {
  CommandSpec spec{"schema", "schema [--markdown]",
                   "Prints every key a scenario file may hold, with its type, default and\n"
                   "meaning, the units quantities take, and the NAT presets.",
                   po::options_description("Options"),
                   {}};
  spec.options.add_options()("markdown", "print markdown (what scenarios/REFERENCE.md holds)");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  std::cout << (vm.count("markdown") ? scenario::RenderSchemaMarkdown()
                                     : scenario::RenderSchemaText());
  return kExitOk;
}

const SubcommandRegistration kRegistration("schema",
                                           "print the scenario file reference (keys, defaults)",
                                           RunSchema);

}  // namespace
}  // namespace punchlab::cli
