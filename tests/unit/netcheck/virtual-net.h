// A virtual-clock, in-memory UDP network for netcheck tests. Unlike a
// fixed-latency net, each datagram's one-way delay comes from `delay` (so
// regions can sit at different distances; nullopt drops the datagram), and
// `nat` may rewrite a datagram as it is sent (a fake NAT; false drops it).
// The clock jumps to the next delivery or the earliest PollTimeout(); after
// every input the machine's transmits are collected (the drain rule).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "punchlab/time.h"
#include "punchlab/transmit.h"

namespace punchlab {
namespace netcheck_test {

class VirtualNet {
 public:
  void Attach(DatagramMachine* m, const std::vector<Endpoint>& endpoints) {
    for (const Endpoint& e : endpoints) listeners_[e] = m;
    if (std::find(machines_.begin(), machines_.end(), m) == machines_.end()) machines_.push_back(m);
  }

  // After a command given to `m` outside the loop.
  void Drain(DatagramMachine* m) {
    while (auto t = m->PollTransmit()) Send(std::move(*t));
  }

  void Send(Transmit t) {
    if (nat && !nat(t)) return;
    std::optional<Duration> d = delay ? delay(t) : std::optional<Duration>(Duration::Zero());
    if (!d) {
      ++dropped;
      return;
    }
    in_flight_.emplace(Key{now_ + *d, seq_++}, std::move(t));
  }

  // Handles everything due up to `until`; the clock ends at `until`.
  void RunUntil(Timestamp until) {
    for (;;) {
      std::optional<Timestamp> next;
      if (!in_flight_.empty()) next = in_flight_.begin()->first.at;
      DatagramMachine* timer_owner = nullptr;
      for (DatagramMachine* m : machines_) {
        auto t = m->PollTimeout();
        if (t && (!next || *t < *next)) {
          next = t;
          timer_owner = m;
        }
      }
      if (!next || *next > until) break;
      now_ = std::max(now_, *next);
      if (timer_owner != nullptr) {
        timer_owner->HandleTimeout(now_);
        Drain(timer_owner);
        continue;
      }
      auto it = in_flight_.begin();
      Transmit t = std::move(it->second);
      in_flight_.erase(it);
      auto l = listeners_.find(t.destination);
      if (l == listeners_.end()) continue;
      l->second->HandleDatagram(now_, t.destination, t.source, t.payload);
      Drain(l->second);
    }
    now_ = std::max(now_, until);
  }

  Timestamp now() const { return now_; }

  std::function<std::optional<Duration>(const Transmit&)> delay;
  std::function<bool(Transmit&)> nat;
  int dropped = 0;

 private:
  struct Key {
    Timestamp at;
    uint64_t seq;
    bool operator<(const Key& o) const { return at != o.at ? at < o.at : seq < o.seq; }
  };
  Timestamp now_;
  uint64_t seq_ = 0;
  std::map<Endpoint, DatagramMachine*> listeners_;
  std::vector<DatagramMachine*> machines_;
  std::multimap<Key, Transmit> in_flight_;
};

}  // namespace netcheck_test
}  // namespace punchlab
