// Two worlds for the same host tests (wireguard-go style: one test, two
// transports). MemoryWorld runs hosts::Host over in-memory sockets in virtual
// time: datagrams and stream bytes arrive after a fixed latency, a stream
// direction holds at most `window` unread bytes, and a reader can be paused,
// so queueing, watermarks and flushing are exercised deterministically.
// PosixWorld runs realio::Host (the POSIX adapter) on loopback sockets in
// real time; every wait is bounded.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "punchlab/hosts/host.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/udp-socket.h"

namespace punchlab::hosts::testing {

using HostId = size_t;

class World {
 public:
  virtual ~World() = default;
  virtual const char* name() const = 0;
  HostId AddHost(DatagramMachine* datagrams, StreamMachine* streams,
                 Host::DrainEvents drain_events = {}, Host::Options options = {}) {
    return DoAddHost(datagrams, streams, std::move(drain_events), std::move(options));
  }
  virtual HostId DoAddHost(DatagramMachine* datagrams, StreamMachine* streams,
                           Host::DrainEvents drain_events, Host::Options options) = 0;
  // A UDP socket / a TCP listener on loopback with a port of the world's choosing.
  virtual Endpoint BindUdp(HostId host) = 0;
  virtual Endpoint Listen(HostId host) = 0;
  virtual void Drain(HostId host) = 0;
  virtual const Stats& StatsOf(HostId host) const = 0;
  virtual size_t PendingOutput(HostId host, ConnectionId conn) const = 0;
  virtual Timestamp Now() const = 0;
  // Runs until `done()` or a bound (virtual or real); returns done().
  virtual bool RunUntil(const std::function<bool()>& done,
                        Duration bound = Duration::Seconds(10)) = 0;
};

// ---- virtual time ------------------------------------------------------------

class MemoryWorld final : public World {
 public:
  static constexpr Duration kLatency = Duration::Millis(1);
  static constexpr size_t kNoWindow = static_cast<size_t>(-1);

  explicit MemoryWorld(size_t window = kNoWindow) : window_(window) {}
  const char* name() const override { return "memory"; }

  HostId DoAddHost(DatagramMachine* datagrams, StreamMachine* streams,
                   Host::DrainEvents drain_events, Host::Options options) override {
    auto node = std::make_unique<Node>(*this, nodes_.size());
    node->host = std::make_unique<Host>(*node, datagrams, streams, std::move(drain_events),
                                        std::move(options));
    nodes_.push_back(std::move(node));
    return nodes_.size() - 1;
  }
  Endpoint BindUdp(HostId host) override {
    const Endpoint ep = NextEndpoint(host);
    udp_[ep] = host;
    return ep;
  }
  Endpoint Listen(HostId host) override {
    const Endpoint ep = NextEndpoint(host);
    listeners_[ep] = host;
    return ep;
  }
  void Drain(HostId host) override { nodes_.at(host)->host->Drain(); }
  const Stats& StatsOf(HostId host) const override { return nodes_.at(host)->host->stats(); }
  size_t PendingOutput(HostId host, ConnectionId conn) const override {
    return nodes_.at(host)->host->PendingOutput(conn);
  }
  Timestamp Now() const override { return now_; }
  bool RunUntil(const std::function<bool()>& done,
                Duration within = Duration::Seconds(10)) override {
    const Timestamp bound = now_ + within;
    while (!done()) {
      if (!Step(bound)) break;
    }
    return done();
  }

  Host& HostOf(HostId host) { return *nodes_.at(host)->host; }
  // A paused reader takes nothing: its direction fills up to the window.
  void SetReading(HostId host, bool reading) {
    nodes_.at(host)->paused = !reading;
    if (!reading) return;
    // Keys first: a delivery may end a pipe.
    std::vector<PipeKey> keys;
    for (const auto& [key, pipe] : pipes_) {
      if (pipe.to_host == host) keys.push_back(key);
    }
    for (const PipeKey& key : keys) Deliver(key);
  }
  // ArmTimer calls per host (the one-timer rule: one per drain).
  size_t arms(HostId host) const { return nodes_.at(host)->arms; }
  std::optional<Timestamp> timer(HostId host) const { return nodes_.at(host)->timer; }
  std::vector<std::pair<ConnectionId, CloseReason>> closes(HostId host) const {
    return nodes_.at(host)->closes;
  }

