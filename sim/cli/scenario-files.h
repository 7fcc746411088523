// Loading the scenario files a subcommand was given (run, compare): every
// file is checked before anything runs, every problem printed as
// file:line:col, and two files with one name refused (their results would
// share a directory).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace punchlab::cli {

// The scenarios in file order, or nullopt after printing why not to stderr
// (the caller exits with kExitBadScenario). `program` prefixes the messages.
std::optional<std::vector<scenario::Scenario>> LoadScenarioFiles(
    const std::string& program, const std::vector<std::string>& files);

}  // namespace punchlab::cli
