#include "run-sim/fault-driver.h"

#include "ns3/simulator.h"
#include "results/format.h"

namespace punchlab {
namespace runsim {
namespace {

using scenario::Action;
using scenario::TargetKind;

ns3::Time ToTime(Duration d) { return ns3::NanoSeconds(d.nanos()); }

bool HasLinkSettings(const scenario::Settings& s) {
  return s.latency || s.jitter || s.loss || s.bandwidth_bps;
}

scenario::Link Merge(scenario::Link link, const scenario::Settings& s) {
  if (s.latency) link.latency = *s.latency;
  if (s.jitter) link.jitter = *s.jitter;
  if (s.loss) link.loss = *s.loss;
  if (s.bandwidth_bps) link.bandwidth_bps = *s.bandwidth_bps;
  return link;
}

}  // namespace

FaultDriver::FaultDriver(ScenarioWorld& world, PathRecorder& paths, results::Results& results)
    : world_(world), paths_(paths), results_(results) {
  for (const scenario::Event& e : world_.scenario().events) {
    ns3::Simulator::Schedule(ToTime(e.at), &FaultDriver::Apply, this, e);
  }
}

template <typename F>
void FaultDriver::UndoLater(const scenario::Event& event, F undo) {
  if (!event.duration) return;
  ns3::Simulator::Schedule(ToTime(*event.duration), undo);
}

void FaultDriver::Note(const scenario::Event& event, const std::string& what) {
  results_.notes.push_back(world_.scenario().file + ":" + std::to_string(event.where.line) + ":" +
                           std::to_string(event.where.column) + ": at " +
                           results::FormatSeconds(event.at) + ": " + what);
}

void FaultDriver::Apply(const scenario::Event& event) {
  switch (event.target_kind) {
    case TargetKind::kNode:
      ApplyToNode(event, *world_.FindNode(event.target));
      return;
    case TargetKind::kNat:
      ApplyToNat(event, *world_.FindBox(event.target));
      return;
    case TargetKind::kFirewall:
      ApplyToFirewall(event, *world_.FindBox(event.target));
      return;
    case TargetKind::kDerpRegion:
      ApplyToRegion(event, *world_.FindRegion(event.target));
      return;
  }
}

bool FaultDriver::ApplyToLink(const scenario::Event& event, size_t link) {
  if (event.action == Action::kLinkDown || event.action == Action::kLinkUp) {
    const bool up = event.action == Action::kLinkUp;
    world_.SetLinkUp(link, up);
    UndoLater(event, [this, link, up] { world_.SetLinkUp(link, !up); });
    return true;
  }
  if (event.action == Action::kSet && HasLinkSettings(event.settings)) {
    const scenario::Link before = world_.links[link].own;
    world_.ApplyLinkSettings(link, Merge(before, event.settings));
    UndoLater(event, [this, link, before] { world_.ApplyLinkSettings(link, before); });
    return true;
  }
  return false;
}

void FaultDriver::ApplyToNode(const scenario::Event& event, WorldNode& node) {
  if (ApplyToLink(event, node.link)) return;
  if (event.action == Action::kRestart) {
    if (node.app->GetMachine() == nullptr || node.app->GetMachine()->stopped()) {
      Note(event, "node " + node.name + " is not running yet: nothing to restart");
      return;
    }
    paths_.NodeRestarting(static_cast<size_t>(&node - world_.nodes.data()));
    node.app->Restart();
  }
}

void FaultDriver::ApplyToNat(const scenario::Event& event, WorldBox& box) {
  if (ApplyToLink(event, box.uplink)) return;
  switch (event.action) {
    case Action::kReboot:
      box.box->Reboot();
      return;
    case Action::kChangeAddress:
      box.box->RebootWithAddresses(world_.NextExternalAddresses(box));
      return;
    case Action::kSet:
      if (event.settings.mapping) {
        const nat::Dependence before = box.box->GetNat().config().mapping;
        box.box->SetMappingBehaviour(*event.settings.mapping);
        ns3::Ptr<ns3::NatMiddlebox> middlebox = box.box;
        UndoLater(event, [middlebox, before] { middlebox->SetMappingBehaviour(before); });
      }
      return;
    default:
      return;
  }
}

void FaultDriver::ApplyToFirewall(const scenario::Event& event, WorldBox& box) {
  if (ApplyToLink(event, box.uplink)) return;
  if (event.action == Action::kSet && event.settings.block_udp) {
    const bool before = box.box->GetFirewall().config().block_udp;
    box.box->BlockUdp(*event.settings.block_udp);
    ns3::Ptr<ns3::NatMiddlebox> middlebox = box.box;
    UndoLater(event, [middlebox, before] { middlebox->BlockUdp(before); });
  }
}

void FaultDriver::ApplyToRegion(const scenario::Event& event, WorldRegion& region) {
  ns3::Ptr<ns3::DerpServerApplication> server = region.server;
  switch (event.action) {
    case Action::kDown:
      server->Crash();
      UndoLater(event, [server] { server->Recover(); });
      return;
    case Action::kUp:
      server->Recover();
      return;
    case Action::kSet:
      if (event.settings.latency) {
        ApplyToLink(event, region.link);
      }
      return;
    default:
      return;
  }
}

}  // namespace runsim
}  // namespace punchlab
