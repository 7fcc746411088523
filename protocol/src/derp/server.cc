#include "punchlab/derp/server.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "punchlab/crypto/box.h"
#include "must-find.h"

namespace punchlab {
namespace derp {
namespace {

// Initial capacity of a write that relayed packets are appended to.
constexpr size_t kWriteReserve = 64 * 1024;
// Recycled write buffers kept, and the largest one worth keeping.
constexpr size_t kMaxSpareBuffers = 16;
constexpr size_t kMaxSpareCapacity = 1024 * 1024;

// Packet bytes inside a whole RecvPacket frame.
uint64_t PacketBytes(const Bytes& frame) { return frame.size() - kFrameHeaderSize - kKeySize; }

}  // namespace

Server::Server(NodePrivateKey key, RandomSource& rng, ServerConfig config)
    : key_(std::move(key)), rng_(rng), config_(config) {}

void Server::HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) {
  Connection c;
  c.id = conn;
  c.remote = remote;
  c.deadline = now + config_.handshake_timeout;
  if (conns_.emplace(conn, std::move(c)).second) ++stats_.connections_accepted;
  deadlines_changed_ = true;
}

void Server::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;  // closed by us; the host's bytes were in flight
  Connection& c = it->second;
  if (c.phase == Phase::kHttp) {
    OnHttp(now, c, bytes);
    return;
  }
  // Frames are parsed where the host read them; what a read leaves of its
  // last frame is copied once the connection has taken all it can.
  c.frames.Borrow(bytes);
  OnFrames(now, conn);
  it = conns_.find(conn);
  if (it != conns_.end()) it->second.frames.Keep();
}

void Server::HandleClosed(Timestamp now, ConnectionId conn) {
  if (conns_.count(conn)) Forget(now, conn, "connection closed by peer");
}

void Server::HandleTimeout(Timestamp now) {
  deadlines_changed_ = true;
  std::vector<ConnectionId> due;
  for (const auto& [id, c] : conns_) {
    if (c.deadline <= now) due.push_back(id);
  }
  for (ConnectionId id : due) {
    Connection& c = MustFind(conns_, id);
    if (c.phase != Phase::kActive) {
      ++stats_.handshake_timeouts;
      events_.push_back({ServerEvent::Kind::kProtocolError, id, c.key,
                         "handshake not finished within " + config_.handshake_timeout.ToString()});
      Close(now, c, "handshake timed out");
      continue;
    }
    Send(c, Encode(KeepAliveFrame{}), false);
    ++stats_.keepalives_sent;
    c.deadline = now + config_.keepalive_interval + c.keepalive_jitter;
  }
}

