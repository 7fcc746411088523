#include "scenario/scenario.h"

#include <algorithm>

namespace punchlab {
namespace scenario {

namespace {

template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const char* ToString(TargetKind t) {
  switch (t) {
    case TargetKind::kNode: return "node";
    case TargetKind::kNat: return "nat";
    case TargetKind::kFirewall: return "firewall";
    case TargetKind::kDerpRegion: return "derp_region";
  }
  return "?";
}

const char* ToString(Action a) {
  switch (a) {
    case Action::kSet: return "set";
    case Action::kRestart: return "restart";
    case Action::kReboot: return "reboot";
    case Action::kChangeAddress: return "change-address";
    case Action::kLinkDown: return "link-down";
    case Action::kLinkUp: return "link-up";
    case Action::kDown: return "down";
    case Action::kUp: return "up";
  }
  return "?";
}

const char* ToString(PathKind p) {
  switch (p) {
    case PathKind::kDirect: return "direct";
    case PathKind::kDerp: return "derp";
    case PathKind::kLocal: return "local";
    case PathKind::kNone: return "none";
    case PathKind::kAsymmetric: return "asymmetric";
  }
  return "?";
}

const NodeDef* Scenario::FindNode(std::string_view n) const { return FindByName(nodes, n); }
const NatDef* Scenario::FindNat(std::string_view n) const { return FindByName(nats, n); }
const FirewallDef* Scenario::FindFirewall(std::string_view n) const {
  return FindByName(firewalls, n);
}
const DerpRegion* Scenario::FindDerpRegion(std::string_view n) const {
  return FindByName(derp_regions, n);
}

}  // namespace scenario
}  // namespace punchlab
