#include "punchlab/derp/server.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "punchlab/crypto/box.h"
#include "must-find.h"
#include "punchlab/disco/message.h"
#include "punchlab/json.h"

namespace punchlab {
namespace derp {
namespace {

// Initial capacity of a write that relayed packets are appended to.
constexpr size_t kWriteReserve = 64 * 1024;
// Recycled write buffers kept, and the largest one worth keeping.
constexpr size_t kMaxSpareBuffers = 16;
constexpr size_t kMaxSpareCapacity = 1024 * 1024;

// A blocked queue compacts its dropped prefix once it is this large and
// at least half the buffer.
constexpr size_t kCompactAfter = 64 * 1024;

}  // namespace

void Server::FrameQueue::Added(size_t start, size_t packet_bytes) {
  starts_.emplace_back(start, packet_bytes);
  packet_bytes_ += packet_bytes;
}

size_t Server::FrameQueue::DropOldest() {
  const size_t dropped = starts_.front().second;
  packet_bytes_ -= dropped;
  starts_.pop_front();
  head_ = starts_.empty() ? buf_.size() : starts_.front().first;
  if (starts_.empty()) {
    buf_.clear();
    head_ = 0;
  } else if (head_ >= kCompactAfter && head_ * 2 >= buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
    for (auto& f : starts_) f.first -= head_;
    head_ = 0;
  }
  return dropped;
}

Bytes Server::FrameQueue::Take() {
  Bytes out;
  if (head_ == 0) {
    out = std::move(buf_);
  } else {
    out.assign(buf_.begin() + static_cast<std::ptrdiff_t>(head_), buf_.end());
  }
  buf_ = Bytes();
  head_ = 0;
  starts_.clear();
  packet_bytes_ = 0;
  return out;
}

Server::Server(NodePrivateKey key, RandomSource& rng, ServerConfig config)
    : key_(std::move(key)), rng_(&rng), config_(config) {}

Server Server::Clone(RandomSource& rng) const { return Server(*this, rng); }

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
      events_.push_back(ProtocolViolation{id, c.key,
                         "handshake not finished within " + config_.handshake_timeout.ToString()});
      Close(now, c, "handshake timed out");
      continue;
    }
    Send(c, Encode(KeepAliveFrame{}));
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
  stats_.packets_relayed += c.disco.frames() + c.packets.frames();
  stats_.bytes_relayed += c.disco.packet_bytes() + c.packets.packet_bytes();
  Bytes out = std::move(c.control);
  c.control = Bytes();
  c.control_frames = 0;
  for (FrameQueue* q : {&c.disco, &c.packets}) {
    if (q->frames() == 0) continue;
    Bytes frames = q->Take();
    if (out.empty()) {
      out = std::move(frames);
    } else {
      out.insert(out.end(), frames.begin(), frames.end());
    }
  }
  if (!out.empty()) Write(conn, std::move(out));
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
    if (c.phase == Phase::kActive) Send(c, Encode(RestartingFrame{reconnect_in, try_for}));
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
  const Connection& c = MustFind(conns_, it->second.back());
  return ServerClientView{c.id, c.remote, c.preferred, c.queue_overflow_drops};
}