 private:
  // One direction of a stream: bytes written by (from_host, from_conn), read
  // by (to_host, to_conn).
  struct Pipe {
    HostId from_host;
    ConnectionId from_conn;
    HostId to_host;
    ConnectionId to_conn;
    std::deque<uint8_t> in_flight;  // written, not yet read
    bool fin = false;               // the writer closed; EOF after in_flight
  };
  using PipeKey = std::pair<HostId, ConnectionId>;  // the writer's end

  struct Node final : Sockets {
    Node(MemoryWorld& w, HostId i) : world(w), id(i) {}
    Timestamp Now() const override { return world.now_; }
    SendResult SendDatagram(const Transmit& t) override {
      auto to = world.udp_.find(t.destination);
      if (world.udp_.count(t.source) == 0 || world.udp_.at(t.source) != id) {
        return {SendStatus::kNoSocket, 0};
      }
      if (to == world.udp_.end()) return {SendStatus::kRefused, 111};
      const HostId dest = to->second;
      world.At(world.now_ + kLatency, [w = &world, dest, t] {
        w->nodes_.at(dest)->host->OnDatagram(w->now_, t.destination, t.source, t.payload);
      });
      return {};
    }
    bool Connect(ConnectionId conn, const Endpoint& remote) override {
      auto server = world.listeners_.find(remote);
      if (server == world.listeners_.end()) return false;
      const HostId server_host = server->second;
      const Endpoint client_ep = world.NextEndpoint(id);
      world.At(world.now_ + kLatency, [w = &world, client = id, conn, server_host, client_ep] {
        Host& s = *w->nodes_.at(server_host)->host;
        if (!s.has_streams()) return;
        const ConnectionId accepted = s.Accept(client_ep);
        w->pipes_[{client, conn}] = Pipe{client, conn, server_host, accepted, {}, false};
        w->pipes_[{server_host, accepted}] = Pipe{server_host, accepted, client, conn, {}, false};
        s.OnConnected(w->now_, accepted);
        w->At(w->now_ + kLatency, [w, client, conn] {
          w->nodes_.at(client)->host->OnConnected(w->now_, conn);
        });
      });
      return true;
    }
    WriteResult Write(ConnectionId conn, ByteView bytes) override {
      auto it = world.pipes_.find({id, conn});
      if (it == world.pipes_.end()) return {0, true, 32};
      Pipe& p = it->second;
      const size_t room = world.window_ == kNoWindow ? bytes.size()
                          : world.window_ > p.in_flight.size() ? world.window_ - p.in_flight.size()
                                                                : 0;
      const size_t n = std::min(room, bytes.size());
      p.in_flight.insert(p.in_flight.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      const PipeKey key{id, conn};
      world.At(world.now_ + kLatency, [w = &world, key] { w->Deliver(key); });
      return {n, false, 0};
    }
    void CloseStream(ConnectionId conn, CloseReason why) override {
      closes.push_back({conn, why});
      auto it = world.pipes_.find({id, conn});
      if (it == world.pipes_.end()) return;
      it->second.fin = true;
      const PipeKey key{id, conn};
      world.At(world.now_ + kLatency, [w = &world, key] { w->Deliver(key); });
      // Our reading end goes away: what the peer writes from now on is lost.
      ForgetReader(it->second.to_host, it->second.to_conn);
    }
    void ForgetReader(HostId peer, ConnectionId peer_conn) {
      auto back = world.pipes_.find({peer, peer_conn});
      if (back != world.pipes_.end()) back->second.to_host = kGone;
    }
    void ArmTimer(std::optional<Timestamp> at) override {
      ++arms;
      timer = at;
    }

    MemoryWorld& world;
    HostId id;
    std::unique_ptr<Host> host;
    bool paused = false;
    size_t arms = 0;
    std::optional<Timestamp> timer;
    std::vector<std::pair<ConnectionId, CloseReason>> closes;
  };
  static constexpr HostId kGone = static_cast<HostId>(-1);

  Endpoint NextEndpoint(HostId host) {
    return Endpoint(IpAddress::V4(10, 0, 0, static_cast<uint8_t>(host + 1)), next_port_++);
  }
  void At(Timestamp t, std::function<void()> fn) { queue_.emplace(std::make_pair(t, seq_++), std::move(fn)); }

