// punchlab-node derp-server: one DERP region node on real sockets — the DERP
// relay (derp::Server, HTTP upgrade over TLS; plain HTTP with --plain-http) on
// TCP and, with --stun, the STUN server beside it on UDP, as Tailscale's DERP
// nodes run. TLS is realio::Host's (OpenSSL); the relay machine never sees it.
//
// The TCP host reports socket backpressure to the relay: above the host's
// high-water mark a connection is "blocked" and the relay queues its frames
// (send_queue_depth), dropping and counting beyond that, so a client that
// stops reading costs bounded memory.
#include <iostream>
#include <optional>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/node-keys.h"
#include "node/stun-rate-limit-flags.h"
#include "node/tls-flags.h"
#include "punchlab/derp/region-node.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

// A blocked connection holds at most the high-water mark plus one read's
// worth of relayed frames plus a released queue (send_queue_depth frames of
// at most 64 KiB); anything beyond this bound is a host bug or a hostile
// peer, and the connection goes.
constexpr size_t kMaxOutput = 8 * 1024 * 1024;

CommandSpec Spec() {
  CommandSpec spec{
      "derp-server", "derp-server --listen ADDR:PORT [--stun ADDR:PORT] [options]",
      "Relays packets between DERP clients (Tailscale's DERP v2 over TLS, HTTP\n"
      "upgrade on GET /derp; plain HTTP with --plain-http) and, with --stun,\n"
      "answers STUN binding requests on UDP. Prints one line to stdout when ready:\n"
      "  derp-server listening on ADDR:PORT[, stun ADDR:PORT], key nodekey:HEX[, cert sha256-raw:HEX]\n"
      "(the cert part over TLS: what a DERP map pins, --derp ...,cert=sha256-raw:HEX)\n"
      "and one line of statistics to stderr when it stops (SIGINT, SIGTERM or\n"
      "--duration).",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("listen", po::value<std::string>()->required()->value_name("ADDR:PORT"),
       "DERP (TCP) endpoint; port 0 picks a free one")
      ("stun", po::value<std::string>()->value_name("ADDR:PORT"),
       "also answer STUN on this UDP endpoint (Tailscale's port is 3478)")
      ("duration", po::value<std::string>()->value_name("DURATION"), "stop after this long")
      ("send-queue-depth", po::value<size_t>()->default_value(32)->value_name("FRAMES"),
       "frames held per blocked connection before dropping (>= 1)")
      ("verbose", po::bool_switch(), "log every client that connects or leaves to stderr");
  AddNodeKeyOptions(spec.options);
  AddStunRateLimitOptions(spec.options);
  AddTlsServeOptions(spec.options);
  return spec;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  const Endpoint listen = ParseEndpointFlag("--listen", vm["listen"].as<std::string>());
  std::optional<Endpoint> stun_at;
  if (vm.count("stun")) stun_at = ParseEndpointFlag("--stun", vm["stun"].as<std::string>());
  std::optional<Duration> duration;
  if (vm.count("duration")) {
    duration =
        ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  }
  derp::ServerConfig derp_config;
  derp_config.send_queue_depth = vm["send-queue-depth"].as<size_t>();
  if (derp_config.send_queue_depth == 0) throw UsageError("--send-queue-depth: must be at least 1");
  const bool verbose = vm["verbose"].as<bool>();
  const std::shared_ptr<realio::TlsServerContext> tls = TlsServerFromFlags(vm, listen);
  realio::OsRandom rng;
  NodePrivateKey key = NodeKeyFromFlags(vm, rng);

  // Bind before building the machine: with port 0 only the socket knows the
  // port the STUN server must call its own.
  std::optional<realio::UdpSocket> stun_socket;
  stun::StunServerConfig stun_config;
  stun_config.primary = listen;
  stun_config.rate_limit = StunRateLimitFromFlags(vm);
  if (stun_at) {
    stun_socket = realio::UdpSocket::Bind(*stun_at);
    stun_config.primary = stun_socket->local();
  }
  derp::RegionNode node(std::move(key), rng, stun_config, derp_config);

  realio::EventLoop loop;
  realio::Host::Options options;
  options.max_output = kMaxOutput;
  options.on_write_blocked = [&](Timestamp now, ConnectionId conn) {
    node.derp().HandleWriteBlocked(now, conn);
  };
  options.on_writable = [&](Timestamp now, ConnectionId conn) {
    node.derp().HandleWritable(now, conn);
  };
  options.on_tls_failure = [&](const Endpoint& remote, const std::string& why) {
    if (verbose) std::cerr << "derp-server: " << remote.ToString() << ": " << why << "\n";
  };
  // Every read turns into a write of about its size: reuse those buffers.
  options.recycle = [&](Bytes&& spare) { node.derp().RecycleWriteBuffer(std::move(spare)); };
  // The RegionNode is both a StreamMachine (DERP) and a DatagramMachine
  // (STUN): one host, one timer.
  realio::Host host(
      loop, node, node,
      [&] {
        while (auto ev = node.derp().PollEvent()) {
          if (const auto* bad = std::get_if<derp::ProtocolViolation>(&*ev)) {
            std::cerr << "derp-server: connection " << bad->conn << " closed: " << bad->reason
                      << "\n";
          } else if (const auto* joined = std::get_if<derp::ClientConnected>(&*ev)) {
            if (verbose) std::cerr << "derp-server: " << joined->key.ToString() << " connected\n";
          } else if (const auto* left = std::get_if<derp::ClientDisconnected>(&*ev)) {
            if (verbose) {
              std::cerr << "derp-server: " << left->key.ToString() << " left: " << left->reason
                        << "\n";
            }
          }
        }
      },
      std::move(options));
  const Endpoint derp_local = tls ? host.ListenTls(listen, tls) : host.Listen(listen);
  if (stun_socket) host.AddSocket(std::move(*stun_socket));
  realio::StopOnSignals stop(loop);

  std::cout << "derp-server listening on " << derp_local.ToString();
  if (stun_at) std::cout << ", stun " << stun_config.primary.ToString();
  std::cout << ", key " << node.derp().public_key().ToString();
  if (tls) std::cout << ", cert " << tls->CertPin();
  std::cout << std::endl;  // tests wait for it

  const Timestamp deadline = duration ? realio::MonotonicNow() + *duration : Timestamp::Max();
  loop.Run(deadline);

  const auto& d = node.derp().stats();
  const auto& h = host.stats();
  const std::string why =
      stop.received() ? " by signal " + std::to_string(stop.received()) : std::string();
  std::cerr << "derp-server stopped" << why << ": " << d.connections_accepted << " connections, "
            << d.clients_registered << " clients registered, " << d.packets_relayed
            << " packets relayed (" << d.bytes_relayed << " bytes), dropped "
            << d.packets_dropped_unknown_dest << " to unknown peers, "
            << d.packets_dropped_queue_overflow << " on queue overflow, "
            << d.packets_dropped_gone << " for gone peers, " << d.protocol_errors
            << " protocol errors, " << h.write_blocked << " write-blocked, "
            << h.closed_output_overflow << " closed for output overflow, "
            << node.stun().stats().requests << " stun requests, "
            << node.stun().stats().dropped_rate_limited << " stun requests rate-limited";
  if (tls) {
    std::cerr << ", " << host.tls_stats().handshakes << " tls handshakes, "
              << host.tls_stats().failures << " failed";
  }
  std::cerr << "\n";
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "derp-server", "relay packets between DERP clients (TCP), with STUN on UDP", Run);

}  // namespace
}  // namespace punchlab::cli
