#include "punchlab/derp/client.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "punchlab/json.h"

namespace punchlab {
namespace derp {
namespace {

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Recycled write buffers kept, and the largest one worth keeping.
constexpr size_t kMaxSpareBuffers = 4;
constexpr size_t kMaxSpareCapacity = 1024 * 1024;
// Recycled packet buffers kept (an event queue's worth of a busy read).
constexpr size_t kMaxSparePackets = 64;

}  // namespace

const char* ClientStateName(ClientState state) {
  switch (state) {
    case ClientState::kIdle: return "idle";
    case ClientState::kConnecting: return "connecting";
    case ClientState::kUpgrading: return "upgrading";
    case ClientState::kHandshaking: return "handshaking";
    case ClientState::kConnected: return "connected";
    case ClientState::kBackoff: return "backoff";
    case ClientState::kStopped: return "stopped";
  }
  return "unknown";
}

Client::Client(NodePrivateKey key, RandomSource& rng, ClientConfig config)
    : key_(std::move(key)), rng_(&rng), config_(std::move(config)) {}

Client Client::Clone(RandomSource& rng) const { return Client(*this, rng); }

bool Client::Attempting() const {
  return state_ == ClientState::kConnecting || state_ == ClientState::kUpgrading ||
         state_ == ClientState::kHandshaking || state_ == ClientState::kConnected;
}

void Client::Start(Timestamp now) {
  if (state_ == ClientState::kIdle || state_ == ClientState::kStopped) {
    failures_ = 0;
    Connect(now);
  }
}

void Client::Stop(Timestamp) {
  if (Attempting()) {
    actions_.push_back(StreamAction::Close(conn_, "client stopped"));
  }
  if (state_ != ClientState::kIdle && state_ != ClientState::kStopped) {
    Emit(Disconnected{"client stopped", Timestamp::Max()});
  }
  state_ = ClientState::kStopped;
  shared_.reset();
}

bool Client::Send(Timestamp, const NodePublicKey& destination, ByteView packet) {
  if (state_ != ClientState::kConnected || packet.size() > kMaxPacketSize) {
    ++stats_.send_dropped;
    return false;
  }
  // Straight into the pending write: the packet is copied once.
  AppendSendPacket(WriteBuffer(), destination, packet);
  ++stats_.packets_sent;
  stats_.bytes_sent += packet.size();
  return true;
}

void Client::SetPreferred(Timestamp, bool preferred) {
  preferred_ = preferred;
  if (state_ == ClientState::kConnected) Write(Encode(NotePreferredFrame{preferred}));
}

bool Client::Ping(Timestamp, const PingData& data) {
  if (state_ != ClientState::kConnected) return false;
  Write(Encode(PingFrame{data}));
  return true;
}

void Client::HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) {
  if (conn != conn_ || state_ != ClientState::kConnecting) return;
  Write(BuildUpgradeRequest(config_.host));
  state_ = ClientState::kUpgrading;
}

void Client::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  if (conn != conn_ || !Attempting() || state_ == ClientState::kConnecting) return;
  last_heard_ = now;
  if (state_ != ClientState::kUpgrading) {
    // Frames are parsed where the host read them; the rest of a frame that
    // continues in the next read is kept once this read is done with.
    const ConnectionId conn_before = conn_;
    frames_.Borrow(bytes);
    OnFrames(now);
    if (conn_ == conn_before && Attempting()) {
      frames_.Keep();
    } else {
      frames_ = FrameReader();  // the connection ended: nothing of it to keep
    }
    return;
  }
  const auto http = http_.Feed(bytes);
  if (http == HttpHeadReader::State::kNeedMore) return;
  std::string why;
  if (http == HttpHeadReader::State::kError) {
    ProtocolError(now, http_.error());
    return;
  }
  if (!CheckUpgradeResponse(http_.head(), why)) {
    ProtocolError(now, why);
    return;
  }
  state_ = ClientState::kHandshaking;
  frames_.Feed(http_.TakeRest());
  OnFrames(now);
}

void Client::HandleClosed(Timestamp now, ConnectionId conn) {
  if (conn != conn_ || !Attempting()) return;
  Lost(now, state_ == ClientState::kConnecting ? "connect failed" : "connection closed by server");
}