std::optional<StreamAction> Server::PollStreamAction() {
  if (actions_.empty()) return std::nullopt;
  StreamAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::optional<Timestamp> Server::PollTimeout() const {
  if (deadlines_changed_) {
    earliest_deadline_.reset();
    for (const auto& [id, c] : conns_) {
      if (!earliest_deadline_ || c.deadline < *earliest_deadline_) earliest_deadline_ = c.deadline;
    }
    deadlines_changed_ = false;
  }
  return earliest_deadline_;
}

void Server::HandleWriteBlocked(Timestamp, ConnectionId conn) {
  auto it = conns_.find(conn);
  if (it != conns_.end()) it->second.blocked = true;
}

void Server::HandleWritable(Timestamp, ConnectionId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Connection& c = it->second;
  c.blocked = false;
  stats_.packets_relayed += c.queued_packets;
  stats_.bytes_relayed += c.queued_packet_bytes;
  if (!c.queue.empty()) Write(conn, std::move(c.queue));
  c.queue = Bytes();
  c.queued_frames = 0;
  c.queued_packets = 0;
  c.queued_packet_bytes = 0;
}

void Server::RecycleWriteBuffer(Bytes buffer) {
  if (spare_buffers_.size() >= kMaxSpareBuffers || buffer.capacity() < kWriteReserve ||
      buffer.capacity() > kMaxSpareCapacity) {
    return;
  }
  buffer.clear();
  spare_buffers_.push_back(std::move(buffer));
}

void Server::AnnounceRestart(Timestamp now, Duration reconnect_in, Duration try_for) {
  std::vector<ConnectionId> ids;
  for (auto& [id, c] : conns_) {
    if (c.phase == Phase::kActive) Send(c, Encode(RestartingFrame{reconnect_in, try_for}), false);
    ids.push_back(id);
  }
  for (ConnectionId id : ids) Close(now, MustFind(conns_, id), "server restarting");
}

std::optional<ServerEvent> Server::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<ServerClientView> Server::FindClient(const NodePublicKey& key) const {
  auto it = clients_.find(key);
  if (it == clients_.end()) return std::nullopt;
  const Connection& c = MustFind(conns_, it->second);
  return ServerClientView{c.id, c.remote, c.preferred, c.queue_overflow_drops};
}

void Server::OnHttp(Timestamp now, Connection& c, ByteView bytes) {
  const auto state = c.http.Feed(bytes);
  if (state == HttpHeadReader::State::kNeedMore) return;
  std::string why;
  if (state == HttpHeadReader::State::kError) {
    why = c.http.error();
  } else if (CheckUpgradeRequest(c.http.head(), why)) {
    Bytes out = BuildUpgradeResponse(public_key());
    AppendFrame(out, ServerKeyFrame{public_key()});
    Write(c.id, std::move(out));
    c.phase = Phase::kClientInfo;
    c.frames.Feed(c.http.TakeRest());
    OnFrames(now, c.id);
    return;
  }
  Write(c.id, BuildUpgradeRequiredResponse());
  ProtocolError(now, c, why);
}

void Server::OnFrames(Timestamp now, ConnectionId id) {
  for (;;) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Connection& c = it->second;
    std::optional<FrameView> frame = c.frames.NextView();
    if (!frame) {
      if (c.frames.failed()) ProtocolError(now, c, c.frames.error());
      return;
    }
    if (!OnFrame(now, c, *frame)) return;
  }
}

bool Server::OnFrame(Timestamp now, Connection& c, const FrameView& frame) {
  if (c.phase == Phase::kClientInfo) return OnClientInfo(now, c, frame);
  switch (frame.type) {
    case FrameType::kSendPacket: {
      auto f = SendPacketView::DecodePayload(frame.payload);
      if (!f) {
        ProtocolError(now, c,
                      "malformed SendPacket (" + std::to_string(frame.payload.size()) + " bytes)");
        return false;
      }
      OnSendPacket(now, c, *f);
      return true;
    }
    case FrameType::kNotePreferred: {
      auto f = Decode<NotePreferredFrame>(frame);
      if (!f) {
        ProtocolError(now, c, "malformed NotePreferred");
        return false;
      }
      c.preferred = f->preferred;
      return true;
    }
    case FrameType::kPing: {
      auto f = Decode<PingFrame>(frame);
      if (!f) {
        ProtocolError(now, c, "malformed Ping");
        return false;
      }
      Send(c, Encode(PongFrame{f->data}), false);
      ++stats_.pongs_sent;
      return true;
    }
    case FrameType::kPong:
    case FrameType::kKeepAlive: return true;
    case FrameType::kForwardPacket:
      ProtocolError(now, c, "ForwardPacket from a client that is not a mesh peer");
      return false;
    default: ++stats_.unknown_frames; return true;
  }
}

