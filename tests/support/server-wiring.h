// One server machine wired to honest client machines and, optionally, to one
// more connection that someone else speaks on ("mallory": a fuzz target's
// input), in memory and at one instant: for tests that check what crosses,
// not when it arrives (the virtual world is for timing). Used by the
// derp-server, derp-client and control-server fuzz targets (their honest
// world) and by the machines' Clone() tests (the same wiring, pointed at the
// clones).
//
// Flush() is the host drain rule: rounds until no machine has an action
// left. Each round calls `before_round` (e.g. drain the server's events, so a
// registration is known before the netmaps it caused are delivered), routes
// the server's actions (mallory's writes to `to_mallory`), then the honest
// clients' (their connects are accepted at once, under ids from 1 up), then
// calls `after_round` (drain the clients' events, check invariants). A
// server action on a connection the wiring never gave it goes to `stray`.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"

namespace punchlab::testsupport {

class ServerWiring {
 public:
  static constexpr ConnectionId kMallory = 9000;

  ServerWiring(StreamMachine& server, const Endpoint& server_address, Timestamp start)
      : server_(server), server_address_(server_address), now_(start) {}

  // `other`'s state (its time, connections and ids) wiring copies of its
  // machines: `server` is a clone of its server and `clients[i]` of the
  // i-th honest client it was given (a set-up snapshot's world, run again
  // per input). Only `stray` of the hooks is copied (a check that holds
  // nothing of the old world); the new world sets the others.
  ServerWiring(const ServerWiring& other, StreamMachine& server,
               const std::vector<StreamMachine*>& clients)
      : stray(other.stray),
        server_(server),
        server_address_(other.server_address_),
        now_(other.now_),
        honest_(other.honest_),
        next_server_conn_(other.next_server_conn_),
        mallory_open_(other.mallory_open_) {
    if (clients.size() != honest_.size()) {
      std::fprintf(stderr, "ServerWiring: %zu clones for %zu clients\n", clients.size(),
                   honest_.size());
      std::abort();
    }
    for (size_t i = 0; i < honest_.size(); ++i) honest_[i].client = clients[i];
  }

  // An honest client machine at `address`; it connects when it asks to.
  void AddHonest(StreamMachine& client, const Endpoint& address) {
    honest_.push_back(Honest{&client, address, 0, 0});
  }

  // The id the server knows an honest client's current connection by (0:
  // it has not connected).
  ConnectionId ServerConn(const StreamMachine& client) const {
    for (const Honest& h : honest_) {
      if (h.client == &client) return h.server_conn;
    }
    return 0;
  }

  Timestamp now() const { return now_; }
  // A command given to any machine at now(), then the drain rule.
  void Do(const std::function<void(Timestamp)>& command) {
    command(now_);
    Flush();
  }

  // Mallory's connection is accepted now, from `from`.
  void OpenMallory(const Endpoint& from) {
    server_.HandleConnected(now_, kMallory, from);
    mallory_open_ = true;
    Flush();
  }
  bool mallory_open() const { return mallory_open_; }
  void MalloryWrites(ByteView bytes) {
    if (!mallory_open_) return;
    server_.HandleStream(now_, kMallory, bytes);
    Flush();
  }
  void MalloryCloses() {
    if (!mallory_open_) return;
    mallory_open_ = false;
    server_.HandleClosed(now_, kMallory);
    Flush();
  }

  // Time passes: every machine whose timeout is due wakes, until none is.
  void Advance(Duration d) {
    now_ += d;
    for (int round = 0; round < 100; ++round) {
      bool due = false;
      if (Wake(server_)) due = true;
      for (Honest& h : honest_) {
        if (Wake(*h.client)) due = true;
      }
      Flush();
      if (!due) break;
    }
  }

  // Returns the number of actions routed.
  int Flush() {
    int routed = 0;
    for (bool progress = true; progress;) {
      progress = false;
      if (before_round) before_round();
      while (std::optional<StreamAction> a = server_.PollStreamAction()) {
        progress = true;
        ++routed;
        FromServer(std::move(*a));
      }
      for (Honest& h : honest_) {
        while (std::optional<StreamAction> a = h.client->PollStreamAction()) {
          progress = true;
          ++routed;
          FromClient(h, std::move(*a));
        }
      }
      if (after_round) after_round();
    }
    return routed;
  }

  // A server action on no connection the wiring holds (the fuzz targets
  // check it is a close of one the server has already forgotten).
  std::function<void(const StreamAction&)> stray;
  std::function<void()> before_round;
  std::function<void()> after_round;
  // The server's writes on mallory's connection (nothing: they go nowhere).
  std::function<void(ByteView)> to_mallory;

 private:
  struct Honest {
    StreamMachine* client;
    Endpoint address;
    ConnectionId client_conn;
    ConnectionId server_conn;
  };

  bool Wake(StreamMachine& m) {
    const std::optional<Timestamp> t = m.PollTimeout();
    if (!t || *t > now_) return false;
    m.HandleTimeout(now_);
    return true;
  }

  void FromClient(Honest& h, StreamAction a) {
    switch (a.kind) {
      case StreamAction::Kind::kConnect:
        h.client_conn = a.conn;
        h.server_conn = next_server_conn_++;
        server_.HandleConnected(now_, h.server_conn, h.address);
        h.client->HandleConnected(now_, h.client_conn, server_address_);
        break;
      case StreamAction::Kind::kWrite: server_.HandleStream(now_, h.server_conn, a.data); break;
      case StreamAction::Kind::kClose: server_.HandleClosed(now_, h.server_conn); break;
    }
  }

  void FromServer(StreamAction a) {
    if (a.conn == kMallory) {
      if (a.kind == StreamAction::Kind::kClose) {
        mallory_open_ = false;
        server_.HandleClosed(now_, kMallory);
      } else if (a.kind == StreamAction::Kind::kWrite && to_mallory) {
        to_mallory(a.data);
      }
      return;
    }
    for (Honest& h : honest_) {
      if (a.conn != h.server_conn) continue;
      if (a.kind == StreamAction::Kind::kWrite) h.client->HandleStream(now_, h.client_conn, a.data);
      if (a.kind == StreamAction::Kind::kClose) h.client->HandleClosed(now_, h.client_conn);
      return;
    }
    if (stray) stray(a);
  }

  StreamMachine& server_;
  Endpoint server_address_;
  Timestamp now_;
  std::vector<Honest> honest_;
  ConnectionId next_server_conn_ = 1;
  bool mallory_open_ = false;
};

}  // namespace punchlab::testsupport
