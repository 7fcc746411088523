// WgTunnel: a wireguard::Device statically configured with one peer, as a
// DatagramMachine for realio::Host, with a minimal host inside the tunnel
// (tunnel address, ping responder, optional pinger). It is what
// `punchlab-node wg` runs against a real WireGuard (wireguard-go + wg) in the
// interop tests: no control plane, no disco, the peer's key and endpoint given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "punchlab/datagram-machine.h"
#include "punchlab/wireguard/device.h"

namespace punchlab::cli {

struct WgTunnelConfig {
  wireguard::DeviceConfig device;
  wireguard::PeerConfig peer;
  Endpoint local;                      // the bound socket's address
  IpAddress tunnel_address;            // ours inside the tunnel
  std::optional<IpAddress> ping;       // send echo requests to this tunnel address
  Duration ping_interval = Duration::Millis(200);
  uint32_t ping_count = 0;
};

struct WgTunnelStats {
  uint64_t echo_requests_answered = 0;
  uint64_t echo_requests_sent = 0;
  uint64_t echo_replies_received = 0;
  uint64_t not_echo = 0;  // tunnel packets that were no echo for us
};

class WgTunnel final : public DatagramMachine {
 public:
  // `on_line` gets one line per handshake and per echo reply (for tests to wait on).
  WgTunnel(const WgTunnelConfig& config, RandomSource& rng, std::function<void(const std::string&)> on_line);

  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote, ByteView payload) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Timestamp> PollTimeout() const override;
  // Starts the pinger (its first echo goes now).
  void Start(Timestamp now);

  const wireguard::Device& device() const { return device_; }
  const WgTunnelStats& stats() const { return stats_; }

 private:
  void Pump(Timestamp now);

  WgTunnelConfig config_;
  wireguard::Device device_;
  std::function<void(const std::string&)> on_line_;
  std::optional<Timestamp> next_ping_;
  uint32_t pings_left_ = 0;
  WgTunnelStats stats_;
};

}  // namespace punchlab::cli
