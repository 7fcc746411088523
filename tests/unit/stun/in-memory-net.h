// A virtual-time, in-memory UDP network for driving DatagramMachines in unit
// tests: every datagram takes `latency` to arrive; the clock jumps to the next
// delivery or the earliest PollTimeout(), whichever comes first. Hosts follow
// the drain rule: after every input a machine's transmits are collected.
//
// `route` sees every datagram as it is sent and may rewrite it (a fake NAT)
// or drop it (return false). Datagrams to an endpoint nobody listens on are
// counted in `undeliverable`.
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
namespace testnet {

class InMemoryNet {
 public:
  explicit InMemoryNet(Duration latency = Duration::Millis(10)) : latency_(latency) {}

  // `m` receives everything addressed to any of `endpoints`.
  void Attach(DatagramMachine* m, const std::vector<Endpoint>& endpoints) {
    for (const Endpoint& e : endpoints) listeners_[e] = m;
    if (std::find(machines_.begin(), machines_.end(), m) == machines_.end()) machines_.push_back(m);
  }
  void Detach(const Endpoint& e) { listeners_.erase(e); }

  // After a command given to `m` outside the loop (e.g. StartBinding).
  void Drain(DatagramMachine* m) {
    while (auto t = m->PollTransmit()) Send(std::move(*t));
  }

  // Injects a datagram as if some host had sent it now.
  void Send(Transmit t) {
    ++sent;
    if (route && !route(t)) {
      ++dropped;
      return;
    }
    in_flight_.emplace(Key{now_ + latency_, seq_++}, std::move(t));
  }

  // Runs until nothing is pending or `until` is reached; the clock ends at the
  // last event handled (or `until` when something is still pending).
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
      if (!next || *next > until) {
        if (next) now_ = until;
        return;
      }
      if (*next > now_) now_ = *next;
      if (timer_owner != nullptr) {
        timer_owner->HandleTimeout(now_);
        Drain(timer_owner);
        continue;
      }
      auto it = in_flight_.begin();
      Transmit t = std::move(it->second);
      in_flight_.erase(it);
      auto l = listeners_.find(t.destination);
      if (l == listeners_.end()) {
        ++undeliverable;
        continue;
      }
      ++delivered;
      l->second->HandleDatagram(now_, t.destination, t.source, t.payload);
      Drain(l->second);
    }
  }

  Timestamp now() const { return now_; }
  void set_now(Timestamp t) { now_ = t; }

  std::function<bool(Transmit&)> route;
  int sent = 0;
  int dropped = 0;
  int delivered = 0;
  int undeliverable = 0;

 private:
  struct Key {
    Timestamp at;
    uint64_t seq;
    bool operator<(const Key& o) const { return at != o.at ? at < o.at : seq < o.seq; }
  };
  Duration latency_;
  Timestamp now_;
  uint64_t seq_ = 0;
  std::map<Endpoint, DatagramMachine*> listeners_;
  std::vector<DatagramMachine*> machines_;
  std::multimap<Key, Transmit> in_flight_;
};

}  // namespace testnet
}  // namespace punchlab
