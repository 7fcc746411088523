#include "run-sim/traffic-driver.h"

#include "ns3/callback.h"
#include "ns3/simulator.h"
#include "results/probe.h"

namespace punchlab {
namespace runsim {
namespace {

Duration Now() { return Duration::Nanos(ns3::Simulator::Now().GetNanoSeconds()); }
ns3::Time ToTime(Duration d) { return ns3::NanoSeconds(d.nanos()); }

}  // namespace

TrafficDriver::TrafficDriver(ScenarioWorld& world, results::Results& results)
    : world_(world), results_(results) {
  std::vector<scenario::ProbeSchedule> schedules =
      scenario::ProbeSchedule::OfAll(world_.scenario(), world_.seed());
  for (size_t i = 0; i < world_.scenario().traffic.size(); ++i) {
    const scenario::Flow& def = world_.scenario().traffic[i];
    Flow f;
    f.def = &def;
    f.schedule = std::move(schedules[i]);
    f.from = static_cast<size_t>(world_.FindNode(def.from) - world_.nodes.data());
    f.to = static_cast<size_t>(world_.FindNode(def.to) - world_.nodes.data());
    flows_.push_back(f);
  }
  flows_from_.resize(world_.nodes.size());
  up_.assign(world_.nodes.size(), false);
  for (size_t f = 0; f < flows_.size(); ++f) flows_from_[flows_[f].from].push_back(f);
  for (size_t i = 0; i < world_.nodes.size(); ++i) {
    if (flows_from_[i].empty()) continue;  // nothing waits for it
    world_.nodes[i].app->TraceConnectWithoutContext(
        "Up", ns3::Callback<void, node::RegionId>([this, i](node::RegionId) { NodeUp(i); }));
    const Duration deadline = world_.nodes[i].def->start + scenario::ProbeSchedule::kUpDeadline;
    ns3::Simulator::Schedule(ToTime(deadline), &TrafficDriver::NodeUp, this, i);
  }
  for (size_t i = 0; i < world_.nodes.size(); ++i) {
    world_.nodes[i].app->TraceConnectWithoutContext(
        "DataReceived",
        ns3::Callback<void, const NodePublicKey&, ns3::Ptr<const ns3::Packet>, const node::Path&>(
            [this, i](const NodePublicKey& peer, ns3::Ptr<const ns3::Packet> packet,
                      const node::Path& path) { OnData(i, peer, packet, path); }));
  }
}

void TrafficDriver::NodeUp(size_t node) {
  // The first up of any of the node's runs, or the deadline: a restarted
  // node's flows keep their schedule.
  if (up_[node]) return;
  up_[node] = true;
  for (size_t f : flows_from_[node]) {
    flows_[f].schedule = flows_[f].schedule.AfterUp(Now());
    ScheduleSlot(f, flows_[f].schedule.SlotAtOrAfter(Now()));
  }
}

void TrafficDriver::ScheduleSlot(size_t f, const std::optional<scenario::ProbeSlot>& slot) {
  if (!slot) return;
  ns3::Simulator::Schedule(ToTime(slot->at - Now()), &TrafficDriver::SendProbe, this, f, *slot);
}

void TrafficDriver::SendProbe(size_t f, scenario::ProbeSlot slot) {
  Flow& flow = flows_[f];
  WorldNode& from = world_.nodes[flow.from];
  const WorldNode& to = world_.nodes[flow.to];

  results::Probe probe;
  probe.sent_at = Now();
  probe.src = from.name;
  probe.dst = to.name;
  // Every slot is sent, in order: seq is also the probe's index in flow.probes.
  probe.seq = slot.seq;
  const Bytes payload = results::EncodeProbe(
      {results::ProbeKind::kProbe, static_cast<uint32_t>(f), probe.seq}, flow.def->size_bytes);
  const node::SendResult sent = from.app->Send(to.key, payload);
  probe.path =
      world_.paths().ClassifyProbe(flow.from, flow.to, sent, from.app->GetPathTo(to.key));
  ++probes_sent_;
  flow.probes.push_back(results_.probes.size());
  results_.probes.push_back(std::move(probe));

  ScheduleSlot(f, flow.schedule.After(slot));
}

void TrafficDriver::OnData(size_t node, const NodePublicKey& peer,
                           ns3::Ptr<const ns3::Packet> packet, const node::Path& path) {
  Bytes bytes(packet->GetSize());
  packet->CopyData(bytes.data(), static_cast<uint32_t>(bytes.size()));
  const std::optional<results::ProbeHeader> header = results::DecodeProbe(bytes);
  if (!header) {
    ++not_probes_;
    return;
  }
  if (header->flow >= flows_.size()) {
    ++misdirected_;
    return;
  }
  Flow& flow = flows_[header->flow];
  if (header->kind == results::ProbeKind::kProbe) {
    if (flow.to != node || world_.nodes[flow.from].key != peer) {
      ++misdirected_;
      return;
    }
    world_.nodes[node].app->Send(peer, *results::EchoOf(bytes));
    ++echoes_sent_;
    return;
  }
  if (flow.from != node || world_.nodes[flow.to].key != peer || header->seq >= flow.probes.size()) {
    ++misdirected_;
    return;
  }
  results::Probe& probe = results_.probes[flow.probes[header->seq]];
  if (probe.echoed_at) {
    ++duplicate_echoes_;
    return;
  }
  probe.echoed_at = Now();
  probe.echo_path = world_.paths().Classify(node, flow.to, path);
  ++echoes_received_;
}

std::map<std::string, uint64_t> TrafficDriver::Counters() const {
  return {{"probes_sent", probes_sent_},         {"echoes_sent", echoes_sent_},
          {"echoes_received", echoes_received_}, {"duplicate_echoes", duplicate_echoes_},
          {"not_probes", not_probes_},           {"misdirected", misdirected_}};
}

}  // namespace runsim
}  // namespace punchlab
