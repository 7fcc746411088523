// A tiny subcommand registry shared by `punchlab` and `punchlab-node`. Each
// subcommand lives in its own file and registers itself with a static
// SubcommandRegistration, so adding one never touches main().
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace punchlab::cli {

// Exit codes shared by both binaries.
enum ExitCode : int {
  kExitOk = 0,
  kExitExpectationFailed = 1,  // ran, but something it checked did not hold
  kExitUsage = 2,              // bad flag, bad address, unknown subcommand
  kExitBadScenario = 3,        // scenario file rejected before anything ran
  kExitRuntime = 4,            // could not run (socket error, lab setup failed, ...)
};

struct Subcommand {
  std::string name;
  std::string summary;
  // argv[0] is the subcommand name; the rest are its flags.
  std::function<int(const std::vector<std::string>& argv)> run;
};

class SubcommandRegistration {
 public:
  SubcommandRegistration(std::string name, std::string summary,
                         std::function<int(const std::vector<std::string>&)> run);
};

// Dispatches argv to the named subcommand. Handles --help/-h/help (with a
// subcommand name: that subcommand's --help; with anything else: kExitUsage),
// --version/-V/version (the project's version, CMake's PROJECT_VERSION), no
// arguments and an unknown name (a one-line error and kExitUsage). What the subcommand
// throws is one line on stderr, "<program> <name>: <what>": a UsageError
// (flags.h) adds "(see '<program> <name> --help')" and exits kExitUsage, any
// other exception kExitRuntime.
int DispatchSubcommand(const std::string& program, const std::string& description, int argc,
                       char** argv);

// The program DispatchSubcommand runs as ("punchlab", "punchlab-node").
const std::string& ProgramName();

}  // namespace punchlab::cli
