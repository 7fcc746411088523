#include "node/probe-traffic.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "results/probe.h"

namespace punchlab::cli {
namespace {

using json = nlohmann::json;

// Milliseconds with microsecond precision: enough for RTTs, short lines.
double Rounded(double ms) { return std::round(ms * 1000) / 1000; }

bool Sent(node::SendResult r) {
  return r == node::SendResult::kDirect || r == node::SendResult::kDerp ||
         r == node::SendResult::kQueued;
}

}  // namespace

ProbeTraffic::ProbeTraffic(realio::EventLoop& loop, node::Node& node, std::vector<FlowSpec> flows,
                           Timestamp epoch, Print print, std::function<void()> after_send)
    : loop_(loop),
      node_(node),
      epoch_(epoch),
      print_(std::move(print)),
      after_send_(std::move(after_send)) {
  flows_.reserve(flows.size());
  for (FlowSpec& spec : flows) flows_.push_back(Flow{std::move(spec), 0, std::nullopt});
  // Timers capture the flow's index: flows_ never changes size from here on.
  for (size_t i = 0; i < flows_.size(); ++i) {
    flows_[i].timer = loop_.CreateTimer([this, i](Timestamp now) {
      Flow& flow = flows_[i];
      if (!flow.next) return;
      const scenario::ProbeSlot slot = *flow.next;
      SendProbe(flow, slot.seq, now);
      // A late timer still sends every slot once, in order.
      flow.next = flow.spec.schedule.After(slot);
      Arm(flow);
    });
  }
  // The deadline's instant, not the timer's (late by a few ms under load):
  // the schedule is the simulation's.
  deadline_timer_ = loop_.CreateTimer([this](Timestamp) { Anchor(up_deadline_, "deadline"); });
}

ProbeTraffic::~ProbeTraffic() {
  for (const Flow& flow : flows_) loop_.DestroyTimer(flow.timer);
  loop_.DestroyTimer(deadline_timer_);
}

void ProbeTraffic::Start(Duration from, Duration up_deadline, std::optional<Duration> up_at) {
  from_ = from;
  up_deadline_ = up_deadline;
  // An earlier run's anchor wins over this run's own up (drained before
  // Start): the flows keep the schedule they started with, as the
  // simulation's traffic driver keeps a node's first.
  if (up_at) anchor_ = Anchored{*up_at, "earlier run"};
  if (anchor_) {
    StartFlows();
    return;
  }
  loop_.ArmTimer(deadline_timer_, epoch_ + up_deadline);
}

void ProbeTraffic::Up(Duration at) { Anchor(at, "up"); }

void ProbeTraffic::Anchor(Duration at, const char* by) {
  if (anchor_) return;
  anchor_ = Anchored{at, by};
  if (!from_) return;  // Start starts the flows
  loop_.ArmTimer(deadline_timer_, std::nullopt);
  StartFlows();
}

void ProbeTraffic::StartFlows() {
  const Duration at = anchor_->at;
  // The anchor in whole nanoseconds: the real runner passes it to a restart
  // of this node as --up-at (FlowsAnchorOf), exactly.
  if (!flows_.empty()) {
    print_(json{{"event", "flows_anchor"},
                {"at_ms", Rounded(at.millis())},
                {"at_ns", at.nanos()},
                {"by", anchor_->by}});
  }
  for (Flow& flow : flows_) {
    flow.spec.schedule = flow.spec.schedule.AfterUp(at);
    ArmAtOrAfter(flow, std::max(*from_, at));
  }
}

void ProbeTraffic::ArmAtOrAfter(Flow& flow, Duration t) {
  flow.next = flow.spec.schedule.SlotAtOrAfter(t);
  Arm(flow);
}

void ProbeTraffic::Arm(Flow& flow) {
  loop_.ArmTimer(flow.timer, flow.next ? std::optional<Timestamp>(epoch_ + flow.next->at)
                                       : std::nullopt);
}

void ProbeTraffic::SendProbe(Flow& flow, uint64_t seq, Timestamp now) {
  const Bytes probe =
      results::EncodeProbe({results::ProbeKind::kProbe, flow.spec.id, seq}, flow.spec.size);
  const node::SendResult result = node_.Send(now, flow.spec.to, probe);
  const bool sent = Sent(result);
  ++(sent ? counts_.probes_sent : counts_.probes_send_failed);
  const std::optional<node::Path> path = sent ? node_.PathTo(flow.spec.to) : std::nullopt;
  print_(json{{"event", "probe_sent"},
              {"at_ms", Rounded(AtMs(now))},
              {"flow", flow.spec.id},
              {"seq", seq},
              {"path", path ? path->ToString() : "none"},
              {"result", node::SendResultName(result)}});
  after_send_();
}

void ProbeTraffic::OnData(Timestamp now, const NodePublicKey& peer, ByteView data,
                          const node::Path& path) {
  const std::optional<results::ProbeHeader> header = results::DecodeProbe(data);
  if (!header) {
    ++counts_.data_not_probe;
    return;
  }
  if (header->kind == results::ProbeKind::kEcho) {
    ++counts_.echoes_received;
    print_(json{{"event", "echo_received"},
                {"at_ms", Rounded(AtMs(now))},
                {"flow", header->flow},
                {"seq", header->seq},
                {"path", path.ToString()}});
    return;
  }
  ++counts_.probes_received;
  const std::optional<Bytes> echo = results::EchoOf(data);
  if (!echo) return;  // DecodeProbe said probe, so EchoOf cannot refuse it
  ++(Sent(node_.Send(now, peer, *echo)) ? counts_.echoes_sent : counts_.echoes_send_failed);
  after_send_();
}

}  // namespace punchlab::cli
