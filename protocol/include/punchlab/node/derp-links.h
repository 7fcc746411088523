// The node's DERP connections: one derp::Client per region in use, each on
// its own connection slot (conn-id.h), with a bounded queue of packets that
// wait while it comes up. The Node decides which regions to use (its home, a
// peer's home); this part opens, feeds, retires and drains the clients and
// counts what it drops in the node's stats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "punchlab/control/derp-map.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/derp/client.h"
#include "punchlab/node/events.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"

namespace punchlab {
namespace node {

class DerpLinks {
 public:
  // Application data handed to a region's client (after any wait in the
  // queue), for the per-peer counters.
  using DataSent = std::function<void(const NodePublicKey& to, RegionId region, size_t bytes)>;

  // `key`, `rng` and `stats` must outlive this object.
  DerpLinks(const NodePrivateKey& key, RandomSource& rng, derp::ClientConfig config,
            size_t queue_limit, NodeStats& stats, DataSent data_sent);

  // The region's client, started now if there is none (nullptr when the map
  // has no server for it).
  derp::Client* Ensure(Timestamp now, RegionId region, const control::DerpMap& map);
  // Stops the region's client and drops its queue; its close still reaches
  // the host (PollClosing). False when the region had none.
  bool Retire(Timestamp now, RegionId region);
  // Regions whose client no longer matches `map` (region gone, server moved).
  std::vector<RegionId> Stale(const control::DerpMap& map) const;
  void SetPreferred(Timestamp now, RegionId region, bool preferred);
  // Stops every client for good and drops every queue.
  void Stop(Timestamp now);

  enum class SendResult : uint8_t { kSent, kQueued, kDropped };
  // Relays `packet` to `to` through the region, queued while its connection
  // comes up. `data_bytes` is set for application data (counted once sent).
  SendResult Send(Timestamp now, RegionId region, const control::DerpMap& map,
                  const NodePublicKey& to, Bytes packet, std::optional<size_t> data_bytes);
  // The region's connection is up: what waited for it goes out.
  void FlushQueue(Timestamp now, RegionId region);

  bool Has(RegionId region) const { return links_.count(region) != 0; }
  bool Connected(RegionId region) const;
  // The client behind a connection slot, nullptr for a retired slot.
  derp::Client* BySlot(uint32_t slot);

  // Every client's events, collected first: handling one may open another
  // region's connection.
  std::vector<std::pair<RegionId, derp::ClientEvent>> PollEvents();
  // Closes of retired clients; the Node polls these before anything else.
  std::optional<StreamAction> PollClosing();
  // The live clients' stream actions, ids composed with their slots.
  std::optional<StreamAction> PollStreamAction();
  void HandleTimeout(Timestamp now);
  std::optional<Timestamp> PollTimeout() const;

 private:
  struct Queued {
    NodePublicKey to;
    Bytes packet;
    std::optional<size_t> data_bytes;
  };
  struct Link {
    uint32_t slot = 0;
    Endpoint server;
    std::unique_ptr<derp::Client> client;
    std::deque<Queued> queue;
  };

  void Relay(Timestamp now, RegionId region, Link& link, const NodePublicKey& to,
             const Bytes& packet, std::optional<size_t> data_bytes);

  const NodePrivateKey& key_;
  RandomSource& rng_;
  derp::ClientConfig config_;
  size_t queue_limit_;
  NodeStats& stats_;
  DataSent data_sent_;
  std::map<RegionId, Link> links_;
  std::map<uint32_t, RegionId> slots_;
  uint32_t next_slot_ = 1;
  std::deque<StreamAction> closing_;  // from retired clients
};

}  // namespace node
}  // namespace punchlab
