// Who may reach whom inside a domain, and so which peers a node is told
// about ("peer visibility"), as Tailscale's policy file and headscale's
// ReduceNodes decide it: node B is listed in node A's netmap iff some rule
// lets A reach B or lets B reach A. Rules only accept (Tailscale's ACLs have
// no deny); ports and protocols are not modeled: a rule's destinations are
// whole nodes.
//
// Nodes are named by their user (the token's user claim, identity.h): the one
// identity the control server knows a node by in both worlds (punchlab's
// scenarios give every node its own user, its scenario name). "*" is every
// node of the domain.
//
// A domain with no policy (not in ControlServerConfig::access_rules) lets
// everyone reach everyone (Tailscale's default allow-all policy); a domain
// with a policy of no rules hides every node from every other.
//
// The index answers "whom does this user see" in O(rules naming the user +
// rules with "*" + the users they name), never O(domain size x rules).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace punchlab::control {

inline constexpr const char* kAnyUser = "*";

// src may reach dst. Each entry is a user or kAnyUser.
struct AccessRule {
  std::vector<std::string> src;
  std::vector<std::string> dst;

  bool operator==(const AccessRule& o) const { return src == o.src && dst == o.dst; }
};

// By domain; a domain not listed has no policy (allow-all).
using AccessRules = std::map<std::string, std::vector<AccessRule>>;

// "" when every domain is valid (IsValidDomain) and every entry kAnyUser or
// a valid user (IsValidUser), else why not.
std::string CheckAccessRules(const AccessRules& rules);

// The text the real control server reads (punchlab-node control-server
// --acls FILE), one JSON object from domain to its rules:
//   {"corp": [{"src": ["laptop"], "dst": ["nas", "*"]}]}
std::string EncodeAccessRules(const AccessRules& rules);
// Strict: exactly that shape (every rule exactly src and dst, lists of
// strings), then CheckAccessRules; nullopt with `error` saying what is wrong.
std::optional<AccessRules> ParseAccessRules(const std::string& text, std::string& error);

// One domain's rules, indexed by user.
class DomainAccess {
 public:
  explicit DomainAccess(std::vector<AccessRule> rules);

  // Whom `user` sees: everyone (`all`), else exactly `users` (which may
  // include `user` itself; the caller leaves the node itself out).
  struct Sight {
    bool all = false;
    std::vector<std::string> users;  // sorted, unique; empty when `all`
  };
  Sight Visible(const std::string& user) const;

 private:
  struct Side {
    bool any = false;
    std::vector<std::string> users;
  };
  struct Indexed {
    Side src, dst;
  };
  std::vector<Indexed> rules_;
  // Rules naming the user in src / in dst, and the rules with "*" there.
  std::map<std::string, std::vector<size_t>> by_src_, by_dst_;
  std::vector<size_t> any_src_, any_dst_;
};

}  // namespace punchlab::control
