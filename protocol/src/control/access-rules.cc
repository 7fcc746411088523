#include "punchlab/control/access-rules.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "punchlab/control/identity.h"
#include "punchlab/json.h"

namespace punchlab::control {

std::string CheckAccessRules(const AccessRules& rules) {
  for (const auto& [domain, list] : rules) {
    if (!IsValidDomain(domain)) return "access rules for '" + domain + "', which is not a domain";
    for (size_t i = 0; i < list.size(); ++i) {
      for (const auto* side : {&list[i].src, &list[i].dst}) {
        for (const std::string& entry : *side) {
          if (entry != kAnyUser && !IsValidUser(entry)) {
            return "rule " + std::to_string(i) + " of domain " + domain + ": '" + entry +
                   "' is neither * nor a user (1-64 of A-Z a-z 0-9 . _ @ + -)";
          }
        }
      }
    }
  }
  return "";
}

std::string EncodeAccessRules(const AccessRules& rules) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [domain, list] : rules) {
    nlohmann::json& out = j[domain] = nlohmann::json::array();
    for (const AccessRule& r : list) out.push_back({{"src", r.src}, {"dst", r.dst}});
  }
  return j.dump();
}

std::optional<AccessRules> ParseAccessRules(const std::string& text, std::string& error) {
  // nlohmann would stop at a NUL and take what came before (punchlab/json.h).
  if (std::optional<std::string> nul = RawNulError(text)) {
    error = *nul;
    return std::nullopt;
  }
  // nlohmann keeps the last of repeated keys: a domain listed twice would
  // silently lose its first rules. The callback sees every key of every
  // object (one set per object being read) and remembers the first repeat.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::pair<int, std::string>> repeated;  // depth, key
  const nlohmann::json::parser_callback_t note_keys =
      [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using E = nlohmann::json::parse_event_t;
        if (event == E::object_start) {
          open_objects.emplace_back();
        } else if (event == E::object_end) {
          if (!open_objects.empty()) open_objects.pop_back();
        } else if (event == E::key && !open_objects.empty() && parsed.is_string()) {
          const std::string& key = parsed.get_ref<const std::string&>();
          if (!open_objects.back().insert(key).second && !repeated) repeated = {{depth, key}};
        }
        return true;
      };
  const nlohmann::json j = nlohmann::json::parse(text, note_keys, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = "not JSON";
    return std::nullopt;
  }
  if (repeated) {
    // Depth 1: the top object's keys (domains); deeper: a rule's.
    error = repeated->first <= 1
                ? "domain '" + repeated->second + "' is listed twice; give each domain one list"
                : "a rule names '" + repeated->second + "' twice; give it once";
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = "not a JSON object from domain to its rules";
    return std::nullopt;
  }
  AccessRules rules;
  for (const auto& [domain, list] : j.items()) {
    if (!list.is_array()) {
      error = "the rules of domain '" + domain + "' are not a list";
      return std::nullopt;
    }
    std::vector<AccessRule>& out = rules[domain];
    for (const nlohmann::json& rule : list) {
      const bool shaped = rule.is_object() && rule.size() == 2 && rule.contains("src") &&
                          rule.contains("dst") && rule["src"].is_array() &&
                          rule["dst"].is_array();
      if (!shaped) {
        error = "rule " + std::to_string(out.size()) + " of domain '" + domain +
                "' is not {\"src\": [...], \"dst\": [...]}";
        return std::nullopt;
      }
      AccessRule r;
      for (const auto* side : {&rule["src"], &rule["dst"]}) {
        for (const nlohmann::json& e : *side) {
          if (!e.is_string()) {
            error = "rule " + std::to_string(out.size()) + " of domain '" + domain +
                    "' lists something other than a string";
            return std::nullopt;
          }
          (side == &rule["src"] ? r.src : r.dst).push_back(e.get<std::string>());
        }
      }
      out.push_back(std::move(r));
    }
  }
  error = CheckAccessRules(rules);
  if (!error.empty()) return std::nullopt;
  return rules;
}

DomainAccess::DomainAccess(std::vector<AccessRule> rules) {
  auto side_of = [](std::vector<std::string> entries) {
    Side s;
    for (std::string& e : entries) {
      if (e == kAnyUser) {
        s.any = true;
      } else {
        s.users.push_back(std::move(e));
      }
    }
    std::sort(s.users.begin(), s.users.end());
    s.users.erase(std::unique(s.users.begin(), s.users.end()), s.users.end());
    if (s.any) s.users.clear();  // "*" covers them
    return s;
  };
  for (AccessRule& rule : rules) {
    const size_t i = rules_.size();
    rules_.push_back({side_of(std::move(rule.src)), side_of(std::move(rule.dst))});
    const Indexed& r = rules_.back();
    if (r.src.any) any_src_.push_back(i);
    for (const std::string& u : r.src.users) by_src_[u].push_back(i);
    if (r.dst.any) any_dst_.push_back(i);
    for (const std::string& u : r.dst.users) by_dst_[u].push_back(i);
  }
}

DomainAccess::Sight DomainAccess::Visible(const std::string& user) const {
  Sight sight;
  // As a source: the rule's destinations; as a destination: its sources.
  auto add = [&](const std::vector<size_t>& ids, bool as_src) {
    for (size_t i : ids) {
      const Side& other = as_src ? rules_[i].dst : rules_[i].src;
      if (other.any) {
        sight.all = true;
        return;
      }
      sight.users.insert(sight.users.end(), other.users.begin(), other.users.end());
    }
  };
  add(any_src_, true);
  if (auto it = by_src_.find(user); it != by_src_.end() && !sight.all) add(it->second, true);
  if (!sight.all) add(any_dst_, false);
  if (auto it = by_dst_.find(user); it != by_dst_.end() && !sight.all) add(it->second, false);
  if (sight.all) {
    sight.users.clear();
    return sight;
  }
  std::sort(sight.users.begin(), sight.users.end());
  sight.users.erase(std::unique(sight.users.begin(), sight.users.end()), sight.users.end());
  return sight;
}

}  // namespace punchlab::control
