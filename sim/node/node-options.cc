#include "node/node-options.h"

#include <cmath>
#include <iostream>
#include <optional>

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

namespace {

// "12", "0.5", "-1": digits with at most one '.', optionally negative.
bool IsBareNumber(const std::string& text) {
  size_t digits = 0;
  size_t dots = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch >= '0' && ch <= '9') {
      ++digits;
    } else if (ch == '.') {
      ++dots;
    } else if (!(ch == '-' && i == 0)) {
      return false;
    }
  }
  return digits > 0 && dots <= 1;
}

}  // namespace

Duration ParseDurationFlag(const std::string& flag, const std::string& text) {
  constexpr Duration kDay = Duration::Seconds(86400);
  const std::string range =
      flag + ": must be a duration above 0 and at most a day (86400s), not '" + text + "'";
  const bool bare = IsBareNumber(text);
  if (bare && text[0] == '-') throw UsageError(range);
  const std::optional<Duration> d = Duration::Parse(bare ? text + "s" : text);
  if (!d) {
    throw UsageError(flag + ": '" + text +
                     "' is not a duration (write e.g. 30s, 1.5s or 500ms; a bare number is "
                     "seconds)");
  }
  if (*d <= Duration::Zero() || *d > kDay) throw UsageError(range);
  return *d;
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