bool Server::OnClientInfo(Timestamp now, Connection& c, const FrameView& frame) {
  if (frame.type != FrameType::kClientInfo) {
    ProtocolError(now, c, "expected ClientInfo, got " + FrameTypeName(frame.type));
    return false;
  }
  auto info = Decode<ClientInfoFrame>(frame);
  if (!info) {
    ProtocolError(now, c, "malformed ClientInfo");
    return false;
  }
  auto shared = SharedKey::Compute(key_, info->key);
  if (!shared) {
    ProtocolError(now, c, "ClientInfo key " + info->key.ShortString() + " is a low-order point");
    return false;
  }
  auto plain = shared->Open(info->sealed);
  if (!plain) {
    ProtocolError(now, c,
                  "ClientInfo box does not open with the claimed key " + info->key.ShortString());
    return false;
  }
  const auto json = nlohmann::json::parse(plain->begin(), plain->end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    ProtocolError(now, c, "ClientInfo does not hold a JSON object");
    return false;
  }
  c.key = info->key;
  const std::string server_info = nlohmann::json{{"version", kProtocolVersion}}.dump();
  const ByteView server_info_bytes(reinterpret_cast<const uint8_t*>(server_info.data()),
                                   server_info.size());
  Send(c, Encode(ServerInfoFrame{shared->Seal(rng_, server_info_bytes)}), false);
  Register(now, c);
  return true;
}

void Server::Register(Timestamp now, Connection& c) {
  c.phase = Phase::kActive;
  c.keepalive_jitter = rng_.UniformDuration(Duration::Zero(), config_.keepalive_jitter);
  c.deadline = now + config_.keepalive_interval + c.keepalive_jitter;
  deadlines_changed_ = true;
  c.peer_gone_tokens = config_.peer_gone_burst;
  c.peer_gone_refilled = now;
  ++stats_.clients_registered;

  auto it = clients_.find(c.key);
  if (it != clients_.end()) {
    // The newer connection wins; the key stays present, so its peers are not
    // told it left, and what it talked to carries over to the new connection.
    const ConnectionId older = it->second;
    it->second = c.id;
    ++stats_.clients_replaced;
    Close(now, MustFind(conns_, older), "replaced by a newer connection for the same key");
  } else {
    clients_.emplace(c.key, c.id);
  }
  events_.push_back({ServerEvent::Kind::kClientConnected, c.id, c.key, ""});
}

void Server::OnSendPacket(Timestamp now, Connection& c, const SendPacketView& f) {
  auto dst = clients_.find(f.destination);
  if (dst == clients_.end()) {
    ++stats_.packets_dropped_unknown_dest;
    if (AllowPeerGone(now, c)) {
      Send(c, Encode(PeerGoneFrame{f.destination, PeerGoneReason::kNotHere}), false);
      ++stats_.peer_gone_not_here_sent;
    } else {
      ++stats_.peer_gone_not_here_suppressed;
    }
    return;
  }
  NoteTalked(c, f.destination);
  Connection& d = MustFind(conns_, dst->second);
  if (d.blocked) {
    if (!QueueHasRoom(d, true)) return;
    AppendRecvPacket(d.queue, c.key, f.packet);
    ++d.queued_frames;
    ++d.queued_packets;
    d.queued_packet_bytes += f.packet.size();
    return;
  }
  ++stats_.packets_relayed;
  stats_.bytes_relayed += f.packet.size();
  AppendRecvPacket(WriteBuffer(d.id), c.key, f.packet);
}

void Server::NoteTalked(Connection& c, const NodePublicKey& dst) {
  if (c.last_talked == dst) return;
  c.last_talked = dst;
  if (talked_[c.key].insert(dst).second) talked_[dst].insert(c.key);
}

bool Server::AllowPeerGone(Timestamp now, Connection& c) {
  const int64_t interval = config_.peer_gone_interval.nanos();
  if (interval > 0 && c.peer_gone_tokens < config_.peer_gone_burst) {
    const int64_t earned = (now - c.peer_gone_refilled).nanos() / interval;
    if (earned > 0) {
      c.peer_gone_tokens = static_cast<uint32_t>(
          std::min<int64_t>(config_.peer_gone_burst, c.peer_gone_tokens + earned));
      c.peer_gone_refilled = c.peer_gone_refilled + Duration::Nanos(earned * interval);
    }
  }
  // A full bucket earns nothing: the next token is one interval after it is spent.
  if (c.peer_gone_tokens >= config_.peer_gone_burst) c.peer_gone_refilled = now;
  if (c.peer_gone_tokens == 0) return false;
  --c.peer_gone_tokens;
  return true;
}

