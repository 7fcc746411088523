// Loads a scenario file into the model (scenario.h), strictly: every problem
// is collected, not just the first, each with its 1-based file:line:col and a
// sentence that says what to write instead. Nothing here throws and no YAML
// makes it crash; a scenario comes back only when there were no errors.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem has no position (unreadable file)
  int column = 0;  // 1-based
  std::string message;

  // "file:line:col: message" ("file: message" without a position).
  std::string ToString() const;
};

struct LoadResult {
  std::optional<Scenario> scenario;  // set exactly when `errors` is empty
  std::vector<Diagnostic> errors;    // sorted by position
  bool ok() const { return scenario.has_value(); }
};

// `file_name` names the text in messages and, without directory and .yaml
// suffix, is the scenario's default name.
LoadResult LoadScenarioText(std::string_view text, const std::string& file_name);
LoadResult LoadScenarioFile(const std::string& path);

}  // namespace scenario
}  // namespace punchlab