void Client::HandleTimeout(Timestamp now) {
  if (state_ == ClientState::kBackoff && now >= retry_at_) {
    Connect(now);
  } else if (Attempting() && state_ != ClientState::kConnected && now >= handshake_deadline_) {
    Fail(now, "handshake not finished within " + config_.handshake_timeout.ToString());
  } else if (state_ == ClientState::kConnected && now >= last_heard_ + config_.idle_timeout) {
    Fail(now, "nothing heard from the server for " + config_.idle_timeout.ToString());
  }
}

std::optional<StreamAction> Client::PollStreamAction() {
  if (actions_.empty()) return std::nullopt;
  StreamAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::optional<Timestamp> Client::PollTimeout() const {
  switch (state_) {
    case ClientState::kBackoff: return retry_at_;
    case ClientState::kConnecting:
    case ClientState::kUpgrading:
    case ClientState::kHandshaking: return handshake_deadline_;
    case ClientState::kConnected: return last_heard_ + config_.idle_timeout;
    case ClientState::kIdle:
    case ClientState::kStopped: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ClientEvent> Client::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void Client::Connect(Timestamp now) {
  ++conn_;
  state_ = ClientState::kConnecting;
  handshake_deadline_ = now + config_.handshake_timeout;
  http_ = HttpHeadReader();
  frames_ = FrameReader();
  server_key_.reset();
  shared_.reset();
  ++stats_.connect_attempts;
  actions_.push_back(StreamAction::Connect(conn_, config_.server, config_.tls));
  Emit(Connecting{});
}

void Client::OnFrames(Timestamp now) {
  const ConnectionId conn = conn_;
  // Stop as soon as a frame ends this connection.
  while (conn_ == conn && Attempting()) {
    std::optional<FrameView> frame = frames_.NextView();
    if (!frame) {
      if (frames_.failed()) ProtocolError(now, frames_.error());
      return;
    }
    const bool handled =
        state_ == ClientState::kHandshaking ? OnHandshakeFrame(now, *frame) : OnFrame(now, *frame);
    if (!handled) return;
  }
}

bool Client::OnHandshakeFrame(Timestamp now, const FrameView& frame) {
  if (!server_key_) {
    auto f = Decode<ServerKeyFrame>(frame);
    if (!f) {
      ProtocolError(now, "expected ServerKey, got " + FrameTypeName(frame.type));
      return false;
    }
    if (config_.server_key && *config_.server_key != f->key) {
      ++stats_.server_key_refused;
      ProtocolError(now, "server key " + f->key.ShortString() + " is not the configured " +
                             config_.server_key->ShortString());
      return false;
    }
    shared_ = SharedKey::Compute(key_, f->key);
    if (!shared_) {
      ProtocolError(now, "server key " + f->key.ShortString() + " is a low-order point");
      return false;
    }
    server_key_ = f->key;
    nlohmann::json info_json{{"version", kProtocolVersion}, {"CanAckPings", true}};
    if (!config_.mesh_key.empty()) info_json["meshKey"] = config_.mesh_key;
    const std::string info = info_json.dump();
    Write(Encode(ClientInfoFrame{public_key(), shared_->Seal(*rng_, View(info))}));
    return true;
  }
  auto f = Decode<ServerInfoFrame>(frame);
  if (!f) {
    ProtocolError(now, "expected ServerInfo, got " + FrameTypeName(frame.type));
    return false;
  }
  auto plain = shared_->Open(f->sealed);
  if (!plain) {
    ProtocolError(now, "ServerInfo box does not open with the server key");
    return false;
  }
  const auto json = ParseJson(*plain);
  if (json.is_discarded() || !json.is_object()) {
    ProtocolError(now, "ServerInfo does not hold a JSON object");
    return false;
  }
  state_ = ClientState::kConnected;
  failures_ = 0;
  ++stats_.handshakes;
  if (preferred_) Write(Encode(NotePreferredFrame{true}));
  if (config_.watch_connections) AppendFrame(WriteBuffer(), FrameType::kWatchConns, ByteView());
  Emit(Connected{*server_key_});
  return true;
}

bool Client::OnFrame(Timestamp now, const FrameView& frame) {
  switch (frame.type) {
    case FrameType::kRecvPacket: {
      auto f = RecvPacketView::DecodePayload(frame.payload);
      if (!f) {
        ProtocolError(now, "malformed RecvPacket");
        return false;
      }
      ++stats_.packets_received;
      stats_.bytes_received += f->packet.size();
      Received e{f->source, {}};
      // The one copy: the event outlives the read.
      if (!spare_packets_.empty()) {
        e.data = std::move(spare_packets_.back());
        spare_packets_.pop_back();
      }
      e.data.assign(f->packet.begin(), f->packet.end());
      Emit(std::move(e));
      return true;
    }
    case FrameType::kKeepAlive: ++stats_.keepalives_received; return true;
    case FrameType::kPing: {
      auto f = Decode<PingFrame>(frame);
      if (!f) {
        ProtocolError(now, "malformed Ping");
        return false;
      }
      Write(Encode(PongFrame{f->data}));
      ++stats_.pongs_sent;
      return true;
    }
    case FrameType::kPong: {
      auto f = Decode<PongFrame>(frame);
      if (!f) {
        ProtocolError(now, "malformed Pong");
        return false;
      }
      Emit(Pong{Bytes(f->data.begin(), f->data.end())});
      return true;
    }
    case FrameType::kPeerGone: {
      auto f = Decode<PeerGoneFrame>(frame);
      if (!f) {
        ProtocolError(now, "malformed PeerGone");
        return false;
      }
      Emit(PeerGone{f->key, f->reason});
      return true;
    }
    case FrameType::kPeerPresent: {
      auto f = Decode<PeerPresentFrame>(frame);
      if (!f) {
        ProtocolError(now, "malformed PeerPresent");
        return false;
      }
      Emit(PeerPresent{f->key, f->endpoint, f->flags});
      return true;
    }
    case FrameType::kHealth: {
      auto f = Decode<HealthFrame>(frame);
      if (!f) {
        ProtocolError(now, "malformed Health");
        return false;
      }
      Emit(Health{std::move(f->text)});
      return true;
    }
    case FrameType::kRestarting: {
      auto f = Decode<RestartingFrame>(frame);
      if (!f) {
        ProtocolError(now, "malformed Restarting");
        return false;
      }
      restart_hint_ = f->reconnect_in;
      Emit(Restarting{f->reconnect_in, f->try_for});
      return true;
    }
    default: ++stats_.unknown_frames; return true;
  }
}

void Client::Fail(Timestamp now, const std::string& reason) {
  actions_.push_back(StreamAction::Close(conn_, reason));
  Lost(now, reason);
}

void Client::ProtocolError(Timestamp now, const std::string& reason) {
  ++stats_.protocol_errors;
  Fail(now, "protocol error: " + reason);
}

void Client::Lost(Timestamp now, const std::string& reason) {
  Duration delay;
  if (restart_hint_) {
    delay = *restart_hint_;
    restart_hint_.reset();
  } else {
    Duration base = config_.initial_backoff;
    for (uint32_t i = 0; i < failures_ && base < config_.max_backoff; ++i) base = base * 2;
    base = std::min(base, config_.max_backoff);
    delay = rng_->UniformDuration(base / 2, base + base / 2);
  }
  ++failures_;
  state_ = ClientState::kBackoff;
  retry_at_ = now + delay;
  shared_.reset();
  Emit(Disconnected{reason, retry_at_});
}

void Client::Write(Bytes bytes) {
  if (!actions_.empty() && actions_.back().kind == StreamAction::Kind::kWrite &&
      actions_.back().conn == conn_) {
    Bytes& data = actions_.back().data;
    data.insert(data.end(), bytes.begin(), bytes.end());
    return;
  }
  actions_.push_back(StreamAction::Write(conn_, std::move(bytes)));
}

Bytes& Client::WriteBuffer() {
  if (actions_.empty() || actions_.back().kind != StreamAction::Kind::kWrite ||
      actions_.back().conn != conn_) {
    Bytes buffer;
    if (!spare_buffers_.empty()) {
      buffer = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    }
    actions_.push_back(StreamAction::Write(conn_, std::move(buffer)));
  }
  return actions_.back().data;
}

void Client::RecycleReceived(Bytes packet) {
  if (spare_packets_.size() >= kMaxSparePackets || packet.capacity() == 0 ||
      packet.capacity() > kMaxPacketSize) {
    return;
  }
  packet.clear();
  spare_packets_.push_back(std::move(packet));
}

void Client::RecycleWriteBuffer(Bytes buffer) {
  if (spare_buffers_.size() >= kMaxSpareBuffers || buffer.capacity() == 0 ||
      buffer.capacity() > kMaxSpareCapacity) {
    return;
  }
  buffer.clear();
  spare_buffers_.push_back(std::move(buffer));
}

}  // namespace derp
}  // namespace punchlab
