// `punchlab report` as a function, for subcommands that end by writing the
// report (the demo): runs `python3 -m punchlab.report ARGS...` as a child
// process with the build tree's package first on PYTHONPATH, and waits.
#pragma once

#include <string>
#include <vector>

namespace punchlab::cli {

// `args` are the report's own: RESULTS... -o FILE [--title T] [--png-dir DIR].
// Returns the report's exit code (0 written, 2 bad input, 4 matplotlib
// missing or output unwritable), or kExitRuntime when Python cannot be run;
// every message goes to stderr, the "wrote FILE" line to stdout.
int WriteReport(const std::vector<std::string>& args);

// The same hand-over for any module of the package (`punchlab sweep` runs
// punchlab.sweep): `python3 -m MODULE ARGS...` with `extra_env` (NAME=VALUE)
// added to the environment; messages name `punchlab COMMAND`.
int RunPythonModule(const std::string& command, const std::string& module,
                    const std::vector<std::string>& module_args,
                    const std::vector<std::string>& extra_env = {});

}  // namespace punchlab::cli
