// An in-memory, virtual-time network of StreamMachines for unit tests.
//
// Machines are servers (accept connections at an endpoint) or clients (open
// them). Every hop takes `latency`; bytes on a connection arrive in order; a
// close reaches the other side after the bytes sent before it. The clock
// jumps to the earliest pending delivery or machine timeout, so no test
// sleeps. Every byte written is kept per connection and direction, for tests
// that look at the wire. Tests can also open raw connections (no machine on
// the near end) to feed a server arbitrary bytes, cut connections, or make
// them silently lose everything.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "punchlab/stream-machine.h"

namespace punchlab::testing {

class StreamTestDriver {
 public:
  using LinkId = size_t;
  // Called after every input to a machine, to drain its concrete events.
  using Drain = std::function<void(Timestamp)>;

  explicit StreamTestDriver(Duration latency = Duration::Millis(10)) : latency_(latency) {}

  void AddServer(StreamMachine* m, const Endpoint& listen, Drain drain = {}) {
    machines_.push_back({m, listen, true, std::move(drain)});
  }
  void AddClient(StreamMachine* m, const Endpoint& local, Drain drain = {}) {
    machines_.push_back({m, local, false, std::move(drain)});
  }

  Timestamp now() const { return now_; }

  // Runs a command on a machine (e.g. client.Register) at the current time,
  // then collects what it wants done.
  void Do(StreamMachine* m, const std::function<void(Timestamp)>& command) {
    command(now_);
    Pump(IndexOf(m));
  }

  // Processes every delivery and timeout up to now + d; the clock ends there.
  void RunFor(Duration d) {
    const Timestamp end = now_ + d;
    for (size_t steps = 0;; ++steps) {
      if (steps > kMaxSteps) throw std::runtime_error("stream test driver: no progress");
      std::optional<Timestamp> next;
      if (!queue_.empty()) next = queue_.begin()->first.at;
      for (const Machine& mc : machines_) {
        auto t = mc.m->PollTimeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > end) break;
      if (*next > now_) now_ = *next;
      if (!queue_.empty() && queue_.begin()->first.at <= now_) {
        Deliver();
      } else {
        for (size_t i = 0; i < machines_.size(); ++i) {
          auto t = machines_[i].m->PollTimeout();
          if (t && *t <= now_) {
            machines_[i].m->HandleTimeout(now_);
            Pump(i);
          }
        }
      }
    }
    now_ = end;
  }

  // A connection from `from` with no machine behind it, to a server at `to`.
  LinkId OpenRaw(const Endpoint& from, const Endpoint& to) {
    const size_t server = ServerAt(to);
    Link l;
    l.client = kNone;
    l.server = server;
    l.client_addr = from;
    l.server_conn = next_server_conn_++;
    links_.push_back(l);
    const LinkId id = links_.size() - 1;
    Schedule(now_ + latency_, server, l.server_conn, Item::kConnected, {}, from);
    return id;
  }
  // Bytes written on a raw connection's near end; on a machine's connection,
  // bytes injected into its stream to the server (after what it sent so far).
  void WriteRaw(LinkId id, const Bytes& data) {
    Link& l = links_.at(id);
    Append(l.to_server, data);
    if (!l.blackholed) Schedule(now_ + latency_, l.server, l.server_conn, Item::kData, data, {});
  }
  // Both ends learn at once that the connection is gone (reset, host died).
  void Cut(LinkId id) {
    Link& l = links_.at(id);
    if (l.client != kNone && l.client_open) Schedule(now_, l.client, l.client_conn, Item::kClosed);
    if (l.server_open) Schedule(now_, l.server, l.server_conn, Item::kClosed);
  }
  // From now on nothing sent either way arrives and nobody is told.
  void Blackhole(LinkId id) { links_.at(id).blackholed = true; }

