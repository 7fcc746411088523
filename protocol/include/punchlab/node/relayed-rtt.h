// The relayed path's round trip to one peer: while a session to it is
// active and its data goes over DERP, the node sends it a disco ping THROUGH
// DERP every heartbeat interval; the relayed pong gives the end-to-end
// relayed RTT, which is what an application would see (a DERP Ping frame
// would only time half the path). This part decides when a ping is due and
// times its pong; the node seals and sends.
#pragma once

#include <iterator>
#include <map>
#include <optional>

#include "punchlab/control/derp-map.h"
#include "punchlab/disco/message.h"
#include "punchlab/random.h"
#include "punchlab/time.h"

namespace punchlab {
namespace node {

class RelayedRttProbe {
 public:
  struct Answer {
    control::RegionId region;  // the region the ping went through
    Duration rtt;
  };

  // Called on every drain of the peer. `probing`: the session is active and
  // relayed; `connected`: the region's connection is up. Returns the txid
  // of a ping to send through `region` now, if one is due.
  std::optional<disco::TxId> Due(Timestamp now, bool probing, bool connected,
                                 control::RegionId region, RandomSource& rng,
                                 Duration interval, Duration ping_timeout) {
    if (!probing) {
      next_.reset();
      return std::nullopt;
    }
    if ((next_ && now < *next_) || !connected) return std::nullopt;
    disco::TxId txid{};
    rng.Fill(txid.data(), txid.size());
    for (auto it = sent_.begin(); it != sent_.end();) {
      it = it->second.at < now - ping_timeout ? sent_.erase(it) : std::next(it);
    }
    sent_[txid] = Sent{region, now};
    next_ = now + interval;
    return txid;
  }

  // A pong over DERP: the round trip if it answers a ping of ours sent
  // within `ping_timeout`, else nullopt (unknown, stale or replayed).
  std::optional<Answer> HandlePong(Timestamp now, const disco::TxId& txid,
                                   Duration ping_timeout) {
    auto it = sent_.find(txid);
    if (it == sent_.end() || now - it->second.at > ping_timeout) return std::nullopt;
    const Answer answer{it->second.region, now - it->second.at};
    sent_.erase(it);
    return answer;
  }

  // The next ping is due (e.g. the region's connection just came up).
  void DueNow() { next_.reset(); }
  // The peer restarted: its old run's pings mean nothing.
  void Reset() {
    next_.reset();
    sent_.clear();
  }
  // When the next ping is due, if probing.
  std::optional<Timestamp> next() const { return next_; }

 private:
  struct Sent {
    control::RegionId region;
    Timestamp at;
  };
  std::optional<Timestamp> next_;
  std::map<disco::TxId, Sent> sent_;
};

}  // namespace node
}  // namespace punchlab
