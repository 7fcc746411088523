// The one flag framework of both binaries (`punchlab` and `punchlab-node`):
// a subcommand describes its flags in a CommandSpec, ParseCommandLine reads
// argv (and answers --help), and any bad value is a UsageError that the
// subcommand dispatcher (subcommand.h) prints as one line,
//   <program> <subcommand>: <what> (see '<program> <subcommand> --help')
// exiting kExitUsage (2). Values with units go through the parsers below, so
// a duration means the same in every flag (Duration::Parse).
#pragma once

#include <boost/program_options.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab::cli {

// A flag value that cannot be used.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandSpec {
  std::string name;   // "stun-probe"
  std::string usage;  // "stun-probe SERVER:PORT [options]", after the program's name
  std::string about;  // what --help prints between the usage line and the options
  boost::program_options::options_description options;
  // A positional name that is not among `options` (e.g. "file") collects
  // every such argument as a list of strings and is not shown in --help.
  boost::program_options::positional_options_description positional;
};

// Parses argv (argv[0] is the subcommand's name) into `vm`, with --help/-h
// added. False when --help was asked for and printed (exit kExitOk). Throws
// UsageError for unknown flags, missing or bad values and stray arguments.
bool ParseCommandLine(const std::vector<std::string>& argv, const CommandSpec& spec,
                      boost::program_options::variables_map& vm);

// "203.0.113.1:3478" or "[2001:db8::1]:3478"; `flag` names the option in the message.
Endpoint ParseEndpointFlag(const std::string& flag, const std::string& text);

// What a duration flag accepts besides Duration::Parse's text ("30s",
// "1.5s", "500ms", "2m", "1h").
struct DurationRange {
  bool zero_ok = false;                    // false: above 0
  Duration max = Duration::Seconds(86400);
  // A bare number is seconds ("0.5"): for flags that took seconds before
  // they had units.
  bool bare_seconds = false;
};

// Above 0, at most a day, a bare number is seconds: punchlab-node's flags,
// which took seconds before they had units.
inline constexpr DurationRange kSecondsOrDuration{false, Duration::Seconds(86400), true};

// The duration `text` names; UsageError naming `flag` when it is not one or
// out of `range`. Declare such a flag as po::value<std::string>()->value_name("DURATION").
Duration ParseDurationFlag(const std::string& flag, const std::string& text,
                           const DurationRange& range = {});

}  // namespace punchlab::cli