  // Wire bytes of a connection, in each direction.
  const Bytes& ToServer(LinkId id) const { return links_.at(id).to_server; }
  const Bytes& ToClient(LinkId id) const { return links_.at(id).to_client; }
  // Whether the server's end is still open (it has not closed or seen a close).
  bool ServerOpen(LinkId id) const { return links_.at(id).server_open; }
  // Connections a client machine has opened, oldest first.
  std::vector<LinkId> LinksOf(const StreamMachine* client) const {
    std::vector<LinkId> out;
    for (LinkId i = 0; i < links_.size(); ++i) {
      if (links_[i].client != kNone && machines_[links_[i].client].m == client) out.push_back(i);
    }
    return out;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  static constexpr size_t kMaxSteps = 1000000;

  struct Machine {
    StreamMachine* m;
    Endpoint addr;
    bool listening;
    Drain drain;
  };
  struct Link {
    size_t client = kNone;  // kNone: raw, driven by the test
    size_t server = kNone;
    ConnectionId client_conn = 0;
    ConnectionId server_conn = 0;
    Endpoint client_addr;
    bool client_open = true;
    bool server_open = true;
    bool blackholed = false;
    Bytes to_server;
    Bytes to_client;
  };
  struct Item {
    enum Kind { kConnected, kData, kClosed };
    size_t machine;
    ConnectionId conn;
    Kind kind;
    Bytes data;
    Endpoint remote;
  };
  struct Key {
    Timestamp at;
    uint64_t seq;
    bool operator<(const Key& o) const { return at != o.at ? at < o.at : seq < o.seq; }
  };

  size_t IndexOf(const StreamMachine* m) const {
    for (size_t i = 0; i < machines_.size(); ++i) {
      if (machines_[i].m == m) return i;
    }
    throw std::logic_error("stream test driver: unknown machine");
  }
  size_t ServerAt(const Endpoint& e) const {
    for (size_t i = 0; i < machines_.size(); ++i) {
      if (machines_[i].listening && machines_[i].addr == e) return i;
    }
    return kNone;
  }
  // The link and whether `machine` is its client end.
  std::optional<std::pair<LinkId, bool>> Find(size_t machine, ConnectionId conn) const {
    for (LinkId i = 0; i < links_.size(); ++i) {
      if (links_[i].client == machine && links_[i].client_conn == conn) return {{i, true}};
      if (links_[i].server == machine && links_[i].server_conn == conn) return {{i, false}};
    }
    return std::nullopt;
  }
  static void Append(Bytes& to, const Bytes& data) { to.insert(to.end(), data.begin(), data.end()); }

  void Schedule(Timestamp at, size_t machine, ConnectionId conn, Item::Kind kind, Bytes data = {},
                Endpoint remote = {}) {
    queue_.emplace(Key{at, seq_++}, Item{machine, conn, kind, std::move(data), remote});
  }

  void Deliver() {
    Item item = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    auto found = Find(item.machine, item.conn);
    if (!found) return;
    Link& l = links_[found->first];
    bool& open = found->second ? l.client_open : l.server_open;
    if (!open) return;  // this end already closed: nothing reaches its machine
    StreamMachine* m = machines_[item.machine].m;
    switch (item.kind) {
      case Item::kConnected: m->HandleConnected(now_, item.conn, item.remote); break;
      case Item::kData: m->HandleStream(now_, item.conn, item.data); break;
      case Item::kClosed:
        open = false;
        m->HandleClosed(now_, item.conn);
        break;
    }
    Pump(item.machine);
  }

  // Carries out everything machine `i` asks for, then drains its events.
  void Pump(size_t i) {
    while (auto a = machines_[i].m->PollStreamAction()) {
      if (a->kind == StreamAction::Kind::kConnect) {
        const size_t server = ServerAt(a->remote);
        Link l;
        l.client = i;
        l.server = server;
        l.client_conn = a->conn;
        l.server_conn = next_server_conn_++;
        l.client_addr = machines_[i].addr;
        links_.push_back(l);
        if (server == kNone) {
          Schedule(now_ + latency_, i, a->conn, Item::kClosed);  // refused
        } else {
          Schedule(now_ + latency_, server, l.server_conn, Item::kConnected, {}, l.client_addr);
          Schedule(now_ + latency_ * 2, i, a->conn, Item::kConnected, {}, a->remote);
        }
        continue;
      }
      auto found = Find(i, a->conn);
      if (!found) continue;
      Link& l = links_[found->first];
      const bool from_client = found->second;
      bool& mine = from_client ? l.client_open : l.server_open;
      if (!mine) continue;
      const size_t peer = from_client ? l.server : l.client;
      const ConnectionId peer_conn = from_client ? l.server_conn : l.client_conn;
      if (a->kind == StreamAction::Kind::kWrite) {
        Append(from_client ? l.to_server : l.to_client, a->data);
        if (peer != kNone && !l.blackholed) {
          Schedule(now_ + latency_, peer, peer_conn, Item::kData, std::move(a->data));
        }
      } else {
        mine = false;
        if (peer != kNone && !l.blackholed) Schedule(now_ + latency_, peer, peer_conn, Item::kClosed);
      }
    }
    if (machines_[i].drain) machines_[i].drain(now_);
  }

  Duration latency_;
  Timestamp now_;
  std::vector<Machine> machines_;
  std::vector<Link> links_;
  std::map<Key, Item> queue_;
  uint64_t seq_ = 0;
  ConnectionId next_server_conn_ = 1000;
};

}  // namespace punchlab::testing
