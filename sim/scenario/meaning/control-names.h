// What the control plane calls a scenario's domains and nodes. The one
// definition both runners use: the ns-3 runner's identity provider and tokens
// (run-sim/scenario-world) and the real lab's control-server --domains and
// node tokens (run-real/commands, lab-processes). The loader refuses two
// domains that map to the same control domain (read-topology.cc).
#pragma once

#include <string>
#include <string_view>

#include "punchlab/control/access-rules.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

// The control domain of a scenario domain: the name in lower case with '_'
// as '-' ("Home_Net" -> "home-net"). Control domains are lower-case DNS
// names (control::IsValidDomain); scenario names may also hold capitals and
// '_', and every scenario name maps to a valid domain.
std::string ControlDomain(std::string_view scenario_domain);

// The user a node's token names: its scenario name (every scenario name is
// a valid control user, control::IsValidUser).
std::string ControlUser(const NodeDef& node);

// control.acls as the control server takes them: by control domain, nodes
// by their ControlUser. A domain without rules is absent (everyone sees
// everyone), so a scenario without acls gives an empty map.
control::AccessRules ControlAccessRules(const Scenario& s);

}  // namespace scenario
}  // namespace punchlab
