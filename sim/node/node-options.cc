#include "node/node-options.h"

#include <cmath>
#include <iostream>

#include "cli-common/subcommand.h"
#include "realio/socket-error.h"

namespace punchlab::cli {

namespace po = boost::program_options;

bool ParseCommandLine(const std::vector<std::string>& argv, const CommandSpec& spec,
                      po::variables_map& vm) {
  po::options_description all = spec.options;
  all.add_options()("help,h", "show this help and exit");
  const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  try {
    po::store(po::command_line_parser(args).options(all).positional(spec.positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: punchlab-node " << spec.usage << "\n\n" << spec.about << "\n\n" << all;
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

Endpoint ParseEndpointFlag(const std::string& flag, const std::string& text) {
  if (auto endpoint = Endpoint::Parse(text)) return *endpoint;
  throw UsageError(flag + ": '" + text +
                   "' is not an address:port (write e.g. 203.0.113.1:3478 or [2001:db8::1]:3478)");
}

Duration ParseSecondsFlag(const std::string& flag, double seconds) {
  constexpr double kDay = 86400;
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > kDay) {
    throw UsageError(flag + ": must be a number of seconds above 0 and at most 86400");
  }
  return Duration::Nanos(std::llround(seconds * 1e9));
}

int RunNodeCommand(const std::string& name, const std::function<int()>& body) {
  const std::string prefix = "punchlab-node " + name + ": ";
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << prefix << e.what() << " (see 'punchlab-node " << name << " --help')\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << prefix << e.what() << "\n";
    return kExitRuntime;
  }
}

}  // namespace punchlab::cli
