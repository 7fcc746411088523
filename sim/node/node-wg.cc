// punchlab-node wg: a WireGuard endpoint statically configured with one peer
// (its key and endpoint; no control plane, no disco), with a tiny host inside
// the tunnel that answers pings and can send its own. It is how the interop
// tests hold protocol/wireguard against Debian's wireguard-go and wg.
#include <sodium.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/wg-tunnel.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/sodium.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"
#include "realio/wall-clock.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "wg", "wg --listen ADDR:PORT --private-key KEY --peer KEY [--endpoint ADDR:PORT] --address IP [options]",
      "A WireGuard endpoint (protocol/wireguard) with one statically configured\n"
      "peer, carrying IPv4 inside the tunnel: it answers ICMP echo requests to\n"
      "--address and, with --ping, sends its own. Keys are wg(8)'s base64 or\n"
      "punchlab's text (privkey:<hex>, nodekey:<hex>). Prints a 'wg listening on'\n"
      "line with its public key when ready and a line per handshake; on\n"
      "SIGINT/SIGTERM or after --duration, one JSON line of counters.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("listen", po::value<std::string>()->required()->value_name("ADDR:PORT"), "UDP endpoint to bind")
      ("private-key", po::value<std::string>()->required()->value_name("KEY"), "our static private key")
      ("peer", po::value<std::string>()->required()->value_name("KEY"), "the peer's static public key")
      ("endpoint", po::value<std::string>()->value_name("ADDR:PORT"),
       "the peer's endpoint (without it, learnt from the peer's first handshake)")
      ("preshared-key", po::value<std::string>()->value_name("KEY"), "optional preshared key (base64 or hex)")
      ("address", po::value<std::string>()->required()->value_name("IP"), "our IPv4 address inside the tunnel")
      ("ping", po::value<std::string>()->value_name("IP"), "send echo requests to this tunnel address")
      ("ping-count", po::value<uint32_t>()->default_value(5), "how many echo requests")
      ("ping-interval", po::value<std::string>()->default_value("200ms")->value_name("DURATION"),
       "between echo requests")
      ("persistent-keepalive", po::value<std::string>()->value_name("DURATION"),
       "send a keepalive after this long without sending (default: off)")
      ("under-load-after", po::value<uint32_t>()->default_value(128),
       "handshake messages per second beyond which cookies are demanded (0: always)")
      ("duration", po::value<std::string>()->value_name("DURATION"), "stop after this long");
  return spec;
}

// wg(8)'s base64 (44 characters) or 64 hex digits after an optional prefix.
std::optional<wireguard::Key32> DecodeKey(const std::string& text) {
  wireguard::Key32 key{};
  EnsureSodium();
  size_t len = 0;
  if (text.size() == 44 &&
      sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) == 0 &&
      len == key.size()) {
    return key;
  }
  const std::string hex = text.substr(text.find(':') == std::string::npos ? 0 : text.find(':') + 1);
  if (hex.size() == 64 && sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &len,
                                         nullptr) == 0 && len == key.size()) {
    return key;
  }
  return std::nullopt;
}

wireguard::Key32 KeyFlag(const std::string& flag, const std::string& text) {
  auto key = DecodeKey(text);
  if (!key) throw UsageError(flag + ": expected a 32-byte key as wg's base64 (44 characters) or 64 hex digits");
  return *key;
}

std::string Base64(const wireguard::Key32& key) {
  char out[64];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

IpAddress Ipv4Flag(const std::string& flag, const std::string& text) {
  auto ip = IpAddress::Parse(text);
  if (!ip || !ip->is_v4()) throw UsageError(flag + ": expected an IPv4 address, got '" + text + "'");
  return *ip;
}

nlohmann::json Counters(const WgTunnel& tunnel, const wireguard::Key32& peer) {
  const auto& p = *tunnel.device().counters(peer);
  const auto& d = tunnel.device().counters();
  const auto& t = tunnel.stats();
  return nlohmann::json{
      {"initiations_sent", p.initiations_sent}, {"handshakes", p.handshakes}, {"rekeys", p.rekeys},
      {"handshake_timeouts", p.handshake_timeouts}, {"keepalives_sent", p.keepalives_sent},
      {"keepalives_received", p.keepalives_received}, {"data_sent", p.data_sent},
      {"data_received", p.data_received}, {"replayed", p.replayed}, {"late", p.late},
      {"cookies_received", p.cookies_received}, {"malformed", d.malformed}, {"bad_mac1", d.bad_mac1},
      {"bad_mac2", d.bad_mac2}, {"cookie_replies_sent", d.cookie_replies_sent},
      {"rate_limited", d.rate_limited}, {"unknown_peer", d.unknown_peer},
      {"handshake_failed", d.handshake_failed}, {"timestamp_replayed", d.timestamp_replayed},
      {"unknown_index", d.unknown_index}, {"decrypt_failed", d.decrypt_failed},
      {"echo_requests_answered", t.echo_requests_answered}, {"echo_requests_sent", t.echo_requests_sent},
      {"echo_replies_received", t.echo_replies_received}};
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  WgTunnelConfig config;
  config.device.private_key = KeyFlag("--private-key", vm["private-key"].as<std::string>());
  config.device.unix_offset = realio::UnixEpochOffset();
  config.device.under_load_after = vm["under-load-after"].as<uint32_t>();
  config.peer.public_key = KeyFlag("--peer", vm["peer"].as<std::string>());
  if (vm.count("preshared-key")) {
    config.peer.preshared_key = KeyFlag("--preshared-key", vm["preshared-key"].as<std::string>());
  }
  if (vm.count("endpoint")) config.peer.endpoint = ParseEndpointFlag("--endpoint", vm["endpoint"].as<std::string>());
  if (vm.count("persistent-keepalive")) {
    config.peer.persistent_keepalive = ParseDurationFlag(
        "--persistent-keepalive", vm["persistent-keepalive"].as<std::string>(), kSecondsOrDuration);
  }
  config.tunnel_address = Ipv4Flag("--address", vm["address"].as<std::string>());
  if (vm.count("ping")) config.ping = Ipv4Flag("--ping", vm["ping"].as<std::string>());
  config.ping_count = vm["ping-count"].as<uint32_t>();
  config.ping_interval =
      ParseDurationFlag("--ping-interval", vm["ping-interval"].as<std::string>(), kSecondsOrDuration);
  std::optional<Duration> duration;
  if (vm.count("duration")) {
    duration = ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  }

  realio::UdpSocket socket = realio::UdpSocket::Bind(ParseEndpointFlag("--listen", vm["listen"].as<std::string>()));
  config.local = socket.local();
  realio::OsRandom rng;
  WgTunnel tunnel(config, rng, [](const std::string& line) { std::cout << line << std::endl; });
  realio::EventLoop loop;
  realio::Host host(loop, tunnel);
  host.AddSocket(std::move(socket));
  realio::StopOnSignals stop(loop);

  std::cout << "wg listening on " << config.local.ToString() << " public key "
            << Base64(tunnel.device().public_key()) << std::endl;  // flush: tests wait for this line
  tunnel.Start(realio::MonotonicNow());
  host.Drain();

  const Timestamp deadline = duration ? realio::MonotonicNow() + *duration : Timestamp::Max();
  loop.Run(deadline);

  nlohmann::json out = Counters(tunnel, config.peer.public_key);
  out["send_errors"] = host.stats().send_errors;
  std::cout << "wg stopped " << out.dump() << std::endl;
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "wg", "a WireGuard endpoint with one static peer (interop with wireguard-go)", Run);

}  // namespace
}  // namespace punchlab::cli
