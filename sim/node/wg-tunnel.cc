#include "node/wg-tunnel.h"

#include <algorithm>
#include <variant>

#include "node/ipv4-echo.h"

namespace punchlab::cli {

WgTunnel::WgTunnel(const WgTunnelConfig& config, RandomSource& rng,
                   std::function<void(const std::string&)> on_line)
    : config_(config), device_(config.device, rng), on_line_(std::move(on_line)) {
  device_.AddPeer(config.peer);
}

void WgTunnel::Start(Timestamp now) {
  if (config_.ping && config_.ping_count > 0) {
    pings_left_ = config_.ping_count;
    next_ping_ = now;
    HandleTimeout(now);
  }
}

void WgTunnel::HandleDatagram(Timestamp now, const Endpoint&, const Endpoint& remote, ByteView payload) {
  device_.HandleMessage(now, remote, payload);
  Pump(now);
}

void WgTunnel::HandleTimeout(Timestamp now) {
  device_.HandleTimeout(now);
  if (next_ping_ && *next_ping_ <= now && pings_left_ > 0) {
    IcmpEcho echo;
    echo.source = config_.tunnel_address;
    echo.destination = *config_.ping;
    echo.id = 0x504c;  // "PL"
    echo.sequence = static_cast<uint16_t>(config_.ping_count - pings_left_);
    echo.data = Bytes(32, 0xab);
    device_.Send(now, config_.peer.public_key, EncodeIcmpEcho(echo));
    ++stats_.echo_requests_sent;
    --pings_left_;
    next_ping_ = pings_left_ > 0 ? std::optional(now + config_.ping_interval) : std::nullopt;
  }
  Pump(now);
}

void WgTunnel::Pump(Timestamp now) {
  while (auto e = device_.PollEvent()) {
    if (const auto* done = std::get_if<wireguard::HandshakeComplete>(&*e)) {
      on_line_(std::string("wg handshake complete as ") + (done->initiator ? "initiator" : "responder") +
               (done->from ? " with " + done->from->ToString() : std::string()));
      continue;
    }
    if (std::holds_alternative<wireguard::HandshakeGaveUp>(*e)) {
      on_line_("wg handshake gave up");
      continue;
    }
    const auto& data = std::get<wireguard::DataReceived>(*e);
    auto echo = DecodeIcmpEcho(data.data);
    if (!echo || echo->destination != config_.tunnel_address) {
      ++stats_.not_echo;
      continue;
    }
    if (echo->request) {
      IcmpEcho reply = *echo;
      reply.request = false;
      std::swap(reply.source, reply.destination);
      device_.Send(now, config_.peer.public_key, EncodeIcmpEcho(reply));
      ++stats_.echo_requests_answered;
    } else {
      ++stats_.echo_replies_received;
      on_line_("wg echo reply from " + echo->source.ToString() + " seq " + std::to_string(echo->sequence));
    }
  }
}

std::optional<Transmit> WgTunnel::PollTransmit() {
  while (auto o = device_.PollTransmit()) {
    if (!o->destination) continue;  // no endpoint for the peer yet: nowhere to send
    return Transmit{config_.local, *o->destination, std::move(o->message)};
  }
  return std::nullopt;
}

std::optional<Timestamp> WgTunnel::PollTimeout() const {
  auto t = device_.PollTimeout();
  if (next_ping_ && (!t || *next_ping_ < *t)) t = next_ping_;
  return t;
}

}  // namespace punchlab::cli
