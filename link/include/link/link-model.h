// The link model both worlds use: one direction of a link that delays,
// jitters, loses, serialises (a data rate with a queue) and goes down, as
// plain arithmetic over times and sizes. ns-3's ShapedNetDevice
// (models/model/shaped-net-device.h) and the real lab's userspace wire
// (`punchlab-node wire`, sim/node/node-wire.cc) both call it, so "a link of
// 20 ms with 5 ms jitter and 1% loss" means the same thing in both.
//
// A packet's way through one LinkModel, as the simulation has always done it:
//
//   Transmit(now, tx):  dropped while down; waits for the packets before it
//                       to be serialised (a backlog over kMaxBacklog is a
//                       tail drop); takes `tx` to serialise; lost at random;
//                       then delayed (delay, varied uniformly by up to the
//                       jitter either way, never below zero).
//   Receive(at, tx):    lost at random; delayed again; never delivered before
//                       the packet ahead of it (FIFO: jitter varies delay,
//                       never order); optionally serialised again.
//
// The real lab's wire applies one Transmit per direction followed by
// InOrder (the receive half with nothing of its own): a lab direction
// already carries everything the crossing costs (lab-world.cc sums them).
//
// Randomness is drawn only while loss or jitter is set, from the
// DeterministicRandom the owner hands in, so turning jitter on for one
// link does not shift another's draws. Times are Durations since any fixed
// epoch (the simulator's zero, the wire's start).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

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
  // The receiving half: a packet that reached this link at `at`; when it is
  // delivered, after the one before it; nullopt when lost (counted).
  std::optional<Duration> Receive(Duration at, Duration tx);
  // FIFO alone: `at`, or the previous delivery when that is later.
  Duration InOrder(Duration at);

  // The delay for one packet (draws only when jitter is set).
  Duration DrawDelay();
  // Whether to lose one packet (draws only when loss is set; counts it).
  bool DrawLoss();

 private:
  Shape shape_;
  std::unique_ptr<DeterministicRandom> random_;
  Duration tx_busy_until_;  // egress serialisation
  Duration rx_busy_until_;  // ingress: also keeps arrivals in order
  Counters counters_;
};

}  // namespace punchlab::link
