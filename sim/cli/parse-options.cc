#include "cli/parse-options.h"

#include <iostream>

#include "cli-common/subcommand.h"

namespace punchlab::cli {

namespace po = boost::program_options;

bool ParseOptions(const std::string& name, const std::vector<std::string>& argv,
                  const po::options_description& options, bool files, po::variables_map& vm) {
  po::options_description all;
  all.add(options);
  po::options_description hidden;
  hidden.add_options()("file", po::value<std::vector<std::string>>(), "scenario file");
  po::positional_options_description positional;
  if (files) {
    all.add(hidden);
    positional.add("file", -1);
  }
  try {
    const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    UsageError(name, e.what());
    return false;
  }
  return true;
}

int UsageError(const std::string& name, const std::string& what) {
  std::cerr << "punchlab " << name << ": " << what << " (see 'punchlab " << name << " --help')\n";
  return kExitUsage;
}

}  // namespace punchlab::cli
