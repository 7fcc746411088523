// A StreamMachine that says exactly what a test tells it to and records what
// it hears: a misbehaving client, a raw connection a test writes into, or a
// scripted server. Host it in the VirtualWorld, a real-socket host or any
// stream driver; the on_* hooks (called after the input is recorded) let a
// test answer as it goes (echo, greet and close, ...).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "punchlab/bytes.h"
#include "punchlab/stream-machine.h"
#include "support/queued-stream.h"

namespace punchlab {
namespace testsupport {

class RawStream final : public QueuedStreamMachine {
 public:
  void Connect(ConnectionId conn, const Endpoint& remote) {
    Queue(StreamAction::Connect(conn, remote));
  }
  void Write(ConnectionId conn, Bytes bytes) {
    Queue(StreamAction::Write(conn, std::move(bytes)));
  }
  void Close(ConnectionId conn, std::string reason = {}) {
    Queue(StreamAction::Close(conn, std::move(reason)));
  }

  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint& remote) override {
    connected.insert(conn);
    remotes[conn] = remote;
    if (on_connected) on_connected(conn);
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    if (keep_received) {
      Bytes& r = received[conn];
      r.insert(r.end(), bytes.begin(), bytes.end());
    }
    if (on_stream) on_stream(conn, bytes);
  }
  void HandleClosed(Timestamp, ConnectionId conn) override {
    closed.insert(conn);
    if (on_closed) on_closed(conn);
  }

  std::set<ConnectionId> connected;
  std::set<ConnectionId> closed;
  std::map<ConnectionId, Endpoint> remotes;  // as HandleConnected named them
  std::map<ConnectionId, Bytes> received;
  // Off: bytes only go to on_stream (a server echoing megabytes keeps none).
  bool keep_received = true;
  std::function<void(ConnectionId)> on_connected;
  std::function<void(ConnectionId, ByteView)> on_stream;
  std::function<void(ConnectionId)> on_closed;
};

}  // namespace testsupport
}  // namespace punchlab
