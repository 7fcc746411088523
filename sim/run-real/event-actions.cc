#include "run-real/event-actions.h"

#include "lab/lab-error.h"

namespace punchlab::runreal {
namespace {

using scenario::Action;
using scenario::TargetKind;

size_t IndexOf(const std::vector<scenario::NodeDef>& nodes, const std::string& name) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return i;
  }
  throw lab::LabError("no node '" + name + "'");
}

size_t IndexOf(const std::vector<scenario::DerpRegion>& regions, const std::string& name) {
  for (size_t i = 0; i < regions.size(); ++i) {
    if (regions[i].name == name) return i;
  }
  throw lab::LabError("no DERP region '" + name + "'");
}

bool HasLinkSettings(const scenario::Settings& s) {
  return s.latency || s.jitter || s.loss || s.bandwidth_bps;
}

}  // namespace

void EventActions::ApplySettings(const scenario::Event& e, Saved& saved) {
  const scenario::Settings& s = e.settings;
  if (HasLinkSettings(s)) {
    const scenario::Settings now = world_.LinkSettings(e.target_kind, e.target);
    // Remember only what this event changes, so its undo leaves the rest.
    if (s.latency) saved.link.latency = now.latency;
    if (s.jitter) saved.link.jitter = now.jitter;
    if (s.loss) saved.link.loss = now.loss;
    if (s.bandwidth_bps) saved.link.bandwidth_bps = now.bandwidth_bps;
    world_.SetLink(e.target_kind, e.target, s, e.where);
  }
  if (s.mapping) {
    const scenario::NatDef* def = scenario_.FindNat(e.target);
    auto current = nat_mapping_.emplace(e.target, def->config.mapping).first;
    saved.mapping = current->second;
    current->second = *s.mapping;
    world_.SetNatMapping(e.target, *s.mapping, e.where);
  }
  if (s.block_udp) {
    const scenario::FirewallDef* def = scenario_.FindFirewall(e.target);
    auto current = block_udp_.emplace(e.target, def->config.block_udp).first;
    saved.block_udp = current->second;
    current->second = *s.block_udp;
    world_.SetBlockUdp(e.target, *s.block_udp);
  }
}

void EventActions::Apply(size_t index, Duration at) {
  const scenario::Event& e = scenario_.events[index];
  switch (e.action) {
    case Action::kSet:
      ApplySettings(e, saved_[index]);
      return;
    case Action::kRestart:
      processes_.RestartNode(IndexOf(scenario_.nodes, e.target), at);
      return;
    case Action::kReboot:
      world_.RebootNat(e.target);
      return;
    case Action::kChangeAddress:
      world_.ChangeNatAddress(e.target, e.where);
      return;
    case Action::kLinkDown:
    case Action::kLinkUp:
      world_.SetLinkDown(e.target_kind, e.target, e.action == Action::kLinkDown);
      return;
    case Action::kDown:
      processes_.StopDerp(IndexOf(scenario_.derp_regions, e.target));
      return;
    case Action::kUp:
      processes_.StartDerp(IndexOf(scenario_.derp_regions, e.target));
      return;
  }
}

void EventActions::Undo(size_t index) {
  const scenario::Event& e = scenario_.events[index];
  switch (e.action) {
    case Action::kSet: {
      const Saved saved = saved_[index];
      if (HasLinkSettings(saved.link)) world_.SetLink(e.target_kind, e.target, saved.link, e.where);
      if (saved.mapping) {
        nat_mapping_[e.target] = *saved.mapping;
        world_.SetNatMapping(e.target, *saved.mapping, e.where);
      }
      if (saved.block_udp) {
        block_udp_[e.target] = *saved.block_udp;
        world_.SetBlockUdp(e.target, *saved.block_udp);
      }
      return;
    }
    case Action::kLinkDown:
      world_.SetLinkDown(e.target_kind, e.target, false);
      return;
    case Action::kDown:
      processes_.StartDerp(IndexOf(scenario_.derp_regions, e.target));
      return;
    default:
      return;  // the loader allows `for` only on the actions above
  }
}

}  // namespace punchlab::runreal