bool Server::QueueHasRoom(Connection& c, bool is_packet) {
  if (c.queued_frames < config_.send_queue_depth) return true;
  if (is_packet) {
    ++stats_.packets_dropped_queue_overflow;
    ++c.queue_overflow_drops;
  } else {
    ++stats_.control_frames_dropped;
  }
  return false;
}

void Server::Send(Connection& c, Bytes frame, bool is_packet) {
  if (c.blocked) {
    if (!QueueHasRoom(c, is_packet)) return;
    c.queue.insert(c.queue.end(), frame.begin(), frame.end());
    ++c.queued_frames;
    if (is_packet) {
      ++c.queued_packets;
      c.queued_packet_bytes += PacketBytes(frame);
    }
    return;
  }
  if (is_packet) {
    ++stats_.packets_relayed;
    stats_.bytes_relayed += PacketBytes(frame);
  }
  Write(c.id, std::move(frame));
}

void Server::Write(ConnectionId conn, Bytes bytes) {
  if (!actions_.empty() && actions_.back().kind == StreamAction::Kind::kWrite &&
      actions_.back().conn == conn) {
    Bytes& data = actions_.back().data;
    data.insert(data.end(), bytes.begin(), bytes.end());
    return;
  }
  StreamAction a;
  a.kind = StreamAction::Kind::kWrite;
  a.conn = conn;
  a.data = std::move(bytes);
  actions_.push_back(std::move(a));
}

Bytes& Server::WriteBuffer(ConnectionId conn) {
  if (actions_.empty() || actions_.back().kind != StreamAction::Kind::kWrite ||
      actions_.back().conn != conn) {
    StreamAction a;
    a.kind = StreamAction::Kind::kWrite;
    a.conn = conn;
    if (!spare_buffers_.empty()) {
      a.data = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    }
    // Room for a read's worth of relayed frames, so appending rarely reallocates.
    a.data.reserve(kWriteReserve);
    actions_.push_back(std::move(a));
  }
  return actions_.back().data;
}

void Server::ProtocolError(Timestamp now, Connection& c, const std::string& reason) {
  ++stats_.protocol_errors;
  events_.push_back({ServerEvent::Kind::kProtocolError, c.id, c.key, reason});
  Close(now, c, "protocol error: " + reason);
}

void Server::Close(Timestamp now, Connection& c, const std::string& reason) {
  StreamAction a;
  a.kind = StreamAction::Kind::kClose;
  a.conn = c.id;
  a.reason = reason;
  actions_.push_back(std::move(a));
  Forget(now, c.id, reason);
}

void Server::Forget(Timestamp, ConnectionId id, const std::string& reason) {
  auto it = conns_.find(id);
  Connection& c = it->second;
  stats_.packets_dropped_gone += c.queued_packets;
  if (c.phase == Phase::kActive) {
    events_.push_back({ServerEvent::Kind::kClientDisconnected, id, c.key, reason});
    auto holder = clients_.find(c.key);
    if (holder != clients_.end() && holder->second == id) {
      clients_.erase(holder);
      auto talked = talked_.find(c.key);
      if (talked != talked_.end()) {
        for (const NodePublicKey& peer : talked->second) {
          if (peer == c.key) continue;  // it sent to itself
          talked_[peer].erase(c.key);
          auto peer_conn = clients_.find(peer);
          if (peer_conn == clients_.end()) continue;
          Connection& p = MustFind(conns_, peer_conn->second);
          if (p.last_talked == c.key) p.last_talked.reset();
          Send(p, Encode(PeerGoneFrame{c.key, PeerGoneReason::kDisconnected}), false);
          ++stats_.peer_gone_disconnected_sent;
        }
        talked_.erase(talked);
      }
    }
  }
  conns_.erase(it);
  deadlines_changed_ = true;
}

}  // namespace derp
}  // namespace punchlab
