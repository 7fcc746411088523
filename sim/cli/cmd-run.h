// `punchlab run` for a scenario its caller has already loaded (sim/cli/cmd-run.cc).
#pragma once

#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace punchlab::cli {

// `punchlab run ARGS` (ARGS as the subcommand gets them, "run" first) for the
// one scenario file ARGS name, `loaded` being what that file loads to: the
// matrix's forked cells, whose parent generated, loaded and checked each file
// just before (loading it again cost each cell ~4 M instructions, 1.5 %).
// Returns run's exit code.
int RunLoadedScenario(const std::vector<std::string>& argv, const scenario::Scenario& loaded);

}  // namespace punchlab::cli
