#include "cli/scenario-files.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "cli-common/flags.h"
#include "scenario/loader.h"

namespace punchlab::cli {
namespace {

namespace fs = std::filesystem;

bool IsScenarioFile(const fs::path& p) {
  return p.extension() == ".yaml" || p.extension() == ".yml";
}

// The matches of a shell pattern, sorted; empty when none.
std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

void Expand(const std::string& program, const std::string& path, std::vector<std::string>& out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && IsScenarioFile(it->path())) found.push_back(it->path().string());
    }
    if (ec) std::cerr << program << ": " << path << ": " << ec.message() << "\n";
    std::sort(found.begin(), found.end());
    if (found.empty()) std::cerr << program << ": " << path << ": no .yaml or .yml files in it\n";
    out.insert(out.end(), found.begin(), found.end());
    return;
  }
  if (!fs::exists(path, ec) && path.find_first_of("*?[") != std::string::npos) {
    const std::vector<std::string> matches = Glob(path);
    if (matches.empty()) {
      std::cerr << program << ": " << path << ": the pattern matches nothing\n";
      return;
    }
    for (const std::string& m : matches) Expand(program, m, out);
    return;
  }
  if (fs::exists(path, ec) && !IsScenarioFile(path)) {
    std::cerr << program << ": " << path << ": skipped: not a .yaml or .yml file\n";
    return;
  }
  out.push_back(path);
}

}  // namespace

std::vector<std::string> ExpandScenarioPaths(const std::string& program,
                                             const std::vector<std::string>& paths) {
  std::vector<std::string> expanded;
  for (const std::string& p : paths) Expand(program, p, expanded);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& file : expanded) {
    if (seen.insert(fs::path(file).lexically_normal().string()).second) out.push_back(file);
  }
  if (out.empty()) throw UsageError("no scenario files (.yaml or .yml) among the paths given");
  return out;
}

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
