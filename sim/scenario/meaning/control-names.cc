#include "scenario/meaning/control-names.h"

#include <cctype>
#include <map>

namespace punchlab {
namespace scenario {

std::string ControlDomain(std::string_view scenario_domain) {
  std::string out;
  out.reserve(scenario_domain.size());
  for (char c : scenario_domain) {
    out.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string ControlUser(const NodeDef& node) { return node.name; }

control::AccessRules ControlAccessRules(const Scenario& s) {
  control::AccessRules rules;
  std::map<std::string, std::string> users;
  for (const NodeDef& n : s.nodes) users.emplace(n.name, ControlUser(n));
  // The loader lets through node names and kAnyUser only.
  auto user_of = [&](const std::string& name) -> std::string {
    if (name == control::kAnyUser) return control::kAnyUser;
    auto it = users.find(name);
    return it == users.end() ? name : it->second;
  };
  for (const AccessRuleDef& def : s.control.acls) {
    control::AccessRule rule;
    for (const std::string& n : def.src) rule.src.push_back(user_of(n));
    for (const std::string& n : def.dst) rule.dst.push_back(user_of(n));
    rules[ControlDomain(def.domain)].push_back(std::move(rule));
  }
  return rules;
}

}  // namespace scenario
}  // namespace punchlab
