// The shape of machines that speak over TCP-like byte streams (DERP, control).
// Same handle/poll discipline as DatagramMachine: the host owns the sockets;
// the machine says what to do with them.
//
// Inputs:  HandleConnected(now, conn), HandleStream(now, conn, bytes),
//          HandleClosed(now, conn), HandleTimeout(now).
// Outputs: PollStreamAction() (StreamAction::Connect / Write / Close),
//          PollTimeout(), and the concrete machine's PollEvent().
// Connections are named by a ConnectionId. A client machine that wants a
// connection emits kConnect with a fresh id of its own choosing; a server host
// assigns ids to accepted connections and reports them with HandleConnected.
//
// TLS is the host's business, never the machine's: a kConnect may carry a
// TlsDial (what the host must check of the server's certificate), and the
// host runs TLS under the stream, so the machine still sees plaintext bytes
// and hears HandleConnected only once the TLS handshake is done. ns-3 runs a
// modelled handshake (models/model/tls-model.h); a host that cannot do TLS
// (the virtual test world) fails such a connect at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab {

using ConnectionId = uint64_t;

// How a host dials a connection over TLS, with the meaning of Tailscale's
// tailcfg.DERPNode fields of the same names. The server's certificate must be
// valid for `server_name` (sent as SNI; empty: the remote's IP address is the
// name), checked against the system's roots, unless:
// * cert_name is "sha256-raw:<64 hex>": the certificate is pinned — the leaf
//   certificate's SHA-256 (over its DER bytes) must be this, and nothing else
//   is checked (a self-signed certificate, as in the lab);
// * cert_name is another non-empty name: the certificate must be valid for
//   that name instead of server_name;
// * insecure_for_tests: nothing is checked (tests only; anyone on the path can
//   then read and change the stream).
struct TlsDial {
  std::string server_name;
  std::string cert_name;
  bool insecure_for_tests = false;

  static constexpr const char* kPinPrefix = "sha256-raw:";
  bool operator==(const TlsDial& o) const {
    return server_name == o.server_name && cert_name == o.cert_name &&
           insecure_for_tests == o.insecure_for_tests;
  }
  bool operator!=(const TlsDial& o) const { return !(*this == o); }
};

// What a machine asks its host to do with a connection. Build one with the
// named constructors below (Connect, Write, Close): each sets exactly the
// fields its kind uses. The fields are what hosts read; the struct stays an
// aggregate, so a host or test may still fill it by hand.
struct StreamAction {
  enum class Kind : uint8_t { kConnect, kWrite, kClose };
  Kind kind = Kind::kWrite;
  ConnectionId conn = 0;
  Endpoint remote;     // kConnect: where to connect
  std::optional<TlsDial> tls;  // kConnect: run TLS under the stream (see TlsDial)
  Bytes data;          // kWrite: bytes to append to the stream, in order
  std::string reason;  // kClose: why (logged by hosts)

  // Open connection `conn` (an id of the machine's choosing) to `remote`,
  // over TLS when `tls` is given.
  static StreamAction Connect(ConnectionId conn, const Endpoint& remote,
                              std::optional<TlsDial> tls = std::nullopt) {
    StreamAction a;
    a.kind = Kind::kConnect;
    a.conn = conn;
    a.remote = remote;
    a.tls = std::move(tls);
    return a;
  }
  // Append `data` to `conn`'s stream, after everything written before.
  static StreamAction Write(ConnectionId conn, Bytes data) {
    StreamAction a;
    a.kind = Kind::kWrite;
    a.conn = conn;
    a.data = std::move(data);
    return a;
  }
  // Close `conn` once what was written before has gone; `reason` is logged.
  static StreamAction Close(ConnectionId conn, std::string reason = {}) {
    StreamAction a;
    a.kind = Kind::kClose;
    a.conn = conn;
    a.reason = std::move(reason);
    return a;
  }
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
