// The scenario files a subcommand was given (validate, run, compare): the
// paths as a user means them, then loading: every file is checked before
// anything runs, every problem printed as file:line:col, and two files with
// one name refused (their results would share a directory).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace punchlab::cli {

// What a user means by the paths they give: a directory stands for every
// *.yaml / *.yml file under it (recursively, in path order); a pattern the
// shell did not expand (quoted) is expanded here (glob(3)); a file that is
// not .yaml/.yml (README.md from `scenarios/*`) is skipped with a note on
// stderr; a path that does not exist is kept (the loader then says it cannot
// read it); a file named twice is loaded once. Throws UsageError (flags.h)
// when nothing is left to load. `program` prefixes the notes.
std::vector<std::string> ExpandScenarioPaths(const std::string& program,
                                             const std::vector<std::string>& paths);

// The scenarios in file order, or nullopt after printing why not to stderr
// (the caller exits with kExitBadScenario). `program` prefixes the messages.
std::optional<std::vector<scenario::Scenario>> LoadScenarioFiles(
    const std::string& program, const std::vector<std::string>& files);

}  // namespace punchlab::cli
