// A server machine and its clients wired by hand, in memory and at one
// instant: each client's connect is accepted at once (server ids from 1 up)
// and every write is delivered until no machine has an action left. For
// tests that need machines connected but not the virtual world's timing
// (e.g. the machines' Clone(): the same wiring, pointed at the clones).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"

namespace punchlab::testsupport {

class StarPump {
 public:
  StarPump(StreamMachine& server, const Endpoint& server_address)
      : server_(&server), server_address_(server_address) {}

  void AddClient(StreamMachine& client, const Endpoint& address) {
    clients_.push_back(Client{&client, address, 0, 0});
  }
  // The same connections, for clones of these machines (`clients` in the
  // order they were added).
  StarPump Rewired(StreamMachine& server, const std::vector<StreamMachine*>& clients) const {
    StarPump copy = *this;
    copy.server_ = &server;
    for (size_t i = 0; i < copy.clients_.size() && i < clients.size(); ++i) {
      copy.clients_[i].machine = clients[i];
    }
    return copy;
  }

  // Delivers everything; returns the number of actions routed.
  int Flush(Timestamp now) {
    int routed = 0;
    for (bool progress = true; progress;) {
      progress = false;
      while (std::optional<StreamAction> a = server_->PollStreamAction()) {
        progress = true;
        ++routed;
        for (Client& c : clients_) {
          if (c.server_conn != a->conn) continue;
          if (a->kind == StreamAction::Kind::kWrite) c.machine->HandleStream(now, c.conn, a->data);
          if (a->kind == StreamAction::Kind::kClose) c.machine->HandleClosed(now, c.conn);
        }
      }
      for (Client& c : clients_) {
        while (std::optional<StreamAction> a = c.machine->PollStreamAction()) {
          progress = true;
          ++routed;
          if (a->kind == StreamAction::Kind::kConnect) {
            c.conn = a->conn;
            c.server_conn = next_server_conn_++;
            server_->HandleConnected(now, c.server_conn, c.address);
            c.machine->HandleConnected(now, c.conn, server_address_);
          } else if (a->kind == StreamAction::Kind::kWrite) {
            server_->HandleStream(now, c.server_conn, a->data);
          } else {
            server_->HandleClosed(now, c.server_conn);
          }
        }
      }
    }
    return routed;
  }

 private:
  struct Client {
    StreamMachine* machine;
    Endpoint address;
    ConnectionId conn;
    ConnectionId server_conn;
  };
  StreamMachine* server_;
  Endpoint server_address_;
  std::vector<Client> clients_;
  ConnectionId next_server_conn_ = 1;
};

}  // namespace punchlab::testsupport
