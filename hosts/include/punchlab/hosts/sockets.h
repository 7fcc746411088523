// What a host core asks of its world: sockets, a clock and one timer. After
// wireguard-go's conn.Bind: the core decides (what to send, when to flush,
// when to give up on a connection), the world carries out. ns-3 (models/) and
// POSIX (sim/realio) implement it; tests implement it in memory.
//
// Calls go both ways. The core calls these methods; the world calls the
// core's On* inputs (host.h) when a datagram or bytes arrive, a connect
// completes or fails, a socket has room again, a connection ends, or the
// timer fires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"
#include "punchlab/transmit.h"

namespace punchlab::hosts {

// What became of one datagram.
enum class SendStatus : uint8_t {
  kSent,
  kNoSocket,  // transmit.source is none of the host's sockets
  kRefused,   // the socket refused it (full buffer, no route, ...); `error` says why
};
struct SendResult {
  SendStatus status = SendStatus::kSent;
  int error = 0;  // the world's error code (errno, ns-3 Socket::SocketErrno)
};

// What a stream socket took of a write.
struct WriteResult {
  size_t taken = 0;    // bytes accepted, from the front
  bool failed = false; // the socket refused: the connection is dead
  int error = 0;
};

// Why a connection ended.
enum class CloseReason : uint8_t {
  kPeerClosed,      // EOF / FIN
  kError,           // reset, timeout, a refused write
  kConnectFailed,
  kClosedByMachine, // StreamAction::kClose, once the output is flushed
  kOutputOverflow,  // unsent output above Options::max_output
  kDetached,        // the machine was let go (a server crash); see Host::DetachMachine
};
const char* CloseReasonName(CloseReason why);

class Sockets {
 public:
  virtual ~Sockets() = default;

  // The clock every input the core makes up itself (a close, a hook) is
  // stamped with.
  virtual Timestamp Now() const = 0;
  // One datagram from the socket bound at transmit.source.
  virtual SendResult SendDatagram(const Transmit& transmit) = 0;
  // Starts a connect as `conn`; false when it failed at once (no route, bad
  // family). Later: Host::OnConnected or Host::OnClosed(kConnectFailed).
  virtual bool Connect(ConnectionId conn, const Endpoint& remote) = 0;
  // The same over TLS (a kConnect with a TlsDial): the world runs TLS under
  // the stream and calls Host::OnConnected only once the handshake is done
  // and the certificate passed `tls`'s checks, else OnClosed(kConnectFailed).
  // ns-3 runs a modelled handshake (models/model/tls-model.h); a world
  // without TLS (the in-memory worlds) fails it at once.
  virtual bool ConnectTls(ConnectionId /*conn*/, const Endpoint& /*remote*/,
                          const TlsDial& /*tls*/) {
    return false;
  }
  // Hands the socket as much of `bytes` as it takes now, in order.
  virtual WriteResult Write(ConnectionId conn, ByteView bytes) = 0;
  // The core's wishes for a connection changed: it reads (false once the
  // machine closed it), it waits for room to write (call Host::OnWritable).
  // Worlds that report both always (ns-3) ignore it.
  virtual void SetInterest(ConnectionId /*conn*/, bool /*reading*/, bool /*want_write*/) {}
  // The connection is up and about to be told to the machine (for traces).
  virtual void Established(ConnectionId /*conn*/, const Endpoint& /*remote*/) {}
  // The core is done with `conn`: close its socket (unless the world saw it
  // die already) and forget it. May name a connection the world never opened
  // (a connect that failed at once).
  virtual void CloseStream(ConnectionId conn, CloseReason why) = 0;
  // The one timer: fire Host::OnTimer at `at`, replacing any earlier arming;
  // nullopt disarms.
  virtual void ArmTimer(std::optional<Timestamp> at) = 0;
};

}  // namespace punchlab::hosts
