// In-memory, virtual-time host for StreamMachines: listening machines
// ("servers", found by their address) and connecting machines ("clients")
// joined by byte pipes with a fixed one-way latency.
//
// The driver follows the host drain rule: after every input it polls every
// machine's stream actions until none is left. Time only moves when nothing
// is left to do, and then jumps straight to the earliest pending delivery or
// machine timeout. Deliveries at the same instant keep the order they were
// scheduled in, so each direction of a pipe is FIFO like TCP.
//
// kConnect to an address nobody listens on fails after one latency
// (HandleClosed). kClose from one side reaches the other after one latency;
// bytes still in flight towards the closing side are discarded, bytes it
// wrote before closing are still delivered.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "punchlab/stream-machine.h"
#include "support/raw-stream.h"

namespace punchlab {
namespace testing {

class StreamTestDriver {
 public:
  explicit StreamTestDriver(Duration latency = Duration::Millis(10)) : latency_(latency) {}

  void AddServer(const Endpoint& address, StreamMachine& server) {
    servers_[address] = &server;
    machines_.push_back({&server, address});
  }
  void AddClient(const Endpoint& address, StreamMachine& client) {
    machines_.push_back({&client, address});
  }
  // Stops accepting at `address` (existing connections stay); kConnect fails.
  void RemoveServer(const Endpoint& address) { servers_.erase(address); }
  void RestoreServer(const Endpoint& address, StreamMachine& server) {
    servers_[address] = &server;
  }

  Timestamp now() const { return now_; }
  // Writes are cut into segments of at most this many bytes, each delivered
  // as its own HandleStream (at the same instant, in order).
  size_t max_segment = std::numeric_limits<size_t>::max();
  // Called after every step (input + drain), e.g. to drain and timestamp events.
  std::function<void(Timestamp)> observer;

  // Runs every step up to and including `until`, then sets the clock to it.
  void RunUntil(Timestamp until) {
    Drain();
    for (int steps = 0;; ++steps) {
      ASSERT_LT(steps, 10000000) << "driver is not making progress";
      std::optional<Timestamp> next = NextTimeout();
      if (!pending_.empty() && (!next || pending_.top().at <= *next)) next = pending_.top().at;
      if (!next || *next > until) break;
      if (*next > now_) now_ = *next;
      if (!pending_.empty() && pending_.top().at <= now_) {
        Item item = pending_.top();
        pending_.pop();
        Deliver(item);
      } else {
        for (const auto& m : machines_) {
          auto t = m.machine->PollTimeout();
          if (t && *t <= now_) m.machine->HandleTimeout(now_);
        }
      }
      Drain();
      if (observer) observer(now_);
    }
    if (until > now_) now_ = until;
  }
  void RunFor(Duration d) { RunUntil(now_ + d); }

  // The server-side id of a client's connection, once the client asked for it.
  std::optional<ConnectionId> ServerConn(const StreamMachine& client, ConnectionId conn) const {
    auto it = by_end_.find({&client, conn});
    if (it == by_end_.end()) return std::nullopt;
    return links_[it->second].server_conn;
  }

  // The server's host drops the connection: the server is told at once, the
  // client one latency later.
  void CloseFromServer(ConnectionId server_conn) {
    for (size_t i = 0; i < links_.size(); ++i) {
      Link& l = links_[i];
      if (l.server_conn != server_conn || !l.server_open) continue;
      l.server_open = false;
      l.server->HandleClosed(now_, l.server_conn);
      Schedule(now_ + latency_, i, Item::Kind::kClosed, false, {});
    }
    Drain();
  }

  // Lets a test hand inputs to machines outside RunUntil and flush them.
  void Drain() {
    for (bool progress = true; progress;) {
      progress = false;
      for (const auto& m : machines_) {
        while (auto a = m.machine->PollStreamAction()) {
          progress = true;
          OnAction(m, std::move(*a));
        }
      }
    }
  }

