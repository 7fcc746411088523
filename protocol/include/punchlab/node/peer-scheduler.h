// Which of the node's peers need a drain: only busy peers are drained in a
// pump, and only peers whose wake-up is due become busy on a timeout, so a
// node with a thousand quiet peers does work for the few that have some
// (inputs that give a peer's PeerPaths work mark it busy).
#pragma once

#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "punchlab/crypto/keys.h"
#include "punchlab/time.h"

namespace punchlab {
namespace node {

class PeerScheduler {
 public:
  void MarkBusy(const NodePublicKey& key) { busy_.insert(key); }
  bool AnyBusy() const { return !busy_.empty(); }
  // The next busy peer, no longer busy once taken (lowest key first).
  std::optional<NodePublicKey> TakeBusy() {
    if (busy_.empty()) return std::nullopt;
    NodePublicKey key = *busy_.begin();
    busy_.erase(busy_.begin());
    return key;
  }

  // After a drain: when the peer next needs one (nullopt: not until an
  // input marks it busy).
  void SetWake(const NodePublicKey& key, std::optional<Timestamp> at) {
    auto it = wake_of_.find(key);
    if (it != wake_of_.end()) {
      if (at && *at == it->second) return;
      wakes_.erase({it->second, key});
      if (!at) {
        wake_of_.erase(it);
        return;
      }
      it->second = *at;
    } else {
      if (!at) return;
      wake_of_.emplace(key, *at);
    }
    wakes_.insert({*at, key});
  }
  // Peers whose wake-up is due become busy.
  void WakeDue(Timestamp now) {
    while (!wakes_.empty() && wakes_.begin()->first <= now) {
      const NodePublicKey& key = wakes_.begin()->second;
      busy_.insert(key);
      wake_of_.erase(key);
      wakes_.erase(wakes_.begin());
    }
  }
  std::optional<Timestamp> NextWake() const {
    if (wakes_.empty()) return std::nullopt;
    return wakes_.begin()->first;
  }

  // The peer left the netmap.
  void Forget(const NodePublicKey& key) {
    busy_.erase(key);
    SetWake(key, std::nullopt);
  }

 private:
  std::set<NodePublicKey> busy_;
  std::set<std::pair<Timestamp, NodePublicKey>> wakes_;  // ordered wake-ups
  std::unordered_map<NodePublicKey, Timestamp> wake_of_;  // each peer's entry in wakes_
};

}  // namespace node
}  // namespace punchlab
