// The link model both worlds use: one direction of a link that delays,
// jitters, loses, serialises (a data rate with a queue) and goes down, as
// plain arithmetic over times and sizes. ns-3's ShapedNetDevice
// (models/model/shaped-net-device.h) and the real lab's userspace wire
// (`punchlab-node wire`, sim/node/node-wire.cc) both call it, so "a link of
// 20 ms with 5 ms jitter and 1% loss" means the same thing in both.
//
// A packet's way through one LinkModel:
//
//   Transmit(now, tx):  dropped while down; waits for the packets before it
//                       to be serialised (a backlog over kMaxBacklog is a
//                       tail drop); takes `tx` to serialise; lost at random;
//                       then delayed (delay, varied uniformly by up to the
//                       jitter either way, never below zero).
//   InOrder(at):        never before the packet sent ahead of it on this
//                       link (FIFO: jitter varies delay, never order).
//   Receive(now, at, tx): (the simulation's access links, which packets
//                       from many senders reach) lost at random; delayed
//                       again; never delivered before the packet that
//                       reached this link ahead of it; optionally
//                       serialised again. One exception: a packet asked
//                       about after another that reaches the link later
//                       does not move that one's delivery, already
//                       answered; with receive jitter or serialisation the
//                       two can then be delivered out of reach order or
//                       overlap (packets from senders at different
//                       distances whose reach times differ by less than a
//                       serialisation time or the jitter).
//
// The simulation's device applies Transmit and InOrder to what it sends and
// Receive to what reaches it; the real lab's wire applies Transmit and
// InOrder per direction: a lab direction already carries everything the
// crossing costs (lab-world.cc sums them).
//
// Randomness is drawn only while loss or jitter is set, from the
// DeterministicRandom the owner hands in, so turning jitter on for one
// link does not shift another's draws. Times are Durations since any fixed
// epoch (the simulator's zero, the wire's start).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "punchlab/random.h"
#include "punchlab/time.h"

namespace punchlab::link {

// What one direction of a link does to packets.
struct Shape {
  Duration delay;
  Duration jitter;        // the delay varies by up to this much either way
  double loss = 0;        // fraction 0..1 of packets dropped
  uint64_t rate_bps = 0;  // 0: unlimited
  bool down = false;      // drops everything

  bool operator==(const Shape& o) const {
    return delay == o.delay && jitter == o.jitter && loss == o.loss && rate_bps == o.rate_bps &&
           down == o.down;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

// A transmit backlog longer than this drops (a tail-drop queue sized in
// time: at 10 Mbit/s about 1.2 MB).
inline constexpr Duration kMaxBacklog = Duration::Seconds(1);

// How long `bytes` take at `rate_bps` (0: no time), rounded to the nanosecond.
Duration TxTime(uint64_t bytes, uint64_t rate_bps);

struct Counters {
  uint64_t sent = 0;           // handed to Transmit
  uint64_t lost = 0;           // dropped at random
  uint64_t dropped_down = 0;   // dropped while down
  uint64_t dropped_queue = 0;  // dropped on a full backlog
};

class LinkModel {
 public:
  LinkModel() = default;
  explicit LinkModel(DeterministicRandom random);

  void SetRandom(DeterministicRandom random);
  void SetShape(const Shape& shape) { shape_ = shape; }
  const Shape& shape() const { return shape_; }
  Shape& mutable_shape() { return shape_; }
  const Counters& counters() const { return counters_; }
  // Counts a packet dropped because the link was down when it was to be delivered.
  void CountDroppedDown() { ++counters_.dropped_down; }

  // The sending half: when the packet, taking `tx` to serialise, arrives at
  // the far end; nullopt when it is dropped (counted).
  std::optional<Duration> Transmit(Duration now, Duration tx);
  // The receiving half, asked at `now` about a packet that reaches this
  // link at `at` (>= now; the simulator asks when the packet leaves its
  // sender, so packets from slower senders can be asked about before ones
  // from faster senders that reach the link first): when it is delivered,
  // after the packet that reached the link before it; nullopt when lost
  // (counted). The packets before it are those asked about so far, by `at`
  // (equal `at`: in the order asked). A packet asked about later but
  // reaching the link earlier does not move deliveries already answered.
  std::optional<Duration> Receive(Duration now, Duration at, Duration tx);
  // How many arrivals Receive still keeps to order later ones behind (for
  // tests: it stays at the packets on their way, not all ever received).
  size_t arrivals_kept() const { return rx_done_by_arrival_.size(); }
  // FIFO alone: `at`, or the previous packet's when that is later.
  Duration InOrder(Duration at);

  // The delay for one packet (draws only when jitter is set).
  Duration DrawDelay();
  // Whether to lose one packet (draws only when loss is set; counts it).
  bool DrawLoss();

 private:
  Shape shape_;
  std::unique_ptr<DeterministicRandom> random_;
  Duration tx_busy_until_;  // egress serialisation
  Duration in_order_until_;  // InOrder: the last packet's time
  // Receive: reach time -> delivery time of the packets asked about, from
  // the last one that reached the link at or before the latest `now` (the
  // earliest any later packet can follow) on.
  // Sorted by reach time; nearly always appended at the back.
  std::deque<std::pair<Duration, Duration>> rx_done_by_arrival_;
  Counters counters_;
};

}  // namespace punchlab::link
