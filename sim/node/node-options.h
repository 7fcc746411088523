// Flag parsing and error reporting shared by punchlab-node's subcommands, so
// every one of them answers --help, bad flags and bad addresses the same way:
// usage errors are one line on stderr and kExitUsage; runtime failures (a
// socket that will not bind) are one line and kExitRuntime.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab::cli {

// A flag value that cannot be used; RunNodeCommand prints it and exits kExitUsage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandSpec {
  std::string name;   // "stun-probe"
  std::string usage;  // "stun-probe SERVER:PORT [options]"
  std::string about;  // a paragraph for --help
  boost::program_options::options_description options;
  boost::program_options::positional_options_description positional;
};

// Parses argv (argv[0] is the subcommand name) into `vm`. Returns false when
// --help was asked for and printed. Throws UsageError for unknown flags,
// missing values and surplus arguments.
bool ParseCommandLine(const std::vector<std::string>& argv, const CommandSpec& spec,
                      boost::program_options::variables_map& vm);

// "203.0.113.1:3478" or "[2001:db8::1]:3478"; `flag` names the option in the message.
Endpoint ParseEndpointFlag(const std::string& flag, const std::string& text);
// Seconds as a decimal number, > 0 and at most a day.
Duration ParseSecondsFlag(const std::string& flag, double seconds);
// A duration with its unit, as everywhere else in punchlab (Duration::Parse:
// "30s", "1.5s", "500ms", "2m"), or a bare number of seconds ("0.5"), which is
// what these flags took before they had units. Above 0 and at most a day.
// Declare such a flag as po::value<std::string>()->value_name("DURATION").
Duration ParseDurationFlag(const std::string& flag, const std::string& text);

// Runs `body`, turning UsageError into kExitUsage and realio::SocketError (and
// any other exception) into kExitRuntime, each with one line on stderr.
int RunNodeCommand(const std::string& name, const std::function<int()>& body);

}  // namespace punchlab::cli
