// realio::Host: the POSIX adapter of the one host core (hosts/): it runs a
// DatagramMachine, a StreamMachine, or a machine of both shapes (node::Node,
// derp::RegionNode: pass it twice) on real non-blocking sockets in an
// EventLoop. Everything a host decides — the drain rule, output queues,
// backpressure, accepted ids, the one timer — is hosts::Host's (read
// hosts/include/punchlab/hosts/host.h); this file only moves bytes:
//
// * UDP: AddSocket() takes bound sockets; every datagram read becomes
//   OnDatagram (with the socket's local address, IP_PKTINFO on a wildcard
//   socket), read into one reused buffer; a transmit leaves through the
//   socket whose local endpoint equals transmit.source (or a wildcard one of
//   the same family and port). Receive and send failures are counted, never
//   thrown: UDP loses packets anyway.
// * TCP: Listen() accepts connections; kConnect starts a non-blocking
//   connect. Reads go to the machine, EOF / a reset / any socket error end the
//   connection (HandleClosed). Out of descriptors, a listener pauses briefly.
//
// * TLS: ListenTls() accepts connections that run TLS (OpenSSL, memory BIOs:
//   realio/tls-session.h) under the stream, and a kConnect with a TlsDial
//   dials over TLS. The machine sees plaintext as on any stream and hears
//   HandleConnected only once the handshake is done (a client's certificate
//   checks passed); a handshake that fails or takes longer than
//   Options::tls_handshake_timeout closes the connection — a connect as
//   kConnectFailed, an accepted one without the machine ever hearing of it —
//   and is counted in tls_stats() and told to Options::on_tls_failure.
//
// Options::clock_offset is added to the monotonic clock for every `now`
// handed to the machine and subtracted from its PollTimeout(), so a machine
// can live on another epoch (e.g. the Unix epoch, for wall-clock token
// expiry) while the loop's timers stay monotonic.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "punchlab/hosts/host.h"
#include "realio/event-loop.h"
#include "realio/tcp-socket.h"
#include "realio/tls-context.h"
#include "realio/tls-session.h"
#include "realio/udp-socket.h"

namespace punchlab::realio {

struct HostOptions : hosts::HostOptions {
  Duration clock_offset;
  // A TLS handshake (either side) that is not done by then is given up.
  Duration tls_handshake_timeout = Duration::Seconds(10);
  // Told every TLS handshake that failed, with why (for logs).
  std::function<void(const Endpoint& remote, const std::string& why)> on_tls_failure;
};

struct TlsStats {
  uint64_t handshakes = 0;  // connections that became open
  uint64_t failures = 0;    // handshakes that failed or timed out
  uint64_t broken = 0;      // open connections that ended on a TLS error
  std::string last_failure;
};

class Host final : private hosts::Sockets {
 public:
  static constexpr ConnectionId kFirstAcceptedId = hosts::Host::kFirstAcceptedId;
  using Stats = hosts::Stats;
  using DrainEvents = hosts::Host::DrainEvents;
  using ConnectionHook = hosts::ConnectionHook;
  using Options = HostOptions;

  Host(EventLoop& loop, DatagramMachine& machine, DrainEvents drain_events = {});
  Host(EventLoop& loop, StreamMachine& machine, DrainEvents drain_events = {},
       Options options = {});
  // One machine of both shapes: one host, one timer.
  Host(EventLoop& loop, DatagramMachine& datagrams, StreamMachine& streams,
       DrainEvents drain_events = {}, Options options = {});
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Takes a bound socket; its datagrams go to the machine from now on.
  void AddSocket(UdpSocket socket);
  std::vector<Endpoint> LocalEndpoints() const;
  // Accepts connections on `local` from now on; returns the bound endpoint
  // (port 0 picks one). Throws SocketError.
  Endpoint Listen(const Endpoint& local, int backlog = 128);
  // The same, every accepted connection running TLS with `tls`'s certificate.
  Endpoint ListenTls(const Endpoint& local, std::shared_ptr<const TlsServerContext> tls,
                     int backlog = 128);

  // Runs the drain rule: call it after giving the machine a command.
  void Drain() { core_.Drain(); }

  size_t ConnectionCount() const { return core_.ConnectionCount(); }
  // Bytes accepted from the machine but not yet taken by the kernel.
  size_t PendingOutput(ConnectionId conn) const { return core_.PendingOutput(conn); }
  const Stats& stats() const { return core_.stats(); }
  const TlsStats& tls_stats() const { return tls_stats_; }

 private:
  struct Stream {
    UniqueFd fd;
    bool connecting = false;
    // TLS streams only.
    std::unique_ptr<TlsSession> tls;
    bool accepted = false;     // from a listener (else a connect)
    bool established = false;  // the handshake is done and the core was told
    Endpoint remote;
    Timestamp tls_deadline;  // the handshake must be done by then
    bool reading = true;     // the core's wishes (SetInterest)
    bool want_write = false;
  };
  struct Listener {
    TcpListener socket;
    bool paused = false;
    std::shared_ptr<const TlsServerContext> tls;
  };

  Host(EventLoop& loop, DatagramMachine* datagrams, StreamMachine* streams,
       DrainEvents drain_events, Options options);

  // hosts::Sockets
  Timestamp Now() const override;
  hosts::SendResult SendDatagram(const Transmit& transmit) override;
  bool Connect(ConnectionId conn, const Endpoint& remote) override;
  bool ConnectTls(ConnectionId conn, const Endpoint& remote, const TlsDial& tls) override;
  hosts::WriteResult Write(ConnectionId conn, ByteView bytes) override;
  void SetInterest(ConnectionId conn, bool reading, bool want_write) override;
  void CloseStream(ConnectionId conn, hosts::CloseReason why) override;
  void ArmTimer(std::optional<Timestamp> at) override;

  void OnReadable(UdpSocket& socket);
  void OnListenerReady(Listener& listener);
  void OnStreamReady(ConnectionId conn, short revents);
  void ReadFrom(ConnectionId conn);
  Endpoint ListenOn(const Endpoint& local, int backlog,
                    std::shared_ptr<const TlsServerContext> tls);
  // TLS: hands the session's ciphertext to the socket; false when the
  // connection failed and is gone.
  bool FlushTls(ConnectionId conn);
  // After ciphertext arrived: the handshake's end, plaintext to the core, a
  // close; false when the connection is gone.
  bool DeliverTls(ConnectionId conn);
  hosts::WriteResult WriteTls(ConnectionId conn, Stream& s, ByteView bytes);
  // The handshake failed (why): the connection goes, counted and told.
  void FailTls(ConnectionId conn, const std::string& why, int error);
  void UpdateEvents(ConnectionId conn, const Stream& s);
  void OnTlsTimer();
  void ArmTlsTimer();
  const UdpSocket* SocketFor(const Endpoint& source) const;

  EventLoop& loop_;
  Duration clock_offset_;
  hosts::Host core_;
  // unique_ptr: the loop's callbacks hold a reference that must survive growth.
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::map<ConnectionId, Stream> streams_;
  EventLoop::TimerId timer_;
  EventLoop::TimerId resume_accept_timer_;
  EventLoop::TimerId tls_timer_;  // the earliest handshake deadline
  Duration tls_handshake_timeout_;
  std::function<void(const Endpoint&, const std::string&)> on_tls_failure_;
  std::unique_ptr<TlsClientContext> tls_client_;  // made at the first TLS connect
  TlsStats tls_stats_;
  Bytes datagram_buffer_;
  Bytes read_buffer_;
  Bytes plain_buffer_;  // TLS: plaintext out of one read
};

}  // namespace punchlab::realio
