// Flows with idle timeouts, shared by the NAT table and the firewall.
//
// Every flow carries its own expiry (last refresh + the idle timeout for its
// protocol and TCP state). Expiry is driven by the host's `now`: Expire(now)
// removes what has run out and NextExpiry() says when the next flow will, so a
// host arms one timer instead of one per flow.
//
// Refreshing a flow touches only the flow, never the queue: each flow has one
// queue entry, at or before its expiry. When that entry comes due and the flow
// was refreshed meanwhile, the entry is re-queued at the flow's real expiry.
// So a packet costs one hash lookup, and the queue works once per flow per
// timeout period. The one case that moves an expiry earlier (a TCP flow going
// from established to closing) queues a fresh entry and retires the old one.
#pragma once

#include <cstdint>
#include <queue>
#include <utility>
#include <unordered_map>
#include <vector>

#include "punchlab/nat/flow-types.h"
#include "punchlab/nat/tcp-state.h"
#include "punchlab/time.h"

namespace punchlab {
namespace nat {

class FlowTracker {
 public:
  struct Flow {
    uint32_t owner = 0;  // the caller's id for what this flow belongs to (NAT: its mapping)
    Timestamp last_refresh;
    Timestamp expiry;
    TcpTracker tcp;
    uint64_t generation = 0;  // tells a re-created flow from its predecessor in the queue
    Timestamp queued_at;      // time of this flow's live queue entry (<= expiry)
  };

  explicit FlowTracker(FlowTimeouts timeouts) : timeouts_(timeouts) {}
  Flow* Find(const FlowKey& key);
  // Starts a flow with its first packet; `key` must not be tracked yet.
  Flow& Open(Timestamp now, const FlowKey& key, uint32_t owner, Direction dir, TcpFlags flags);
  // Records a packet of a tracked flow: TCP state always, the idle timer only if `refresh`.
  void Touch(Timestamp now, const FlowKey& key, Flow& flow, Direction dir, TcpFlags flags,
             bool refresh);

  // Removes every flow whose expiry is at or before `now`, calling
  // on_expired(const FlowKey&, const Flow&) just before each goes.
  template <typename F>
  void Expire(Timestamp now, F&& on_expired) {
    FlowKey key;
    while (PopExpired(now, &key)) {
      auto it = flows_.find(key);
      on_expired(key, it->second);
      flows_.erase(it);
      settled_.flow = nullptr;
    }
  }
  // The earliest expiry among tracked flows, or Timestamp::Max() if none.
  Timestamp NextExpiry();

  void Clear();
  size_t size() const { return flows_.size(); }

 private:
  struct Entry {
    Timestamp at;
    uint64_t generation;
    FlowKey key;
    bool operator>(const Entry& o) const { return at > o.at; }
  };

  void Queue(const FlowKey& key, Flow& flow, Timestamp at);
  // The live flow an entry stands for, or nullptr if the entry is stale.
  Flow* Live(const Entry& e);
  // Pops queue entries up to `now`, re-queuing refreshed flows, until one names
  // a flow that has expired: stores its key and returns true. False when none.
  bool PopExpired(Timestamp now, FlowKey* key);

  FlowTimeouts timeouts_;
  // NextExpiry's last answer and the flow of the head entry it settled on,
  // until anything that could change it happens (an entry queued or popped,
  // that flow touched, Clear): a host asks after every packet, and settling
  // costs a lookup of the head's flow even when nothing moved. `flow` points
  // into flows_: a copy of the tracker has its own nodes, so it settles
  // afresh; a move takes the map's nodes along, so the answer goes with
  // them and the emptied source forgets it.
  struct Settled {
    const Flow* flow = nullptr;
    Timestamp at;
    Settled() = default;
    Settled(const Settled&) {}
    Settled& operator=(const Settled&) {
      flow = nullptr;
      return *this;
    }
    Settled(Settled&& o) noexcept : flow(std::exchange(o.flow, nullptr)), at(o.at) {}
    Settled& operator=(Settled&& o) noexcept {
      flow = std::exchange(o.flow, nullptr);
      at = o.at;
      return *this;
    }
  };
  Settled settled_;
  std::unordered_map<FlowKey, Flow, FlowKeyHash> flows_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  uint64_t next_generation_ = 1;
};

}  // namespace nat
}  // namespace punchlab
