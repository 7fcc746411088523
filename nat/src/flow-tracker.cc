#include "punchlab/nat/flow-tracker.h"

namespace punchlab {
namespace nat {

FlowTracker::Flow* FlowTracker::Find(const FlowKey& key) {
  auto it = flows_.find(key);
  return it == flows_.end() ? nullptr : &it->second;
}

FlowTracker::Flow& FlowTracker::Open(Timestamp now, const FlowKey& key, uint32_t owner,
                                     Direction dir, TcpFlags flags) {
  Flow& flow = flows_[key];
  flow = Flow{};
  flow.owner = owner;
  flow.generation = next_generation_++;
  flow.last_refresh = now;
  flow.tcp.Observe(dir, flags);
  flow.expiry = now + IdleTimeout(timeouts_, key.protocol, flow.tcp);
  Queue(key, flow, flow.expiry);
  return flow;
}

void FlowTracker::Touch(Timestamp now, const FlowKey& key, Flow& flow, Direction dir,
                        TcpFlags flags, bool refresh) {
  if (&flow == settled_.flow) settled_.flow = nullptr;  // the head's flow may now expire later
  flow.tcp.Observe(dir, flags);
  if (refresh) flow.last_refresh = now;
  flow.expiry = flow.last_refresh + IdleTimeout(timeouts_, key.protocol, flow.tcp);
  if (flow.expiry < flow.queued_at) Queue(key, flow, flow.expiry);
}

void FlowTracker::Queue(const FlowKey& key, Flow& flow, Timestamp at) {
  settled_.flow = nullptr;  // the new entry may be the head
  flow.queued_at = at;
  queue_.push(Entry{at, flow.generation, key});
}

FlowTracker::Flow* FlowTracker::Live(const Entry& e) {
  Flow* flow = Find(e.key);
  if (flow == nullptr || flow->generation != e.generation || flow->queued_at != e.at) {
    return nullptr;
  }
  return flow;
}

bool FlowTracker::PopExpired(Timestamp now, FlowKey* key) {
  while (!queue_.empty() && queue_.top().at <= now) {
    settled_.flow = nullptr;  // the head leaves the queue
    Entry e = queue_.top();
    queue_.pop();
    Flow* flow = Live(e);
    if (flow == nullptr) continue;
    if (flow->expiry <= now) {
      *key = e.key;
      return true;
    }
    Queue(e.key, *flow, flow->expiry);
  }
  return false;
}

Timestamp FlowTracker::NextExpiry() {
  // Settled already and nothing changed since: the loop below would return
  // at once, so skipping it leaves the queue exactly as it would be.
  if (settled_.flow != nullptr) return settled_.at;
  // Settle the head so the answer is exact: drop stale entries and move
  // refreshed flows' entries to their real expiry.
  while (!queue_.empty()) {
    Entry e = queue_.top();
    Flow* flow = Live(e);
    if (flow != nullptr && flow->expiry == e.at) {
      settled_.flow = flow;
      settled_.at = e.at;
      return e.at;
    }
    queue_.pop();
    if (flow != nullptr) Queue(e.key, *flow, flow->expiry);
  }
  return Timestamp::Max();
}

void FlowTracker::Clear() {
  settled_.flow = nullptr;
  flows_.clear();
  queue_ = decltype(queue_)();
}

}  // namespace nat
}  // namespace punchlab
