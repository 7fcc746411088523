// A StreamMachine that says exactly what a test tells it to and records what
// it hears: a misbehaving client, a raw connection a test writes into, or a
// scripted server. Host it in the VirtualWorld (or any stream driver).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/stream-machine.h"

namespace punchlab {
namespace testsupport {

class RawStream final : public StreamMachine {
 public:
  void Connect(ConnectionId conn, const Endpoint& remote) {
    StreamAction a;
    a.kind = StreamAction::Kind::kConnect;
    a.conn = conn;
    a.remote = remote;
    actions_.push_back(std::move(a));
  }
  void Write(ConnectionId conn, Bytes bytes) {
    StreamAction a;
    a.kind = StreamAction::Kind::kWrite;
    a.conn = conn;
    a.data = std::move(bytes);
    actions_.push_back(std::move(a));
  }
  void Close(ConnectionId conn) {
    StreamAction a;
    a.kind = StreamAction::Kind::kClose;
    a.conn = conn;
    actions_.push_back(std::move(a));
  }

  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) override {
    connected.insert(conn);
    if (on_connected) on_connected(conn);
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    Bytes& r = received[conn];
    r.insert(r.end(), bytes.begin(), bytes.end());
  }
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.insert(conn); }
  void HandleTimeout(Timestamp) override {}
  std::optional<StreamAction> PollStreamAction() override {
    if (actions_.empty()) return std::nullopt;
    StreamAction a = std::move(actions_.front());
    actions_.erase(actions_.begin());
    return a;
  }
  std::optional<Timestamp> PollTimeout() const override { return std::nullopt; }

  std::set<ConnectionId> connected;
  std::set<ConnectionId> closed;
  std::map<ConnectionId, Bytes> received;
  std::function<void(ConnectionId)> on_connected;

 private:
  std::vector<StreamAction> actions_;
};

}  // namespace testsupport
}  // namespace punchlab
