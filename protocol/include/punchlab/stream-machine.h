// The shape of machines that speak over TCP-like byte streams (DERP, control).
// Same handle/poll discipline as DatagramMachine: the host owns the sockets;
// the machine says what to do with them.
//
// Inputs:  HandleConnected(now, conn), HandleStream(now, conn, bytes),
//          HandleClosed(now, conn), HandleTimeout(now).
// Outputs: PollStreamAction() (connect / write / close), PollTimeout(), and the
//          concrete machine's PollEvent().
// Connections are named by a ConnectionId. A client machine that wants a
// connection emits kConnect with a fresh id of its own choosing; a server host
// assigns ids to accepted connections and reports them with HandleConnected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab {

using ConnectionId = uint64_t;

struct StreamAction {
  enum class Kind : uint8_t { kConnect, kWrite, kClose };
  Kind kind = Kind::kWrite;
  ConnectionId conn = 0;
  Endpoint remote;     // kConnect: where to connect
  Bytes data;          // kWrite: bytes to append to the stream, in order
  std::string reason;  // kClose: why (logged by hosts)
};

class StreamMachine {
 public:
  virtual ~StreamMachine() = default;
  // A connection is established: accepted (server) or connected (client).
  virtual void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) = 0;
  // Bytes arrived, in order; framing is the machine's business.
  virtual void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) = 0;
  // The peer closed, the connect failed, or the host gave up on the connection.
  virtual void HandleClosed(Timestamp now, ConnectionId conn) = 0;
  virtual void HandleTimeout(Timestamp now) = 0;
  virtual std::optional<StreamAction> PollStreamAction() = 0;
  virtual std::optional<Timestamp> PollTimeout() const = 0;
};

}  // namespace punchlab
