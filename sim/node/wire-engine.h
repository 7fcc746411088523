// The userspace wire behind `punchlab-node wire`: every lab link is a pair
// of TAP devices (one in each of the link's two network namespaces) whose
// frames this one process reads, passes through a link::LinkModel per
// direction (delay, jitter that never reorders, seeded loss, a rate with a
// 1 s queue, down) and writes to the other device when their time comes.
// It is what the lab uses for links on any kernel, netem or not.
//
// One poll loop serves every link; the next delivery is the poll timeout at
// nanosecond resolution (ppoll, timer slack 1 us), so nothing busy-polls.
// Each direction's queue is in delivery order (LinkModel::InOrder), so the
// next delivery is the earliest queue head.
//
// Only IPv4 frames are shaped. ARP and IPv6 (neighbour discovery) pass at
// once, and are dropped only while the direction is down: the simulation's
// links have no link layer, so resolving a neighbour must not cost a round
// trip the simulation never pays. Rates count the IPv4 packet, not the
// Ethernet header, as the simulation does.
//
// Accounting: every IPv4 packet delivered is counted per direction, 100 ms
// bin, source and destination address (the `flows` command), so the lab can
// tell from the wire itself which way two peers' packets went (directly
// between their NATs, through a relay, over their LAN), whatever program
// sent them.
//
// Randomness: direction "ab" of link "node-alice" draws from
// DeterministicRandom(seed).Fork("wire/node-alice/ab"), so a run's loss
// pattern follows the scenario's seed as far as real time allows.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "link/link-model.h"
#include "link/wire-protocol.h"
#include "punchlab/time.h"
#include "realio/unique-fd.h"

namespace punchlab::wire {

class WireEngine {
 public:
  explicit WireEngine(uint64_t seed);
  // SCHED_FIFO at `priority` (1-99), so deliveries keep their time on a
  // loaded machine; the wire sleeps between packets, so it takes little.
  // Returns false (errno set) when the kernel refuses.
  static bool MakeRealtime(int priority);
  ~WireEngine();
  WireEngine(const WireEngine&) = delete;
  WireEngine& operator=(const WireEngine&) = delete;

  // Serves `control_fd` (commands, one per line) until it closes; replies go
  // to `reply_fd`. Returns the exit code.
  int Run(int control_fd, int reply_fd);

  // One command line's reply line (without the newline).
  std::string Execute(const std::string& line);

 private:
  // One flows entry: per 100 ms bin, source and destination (network order).
  struct FlowKey {
    int64_t bin = 0;  // CLOCK_MONOTONIC / kFlowBinNanos
    uint32_t src = 0;
    uint32_t dst = 0;
    bool operator<(const FlowKey& o) const {
      return bin != o.bin ? bin < o.bin : src != o.src ? src < o.src : dst < o.dst;
    }
  };
  struct FlowCount {
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  struct Pending {
    Duration at;
    std::vector<uint8_t> frame;
  };
  struct Direction {
    link::LinkModel model;
    int in_fd = -1;   // read from
    int out_fd = -1;  // written to
    std::deque<Pending> queue;
    uint64_t delivered = 0;
    uint64_t passed = 0;        // not IPv4: passed unshaped
    uint64_t write_errors = 0;  // the receiving device refused it
    // How late deliveries were against their time (the wire's own error).
    uint64_t late_over_500us = 0;
    uint64_t lateness_max_ns = 0;
    uint64_t lateness_sum_ns = 0;
    uint64_t timed = 0;  // deliveries that waited in the queue
    std::map<FlowKey, FlowCount> flows;  // IPv4 deliveries by bin and addresses
    uint64_t untracked = 0;              // delivered once the flow table was full
  };
  struct Link {
    std::string name;
    realio::UniqueFd fd_a;
    realio::UniqueFd fd_b;
    Direction ab;
    Direction ba;
  };

  Duration Now() const;
  void OnReadable(Direction& d, Duration now);
  void Write(Direction& d, const uint8_t* frame, size_t size);
  void Deliver(Direction& d, const Pending& p, Duration now);
  // Delivers what is due; returns the next delivery time (Max when none).
  Duration Flush(Duration now);
  std::string Stats() const;
  std::string Flows() const;
  void Account(Direction& d, const uint8_t* frame, size_t size);

  uint64_t seed_;
  int64_t epoch_ns_ = 0;
  realio::UniqueFd home_netns_;
  std::vector<std::unique_ptr<Link>> links_;
  std::map<std::string, Link*> by_name_;
  std::vector<uint8_t> buffer_;
  size_t flow_entries_ = 0;  // over every direction, at most link::kMaxFlowEntries
};

}  // namespace punchlab::wire