void Server::OnHttp(Timestamp now, Connection& c, ByteView bytes) {
  const auto state = c.http.Feed(bytes);
  if (state == HttpHeadReader::State::kNeedMore) return;
  std::string why;
  if (state == HttpHeadReader::State::kError) {
    why = c.http.error();
  } else if (IsProbeRequest(c.http.head())) {
    ++stats_.probes_answered;
    Write(c.id, BuildProbeResponse());
    Close(now, c, "latency probe answered");
    return;
  } else if (CheckUpgradeRequest(c.http.head(), why)) {
    Bytes out = WantsFastStart(c.http.head()) ? Bytes() : BuildUpgradeResponse(public_key());
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
  NoteActivity(c);
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
      Send(c, Encode(PongFrame{f->data}));
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
  const auto json = ParseJson(*plain);
  if (json.is_discarded() || !json.is_object()) {
    ProtocolError(now, c, "ClientInfo does not hold a JSON object");
    return false;
  }
  c.key = info->key;
  const std::string server_info = nlohmann::json{{"version", kProtocolVersion}}.dump();
  const ByteView server_info_bytes(reinterpret_cast<const uint8_t*>(server_info.data()),
                                   server_info.size());
  Send(c, Encode(ServerInfoFrame{shared->Seal(*rng_, server_info_bytes)}));
  Register(now, c);
  return true;
}

void Server::Register(Timestamp now, Connection& c) {
  c.phase = Phase::kActive;
  c.keepalive_jitter = rng_->UniformDuration(Duration::Zero(), config_.keepalive_jitter);
  c.deadline = now + config_.keepalive_interval + c.keepalive_jitter;
  deadlines_changed_ = true;
  c.peer_gone_tokens = config_.peer_gone_burst;
  c.peer_gone_refilled = now;
  ++stats_.clients_registered;

  // A key already held stays held by the older connections too (Tailscale
  // keeps both: the client may be moving networks, and the old connection
  // dies on its own); the newest is the active one until another speaks.
  std::vector<ConnectionId>& holders = clients_[c.key];
  if (!holders.empty()) {
    ++stats_.duplicate_clients;
    c.duplicate = true;
    for (ConnectionId id : holders) MustFind(conns_, id).duplicate = true;
  }
  holders.push_back(c.id);
  events_.push_back(ClientConnected{c.id, c.key});
}

void Server::NoteActivity(const Connection& c) {
  if (!c.duplicate) return;  // the common case: one connection per key
  auto it = clients_.find(c.key);
  if (it == clients_.end() || it->second.size() < 2 || it->second.back() == c.id) return;
  std::vector<ConnectionId>& holders = it->second;
  holders.erase(std::find(holders.begin(), holders.end(), c.id));
  holders.push_back(c.id);
}

void Server::OnSendPacket(Timestamp now, Connection& c, const SendPacketView& f) {
  auto dst = clients_.find(f.destination);
  if (dst == clients_.end()) {
    ++stats_.packets_dropped_unknown_dest;
    // Only disco is answered: Tailscale's clients drop their DERP route to a
    // peer on PeerGone, which must not happen because data raced ahead of a
    // peer's connection.
    if (!disco::LooksLikeDisco(f.packet)) return;
    if (AllowPeerGone(now, c)) {
      Send(c, Encode(PeerGoneFrame{f.destination, PeerGoneReason::kNotHere}));
      ++stats_.peer_gone_not_here_sent;
    } else {
      ++stats_.peer_gone_not_here_suppressed;
    }
    return;
  }
  NoteRelayed(c, f.destination);
  Connection& d = MustFind(conns_, dst->second.back());
  if (d.blocked) {
    Enqueue(d, c.key, f.packet);
    return;
  }
  ++stats_.packets_relayed;
  stats_.bytes_relayed += f.packet.size();
  AppendRecvPacket(WriteBuffer(d.id), c.key, f.packet);
}

void Server::NoteRelayed(Connection& c, const NodePublicKey& dst) {
  if (c.last_relayed_to == dst) return;
  c.last_relayed_to = dst;
  if (receivers_[c.key].insert(dst).second) senders_[dst].insert(c.key);
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

void Server::Enqueue(Connection& d, const NodePublicKey& source, ByteView packet) {
  FrameQueue& q = disco::LooksLikeDisco(packet) ? d.disco : d.packets;
  if (q.frames() >= std::max<size_t>(config_.send_queue_depth, 1)) {
    q.DropOldest();
    ++stats_.packets_dropped_queue_overflow;
    ++d.queue_overflow_drops;
  }
  const size_t start = q.buffer().size();
  AppendRecvPacket(q.buffer(), source, packet);
  q.Added(start, packet.size());
}

void Server::Send(Connection& c, Bytes frame) {
  if (c.blocked) {
    if (c.control_frames >= config_.send_queue_depth) {
      ++stats_.control_frames_dropped;
      return;
    }
    c.control.insert(c.control.end(), frame.begin(), frame.end());
    ++c.control_frames;
    return;
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
  actions_.push_back(StreamAction::Write(conn, std::move(bytes)));
}

Bytes& Server::WriteBuffer(ConnectionId conn) {
  if (actions_.empty() || actions_.back().kind != StreamAction::Kind::kWrite ||
      actions_.back().conn != conn) {
    Bytes buffer;
    if (!spare_buffers_.empty()) {
      buffer = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    }
    // Room for a read's worth of relayed frames, so appending rarely reallocates.
    buffer.reserve(kWriteReserve);
    actions_.push_back(StreamAction::Write(conn, std::move(buffer)));
  }
  return actions_.back().data;
}

void Server::ProtocolError(Timestamp now, Connection& c, const std::string& reason) {
  ++stats_.protocol_errors;
  events_.push_back(ProtocolViolation{c.id, c.key, reason});
  Close(now, c, "protocol error: " + reason);
}

void Server::Close(Timestamp now, Connection& c, const std::string& reason) {
  actions_.push_back(StreamAction::Close(c.id, reason));
  Forget(now, c.id, reason);
}

void Server::Forget(Timestamp, ConnectionId id, const std::string& reason) {
  auto it = conns_.find(id);
  Connection& c = it->second;
  stats_.packets_dropped_gone += c.disco.frames() + c.packets.frames();
  if (c.phase == Phase::kActive) {
    events_.push_back(ClientDisconnected{id, c.key, reason});
    auto holders = clients_.find(c.key);
    if (holders != clients_.end()) {
      auto& ids = holders->second;
      ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
      if (ids.size() == 1) MustFind(conns_, ids.front()).duplicate = false;
      if (ids.empty()) {
        clients_.erase(holders);
        const NodePublicKey key = c.key;
        conns_.erase(it);
        KeyGone(key);
        deadlines_changed_ = true;
        return;
      }
    }
  }
  conns_.erase(it);
  deadlines_changed_ = true;
}

void Server::KeyGone(const NodePublicKey& key) {
  auto receivers = receivers_.find(key);
  if (receivers != receivers_.end()) {
    for (const NodePublicKey& peer : receivers->second) {
      if (peer == key) continue;  // it sent to itself
      senders_[peer].erase(key);
      auto holders = clients_.find(peer);
      if (holders == clients_.end()) continue;
      Send(MustFind(conns_, holders->second.back()), Encode(PeerGoneFrame{key, PeerGoneReason::kDisconnected}));
      ++stats_.peer_gone_disconnected_sent;
    }
    receivers_.erase(receivers);
  }
  auto senders = senders_.find(key);
  if (senders != senders_.end()) {
    for (const NodePublicKey& peer : senders->second) {
      if (peer == key) continue;
      receivers_[peer].erase(key);
      auto holders = clients_.find(peer);
      if (holders == clients_.end()) continue;
      for (ConnectionId id : holders->second) {
        Connection& p = MustFind(conns_, id);
        if (p.last_relayed_to == key) p.last_relayed_to.reset();
      }
    }
    senders_.erase(senders);
  }
}

}  // namespace derp
}  // namespace punchlab
