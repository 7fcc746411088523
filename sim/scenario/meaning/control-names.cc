#include "scenario/meaning/control-names.h"

#include <cctype>

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

}  // namespace scenario
}  // namespace punchlab
