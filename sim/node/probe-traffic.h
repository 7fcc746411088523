// The scenario traffic of `punchlab-node node`: probe flows (--flow, see
// flow-spec.h) sent in the slots of their scenario::ProbeSchedule (the ns-3
// runner's schedule, scenario/meaning/probe-schedule.h), and the receiving side of every flow: a
// probe that arrives is echoed straight back to its sender (on whatever path
// this node uses to it), an echo that arrives completes a round trip. The
// payloads are results/probe.h's, the same bytes ns-3 sends.
//
// Reported as JSON lines through `print` (times in ms since the run's epoch):
//   {"event":"probe_sent","at_ms":5000.2,"flow":0,"seq":0,"path":"derp 1","result":"derp"}
//   {"event":"echo_received","at_ms":5071.4,"flow":0,"seq":0,"path":"derp 1"}
//   {"event":"flows_anchor","at_ms":543.25,"at_ns":543250117,"by":"up"}
// flows_anchor, once when the flows start: the instant they count from (each
// flow starts at it plus its turn, or at its own start if later), `by` "up"
// (this run's node::Up), "deadline" (not up by --up-deadline) or "earlier
// run" (--up-at); in nanoseconds too, so the real runner hands it to a
// restart exactly.
// `path` is the path this node used (probe_sent) or the echo arrived on;
// `result` is node::SendResultName of the send (a probe the node could not
// send has path "none"). Data that is not a probe or an echo is counted,
// never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/flow-spec.h"
#include "punchlab/bytes.h"
#include "punchlab/node/node.h"
#include "realio/event-loop.h"

namespace punchlab::cli {

struct ProbeCounts {
  uint64_t probes_sent = 0;        // handed to the node (direct, derp or queued)
  uint64_t probes_send_failed = 0; // the node refused (unknown peer, no route, ...)
  uint64_t probes_received = 0;
  uint64_t echoes_sent = 0;
  uint64_t echoes_send_failed = 0;
  uint64_t echoes_received = 0;
  uint64_t data_not_probe = 0;     // received data that is neither probe nor echo
};

class ProbeTraffic {
 public:
  using Print = std::function<void(const nlohmann::json& line)>;

  // `epoch`: the run's start instant on this process's monotonic clock; flow
  // times count from it. `after_send` runs after every send (the host drains
  // the node's transmits).
  ProbeTraffic(realio::EventLoop& loop, node::Node& node, std::vector<FlowSpec> flows,
               Timestamp epoch, Print print, std::function<void()> after_send);
  ~ProbeTraffic();
  ProbeTraffic(const ProbeTraffic&) = delete;
  ProbeTraffic& operator=(const ProbeTraffic&) = delete;

  // The process started, meant to at `from` (run time). The flows start when
  // the node is up (Up), or at `up_deadline` (run time: the node's first
  // start + ProbeSchedule::kUpDeadline) if it is not up by then, as the
  // simulation's traffic driver starts them. `up_at`: the anchor an earlier
  // run of this node (a restarted process) started its flows from (its
  // flows_anchor line); it wins over this run's up, and the flows keep that
  // schedule.
  // Each flow is armed at its first slot due at or after `from` (and after
  // the up); slots between then and now, which a process that took a few ms
  // to start missed, are sent at once, in order, as a late timer sends them.
  void Start(Duration from, Duration up_deadline, std::optional<Duration> up_at);
  // The node is up at `at` (run time): node::Up. The first anchor counts
  // (the up, the deadline or Start's `up_at`).
  void Up(Duration at);
  // Application data from `peer` that arrived on `path`.
  void OnData(Timestamp now, const NodePublicKey& peer, ByteView data, const node::Path& path);

  const ProbeCounts& counts() const { return counts_; }

 private:
  struct Flow {
    FlowSpec spec;
    realio::EventLoop::TimerId timer = 0;
    std::optional<scenario::ProbeSlot> next;  // the slot the timer is armed for
  };

  struct Anchored {
    Duration at;     // run time
    const char* by;  // flows_anchor's "by"
  };
  // The flows count from `at` (run time), unless an anchor came first;
  // they start now if Start ran, else in Start.
  void Anchor(Duration at, const char* by);
  // The flows start: each schedule from anchor_; prints flows_anchor.
  void StartFlows();
  // Arms the flow's timer for its first slot at or after `t` (run time).
  void ArmAtOrAfter(Flow& flow, Duration t);
  // Arms the flow's timer for flow.next (or disarms it).
  void Arm(Flow& flow);
  void SendProbe(Flow& flow, uint64_t seq, Timestamp now);
  double AtMs(Timestamp t) const { return (t - epoch_).millis(); }

  realio::EventLoop& loop_;
  node::Node& node_;
  std::vector<Flow> flows_;
  Timestamp epoch_;
  std::optional<Duration> from_;  // set by Start
  std::optional<Anchored> anchor_;  // the up (or deadline) the flows start from
  Duration up_deadline_;
  realio::EventLoop::TimerId deadline_timer_ = 0;
  Print print_;
  std::function<void()> after_send_;
  ProbeCounts counts_;
};

}  // namespace punchlab::cli
