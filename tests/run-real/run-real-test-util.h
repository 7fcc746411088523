// Shared by the run-real suites: a scenario from YAML text ("t.yaml").
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "scenario/loader.h"

namespace punchlab::runreal::testing {

// The scenario, failing the test (with the loader's errors) when it does not load.
inline scenario::Scenario LoadOk(const std::string& yaml) {
  scenario::LoadResult r = scenario::LoadScenarioText(yaml, "t.yaml");
  for (const scenario::Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  return r.scenario.value_or(scenario::Scenario{});
}

}  // namespace punchlab::runreal::testing
