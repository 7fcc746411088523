#include "punchlab/derp/region-node.h"

#include <utility>

namespace punchlab {
namespace derp {

RegionNode::RegionNode(NodePrivateKey key, RandomSource& rng, stun::StunServerConfig stun_config,
                       ServerConfig derp_config)
    : derp_(std::move(key), rng, derp_config), stun_(std::move(stun_config)) {}

void RegionNode::HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) {
  derp_.HandleConnected(now, conn, remote);
}

void RegionNode::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  derp_.HandleStream(now, conn, bytes);
}

void RegionNode::HandleClosed(Timestamp now, ConnectionId conn) { derp_.HandleClosed(now, conn); }

std::optional<StreamAction> RegionNode::PollStreamAction() { return derp_.PollStreamAction(); }

void RegionNode::HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                                ByteView payload) {
  stun_.HandleDatagram(now, local, remote, payload);
}

std::optional<Transmit> RegionNode::PollTransmit() { return stun_.PollTransmit(); }

void RegionNode::HandleTimeout(Timestamp now) {
  derp_.HandleTimeout(now);
  stun_.HandleTimeout(now);
}

std::optional<Timestamp> RegionNode::PollTimeout() const {
  const auto a = derp_.PollTimeout();
  const auto b = stun_.PollTimeout();
  if (a && b) return *a < *b ? a : b;
  return a ? a : b;
}

}  // namespace derp
}  // namespace punchlab
