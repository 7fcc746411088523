// Shared by the scenario suites: load YAML text as "t.yaml" and look at the
// errors as the CLI prints them.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scenario/loader.h"

namespace punchlab::scenario::testing {

inline LoadResult Load(const std::string& yaml) { return LoadScenarioText(yaml, "t.yaml"); }

inline std::vector<std::string> Errors(const std::string& yaml) {
  std::vector<std::string> out;
  for (const Diagnostic& d : Load(yaml).errors) out.push_back(d.ToString());
  return out;
}

// The scenario, failing the test (with the errors) when it did not load.
inline Scenario LoadOk(const std::string& yaml) {
  LoadResult r = Load(yaml);
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  return r.scenario.value_or(Scenario{});
}

}  // namespace punchlab::scenario::testing
