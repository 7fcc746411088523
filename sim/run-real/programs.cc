#include "run-real/programs.h"

#include <unistd.h>

#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "punchlab/json.h"
#include "scenario/facts.h"

namespace punchlab::runreal {

std::string PublicAddress(const scenario::Scenario& s, const LabPlan& plan, size_t node) {
  const std::vector<scenario::Hop>& chain = s.nodes[node].chain;  // nearest first
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it->kind != scenario::Hop::Kind::kNat) continue;
    if (const BoxPlan* box = plan.FindBox(it->name)) return box->uplink.address;
  }
  return plan.nodes[node].uplink.address;
}

std::map<std::string, std::string> ProgramFacts(const scenario::Scenario& s, const LabPlan& plan,
                                                size_t node, const std::string& dir,
                                                uint64_t seed,
                                                const std::vector<std::string>& derp_cert_pins) {
  std::map<std::string, std::string> facts;
  facts["self.name"] = s.nodes[node].name;
  facts["self.address"] = plan.nodes[node].uplink.address;
  facts["self.public_address"] = PublicAddress(s, plan, node);
  facts["dir"] = dir;
  facts["seed"] = std::to_string(seed);
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    facts["nodes." + s.nodes[i].name + ".address"] = plan.nodes[i].uplink.address;
    facts["nodes." + s.nodes[i].name + ".public_address"] = PublicAddress(s, plan, i);
  }
  if (const auto peer = scenario::PeerOf(s, node)) {
    facts["peer.name"] = s.nodes[*peer].name;
    facts["peer.address"] = plan.nodes[*peer].uplink.address;
    facts["peer.public_address"] = PublicAddress(s, plan, *peer);
  }
  for (size_t i = 0; i < s.derp_regions.size(); ++i) {
    facts["derp." + s.derp_regions[i].name + ".address"] = plan.derp[i].uplink.address;
    facts["derp." + s.derp_regions[i].name + ".cert_pin"] = derp_cert_pins.at(i);
  }
  return facts;
}

std::vector<std::string> ProgramArgv(const scenario::Program& program,
                                     const std::map<std::string, std::string>& facts,
                                     const std::string& dir) {
  std::vector<std::string> argv = {"prlimit", "--fsize=" + std::to_string(program.max_output_bytes),
                                   "env", "-C", dir, "--"};
  for (const auto& [name, value] : program.env) {
    argv.push_back(name + "=" + scenario::FillFacts(value, facts));
  }
  for (const std::string& arg : program.command) argv.push_back(scenario::FillFacts(arg, facts));
  return argv;
}

std::optional<std::string> CannotExecute(const std::string& argv0, const std::string& dir,
                                         const std::string& path_env) {
  if (argv0.empty()) return "the command is empty";
  std::vector<std::string> candidates;
  if (argv0.find('/') != std::string::npos) {
    candidates.push_back(argv0.front() == '/' ? argv0 : dir + "/" + argv0);
  } else {
    size_t start = 0;
    while (start <= path_env.size()) {
      const size_t colon = std::min(path_env.find(':', start), path_env.size());
      const std::string d = colon > start ? path_env.substr(start, colon - start) : ".";
      candidates.push_back((d.front() == '/' ? d : dir + "/" + d) + "/" + argv0);
      start = colon + 1;
    }
  }
  for (const std::string& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return std::nullopt;
  }
  for (const std::string& c : candidates) {
    if (access(c.c_str(), F_OK) == 0) return "'" + argv0 + "' is not executable (" + c + ")";
  }
  return argv0.find('/') != std::string::npos ? "'" + argv0 + "' does not exist"
                                              : "'" + argv0 + "' is not found in PATH";
}

std::vector<std::optional<std::string>> MatchOutput(const std::vector<std::string>& patterns,
                                                    const std::string& out,
                                                    const std::string& err) {
  std::vector<std::optional<std::string>> matches(patterns.size());
  for (size_t i = 0; i < patterns.size(); ++i) {
    const std::regex re(patterns[i], std::regex::ECMAScript);
    for (const std::string* text : {&out, &err}) {
      std::istringstream in(*text);
      std::string line;
      while (!matches[i] && std::getline(in, line)) {
        if (std::regex_search(line, re)) matches[i] = line;
      }
    }
  }
  return matches;
}

std::vector<results::ProgramReport::ReportedPath> ReportedPaths(const std::string& out,
                                                                int64_t epoch_unix_ns,
                                                                size_t& malformed) {
  std::vector<results::ProgramReport::ReportedPath> paths;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() != '{') continue;
    // A line with a raw NUL is not JSON, so the program's own (nlohmann
    // would read up to the NUL and take it as a report).
    const nlohmann::json j = ParseJson(line);
    if (j.is_discarded() || !j.is_object() || j.value("punchlab", "") != "path") continue;
    const auto peer = j.find("peer");
    const auto path = j.find("path");
    const auto unix_ms = j.find("unix_ms");
    std::optional<scenario::PathKind> kind;
    if (path != j.end() && path->is_string()) {
      for (auto k : {scenario::PathKind::kDirect, scenario::PathKind::kDerp,
                     scenario::PathKind::kLocal, scenario::PathKind::kNone}) {
        if (path->get<std::string>() == scenario::ToString(k)) kind = k;
      }
    }
    if (peer == j.end() || !peer->is_string() || !kind || unix_ms == j.end() ||
        !unix_ms->is_number()) {
      ++malformed;
      continue;
    }
    const int64_t ns = static_cast<int64_t>(unix_ms->get<double>() * 1e6) - epoch_unix_ns;
    paths.push_back({Duration::Nanos(std::max<int64_t>(0, ns)), peer->get<std::string>(), *kind});
  }
  return paths;
}

}  // namespace punchlab::runreal
