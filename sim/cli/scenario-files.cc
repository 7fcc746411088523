#include "cli/scenario-files.h"

#include <iostream>
#include <map>

#include "scenario/loader.h"

namespace punchlab::cli {

std::optional<std::vector<scenario::Scenario>> LoadScenarioFiles(
    const std::string& program, const std::vector<std::string>& files) {
  std::vector<scenario::Scenario> scenarios;
  bool broken = false;
  for (const std::string& file : files) {
    scenario::LoadResult loaded = scenario::LoadScenarioFile(file);
    for (const scenario::Diagnostic& d : loaded.errors) std::cerr << d.ToString() << "\n";
    if (!loaded.ok()) {
      broken = true;
      continue;
    }
    scenarios.push_back(std::move(*loaded.scenario));
  }
  if (broken) {
    std::cerr << program << ": nothing was run: fix the scenario files above\n";
    return std::nullopt;
  }
  std::map<std::string, std::string> names;
  for (const scenario::Scenario& s : scenarios) {
    const auto [it, fresh] = names.emplace(s.name, s.file);
    if (!fresh) {
      std::cerr << program << ": " << it->second << " and " << s.file << " are both named '"
                << s.name << "'; their results would share a directory: rename one\n";
      return std::nullopt;
    }
  }
  return scenarios;
}

}  // namespace punchlab::cli
