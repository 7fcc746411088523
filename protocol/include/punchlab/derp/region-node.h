// One DERP region node as Tailscale runs it: the DERP relay on TCP and a STUN
// server on UDP (port 3478) on the same host, so clients learn their public
// address from the node they relay through.
//
// It is both machine shapes at once: a host hands TCP to it as a
// StreamMachine and UDP as a DatagramMachine. The two halves share nothing
// but the clock: HandleTimeout wakes both, PollTimeout is the earlier of the
// two. The halves stay reachable for their own commands, events and stats.
#pragma once

#include <optional>

#include "punchlab/datagram-machine.h"
#include "punchlab/derp/server.h"
#include "punchlab/stream-machine.h"
#include "punchlab/stun/server.h"

namespace punchlab {
namespace derp {

class RegionNode final : public StreamMachine, public DatagramMachine {
 public:
  RegionNode(NodePrivateKey key, RandomSource& rng, stun::StunServerConfig stun_config,
             ServerConfig derp_config = {});

  Server& derp() { return derp_; }
  const Server& derp() const { return derp_; }
  stun::StunServer& stun() { return stun_; }
  const stun::StunServer& stun() const { return stun_; }

  // TCP: DERP.
  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  std::optional<StreamAction> PollStreamAction() override;

  // UDP: STUN.
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  std::optional<Transmit> PollTransmit() override;

  // Both.
  void HandleTimeout(Timestamp now) override;
  std::optional<Timestamp> PollTimeout() const override;

 private:
  Server derp_;
  stun::StunServer stun_;
};

}  // namespace derp
}  // namespace punchlab