 private:
  struct Machine {
    StreamMachine* machine;
    Endpoint address;
  };
  struct Link {
    StreamMachine* client = nullptr;
    ConnectionId client_conn = 0;
    Endpoint client_address;
    StreamMachine* server = nullptr;  // nullptr: the connect failed
    ConnectionId server_conn = 0;
    Endpoint server_address;
    bool client_open = true;
    bool server_open = true;
  };
  struct Item {
    enum class Kind { kConnected, kData, kClosed };
    Timestamp at;
    uint64_t seq = 0;
    size_t link = 0;
    Kind kind = Kind::kData;
    bool to_server = false;
    Bytes bytes;
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  std::optional<Timestamp> NextTimeout() const {
    std::optional<Timestamp> next;
    for (const auto& m : machines_) {
      auto t = m.machine->PollTimeout();
      if (t && (!next || *t < *next)) next = t;
    }
    return next;
  }

  void Schedule(Timestamp at, size_t link, Item::Kind kind, bool to_server, Bytes bytes) {
    Item item;
    item.at = at;
    item.seq = next_seq_++;
    item.link = link;
    item.kind = kind;
    item.to_server = to_server;
    item.bytes = std::move(bytes);
    pending_.push(std::move(item));
  }

  void OnAction(const Machine& from, StreamAction a) {
    if (a.kind == StreamAction::Kind::kConnect) {
      Link l;
      l.client = from.machine;
      l.client_conn = a.conn;
      l.client_address = from.address;
      l.server_address = a.remote;
      auto server = servers_.find(a.remote);
      const size_t index = links_.size();
      if (server == servers_.end()) {
        l.server_open = false;
        links_.push_back(l);
        by_end_[{from.machine, a.conn}] = index;
        Schedule(now_ + latency_, index, Item::Kind::kClosed, false, {});
        return;
      }
      l.server = server->second;
      l.server_conn = next_server_conn_++;
      links_.push_back(l);
      by_end_[{from.machine, a.conn}] = index;
      by_end_[{l.server, l.server_conn}] = index;
      Schedule(now_ + latency_, index, Item::Kind::kConnected, true, {});
      Schedule(now_ + latency_, index, Item::Kind::kConnected, false, {});
      return;
    }
    auto it = by_end_.find({from.machine, a.conn});
    if (it == by_end_.end()) return;
    Link& l = links_[it->second];
    const bool from_server = l.server == from.machine && l.server_conn == a.conn;
    bool& open = from_server ? l.server_open : l.client_open;
    if (!open) return;
    if (a.kind == StreamAction::Kind::kClose) {
      open = false;
      Schedule(now_ + latency_, it->second, Item::Kind::kClosed, !from_server, {});
      return;
    }
    for (size_t off = 0; off < a.data.size(); off += max_segment) {
      const size_t n = std::min(max_segment, a.data.size() - off);
      Bytes seg(a.data.begin() + static_cast<std::ptrdiff_t>(off),
                a.data.begin() + static_cast<std::ptrdiff_t>(off + n));
      Schedule(now_ + latency_, it->second, Item::Kind::kData, !from_server, std::move(seg));
    }
  }

  void Deliver(const Item& item) {
    Link& l = links_[item.link];
    bool& open = item.to_server ? l.server_open : l.client_open;
    if (!open) return;
    StreamMachine* to = item.to_server ? l.server : l.client;
    const ConnectionId conn = item.to_server ? l.server_conn : l.client_conn;
    switch (item.kind) {
      case Item::Kind::kConnected:
        to->HandleConnected(now_, conn, item.to_server ? l.client_address : l.server_address);
        break;
      case Item::Kind::kData: to->HandleStream(now_, conn, item.bytes); break;
      case Item::Kind::kClosed:
        open = false;
        to->HandleClosed(now_, conn);
        break;
    }
  }

  Duration latency_;
  Timestamp now_;
  std::vector<Machine> machines_;
  std::map<Endpoint, StreamMachine*> servers_;
  std::vector<Link> links_;
  std::map<std::pair<const StreamMachine*, ConnectionId>, size_t> by_end_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pending_;
  uint64_t next_seq_ = 0;
  ConnectionId next_server_conn_ = 1000;
};

// A scripted StreamMachine, shared with the other suites.
using RawStream = testsupport::RawStream;

}  // namespace testing
}  // namespace punchlab