  // Hands the reader what the pipe holds (unless it is paused), then EOF.
  void Deliver(const PipeKey& key) {
    auto it = pipes_.find(key);
    if (it == pipes_.end()) return;
    Pipe& p = it->second;
    if (p.to_host == kGone) {
      p.in_flight.clear();
      if (p.fin) pipes_.erase(it);
      return;
    }
    Node& reader = *nodes_.at(p.to_host);
    if (reader.paused) return;
    const HostId writer = p.from_host;
    const ConnectionId writer_conn = p.from_conn;
    const HostId to_host = p.to_host;
    const ConnectionId to_conn = p.to_conn;
    if (!p.in_flight.empty()) {
      const Bytes bytes(p.in_flight.begin(), p.in_flight.end());
      p.in_flight.clear();
      reader.host->OnStream(now_, to_conn, bytes);
      // The writer may have room again.
      if (window_ != kNoWindow && nodes_.at(writer)->host->HasConnection(writer_conn)) {
        nodes_.at(writer)->host->OnWritable(now_, writer_conn);
      }
    }
    it = pipes_.find(key);
    if (it != pipes_.end() && it->second.fin && it->second.in_flight.empty()) {
      pipes_.erase(it);
      // The reader's end is gone too: what it writes back is lost.
      auto back = pipes_.find({to_host, to_conn});
      if (back != pipes_.end()) back->second.to_host = kGone;
      nodes_.at(to_host)->host->OnClosed(now_, to_conn, CloseReason::kPeerClosed);
    }
  }

  // Runs the earliest of: a queued delivery, a host's timer. False when
  // nothing is left before `bound`.
  bool Step(Timestamp bound) {
    std::optional<Timestamp> next;
    std::optional<HostId> timer_host;
    if (!queue_.empty()) next = queue_.begin()->first.first;
    for (const auto& node : nodes_) {
      if (node->timer && (!next || *node->timer < *next)) {
        next = node->timer;
        timer_host = node->id;
      }
    }
    if (!next || *next > bound) return false;
    if (*next > now_) now_ = *next;
    if (timer_host) {
      Node& n = *nodes_.at(*timer_host);
      n.timer.reset();
      n.host->OnTimer(now_);
    } else {
      auto fn = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
      fn();
    }
    return true;
  }

  size_t window_;
  Timestamp now_ = Timestamp::FromNanos(1'000'000'000);
  uint16_t next_port_ = 1000;
  uint64_t seq_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<Endpoint, HostId> udp_;
  std::map<Endpoint, HostId> listeners_;
  std::map<PipeKey, Pipe> pipes_;
  std::map<std::pair<Timestamp, uint64_t>, std::function<void()>> queue_;
};

// ---- real sockets on loopback --------------------------------------------------

class PosixWorld final : public World {
 public:
  const char* name() const override { return "posix"; }
  HostId DoAddHost(DatagramMachine* datagrams, StreamMachine* streams,
                   Host::DrainEvents drain_events, Host::Options options) override {
    realio::Host::Options o;
    static_cast<Host::Options&>(o) = std::move(options);
    std::unique_ptr<realio::Host> host;
    if (datagrams && streams) {
      host = std::make_unique<realio::Host>(loop_, *datagrams, *streams, std::move(drain_events),
                                            std::move(o));
    } else if (datagrams) {
      host = std::make_unique<realio::Host>(loop_, *datagrams, std::move(drain_events));
    } else {
      host = std::make_unique<realio::Host>(loop_, *streams, std::move(drain_events), std::move(o));
    }
    hosts_.push_back(std::move(host));
    return hosts_.size() - 1;
  }
  Endpoint BindUdp(HostId host) override {
    realio::UdpSocket socket = realio::UdpSocket::Bind(kLoopback);
    const Endpoint ep = socket.local();
    hosts_.at(host)->AddSocket(std::move(socket));
    return ep;
  }
  Endpoint Listen(HostId host) override { return hosts_.at(host)->Listen(kLoopback); }
  void Drain(HostId host) override { hosts_.at(host)->Drain(); }
  const Stats& StatsOf(HostId host) const override { return hosts_.at(host)->stats(); }
  size_t PendingOutput(HostId host, ConnectionId conn) const override {
    return hosts_.at(host)->PendingOutput(conn);
  }
  Timestamp Now() const override { return realio::MonotonicNow(); }
  bool RunUntil(const std::function<bool()>& done,
                Duration bound = Duration::Seconds(10)) override {
    const Timestamp deadline = realio::MonotonicNow() + bound;
    while (!done() && realio::MonotonicNow() < deadline) {
      loop_.Run(realio::MonotonicNow() + Duration::Millis(2));
    }
    return done();
  }

 private:
  inline static const Endpoint kLoopback{IpAddress::V4(127, 0, 0, 1), 0};
  realio::EventLoop loop_;
  std::vector<std::unique_ptr<realio::Host>> hosts_;
};

}  // namespace punchlab::hosts::testing
