// The command-line parsing every `punchlab` subcommand shares: its options
// (what --help shows) and, for the ones that take scenario files, every
// positional argument as a "file". A bad flag is one line on stderr,
// "punchlab <name>: <what> (see 'punchlab <name> --help')".
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace punchlab::cli {

// argv[0] is the subcommand's name. False (after the message) on a bad
// flag, or a stray positional argument when `files` is false.
bool ParseOptions(const std::string& name, const std::vector<std::string>& argv,
                  const boost::program_options::options_description& options, bool files,
                  boost::program_options::variables_map& vm);

// The same one-line message for a usage problem found after parsing; returns
// kExitUsage.
int UsageError(const std::string& name, const std::string& what);

}  // namespace punchlab::cli
