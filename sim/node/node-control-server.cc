// punchlab-node control-server: the coordination server (ControlServer) on
// real TCP sockets. Nodes register with tokens from a trusted identity
// provider (`punchlab-node issue-token`), learn the nodes of their own domain
// and the DERP map given here.
//
// The machine runs on Unix time (Host clock_offset =
// realio::UnixEpochOffset()): token expiry is wall-clock time, written by the
// identity provider's host, so the server must judge it by its wall clock.
#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "files/read-whole-file.h"
#include "node/key-log-flags.h"
#include "node/node-keys.h"
#include "punchlab/control/server.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/stop-on-signals.h"
#include "realio/wall-clock.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "control-server",
      "control-server --listen ADDR:PORT --idp-key idpkey:HEX --domains D1,D2 [options]",
      "Runs the coordination server: nodes connect over TCP, prove their node key,\n"
      "register with an identity token (see issue-token) and receive netmaps with\n"
      "the other nodes of their own domain (with --acls: those visible to them)\n"
      "and the DERP map. Tokens are trusted\n"
      "only from the identity providers given, each for its listed domains; their\n"
      "expiry is judged by this host's wall clock (Unix time).\n"
      "Prints one line to stdout when ready:\n"
      "  control-server listening on ADDR:PORT, key nodekey:HEX\n"
      "(nodes need that key), logs registrations to stderr, and prints one line\n"
      "of statistics to stderr when it stops (SIGINT, SIGTERM or --duration).",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("listen", po::value<std::string>()->required()->value_name("ADDR:PORT"),
       "TCP endpoint; port 0 picks a free one")
      ("idp-key", po::value<std::string>()->value_name("idpkey:HEX"),
       "trust this identity provider for --domains")
      ("domains", po::value<std::string>()->value_name("D1,D2"),
       "the domains --idp-key may vouch for")
      ("trust", po::value<std::vector<std::string>>()->composing()->value_name("idpkey:HEX=D1,D2"),
       "another trusted identity provider and its domains (repeatable)")
      ("derp", po::value<std::vector<std::string>>()->composing()
                   ->value_name("ID:NAME:ADDR:PORT[:STUNPORT][@nodekey:HEX]"),
       "a DERP node for the DERP map (repeatable; the same ID again adds a node to "
       "that region; STUNPORT defaults to 3478; with @nodekey:HEX nodes refuse a "
       "server there that presents another key)")
      ("duration", po::value<std::string>()->value_name("DURATION"), "stop after this long")
      ("batch-delay", po::value<std::string>()->value_name("DURATION"),
       "send a domain's changes together, this long after the first (default 0: at once)")
      ("acls", po::value<std::string>()->value_name("FILE"),
       "access rules per domain, JSON {\"DOMAIN\": [{\"src\": [USER|*], \"dst\": [...]}]}, "
       "each DOMAIN one this server serves, listed once: a node of a listed domain is told "
       "only the peers a rule lets it reach or lets reach it; other domains: everyone sees "
       "everyone");
  AddNodeKeyOptions(spec.options);
  AddControlKeyLogOption(spec.options);
  return spec;
}

// The rules of --acls, each for a domain some trusted provider vouches for:
// rules for a domain the server does not serve (a typo of the meant one)
// would leave the meant domain allow-all.
control::AccessRules AccessRulesFromFlag(const std::string& path,
                                         const std::vector<control::TrustedIssuer>& issuers) {
  const std::optional<std::string> text = files::ReadWholeFile(path);
  if (!text) throw UsageError("--acls: cannot read " + path + ": " + std::strerror(errno));
  std::string error;
  std::optional<control::AccessRules> rules = control::ParseAccessRules(*text, error);
  if (!rules) throw UsageError("--acls: " + path + ": " + error);
  std::set<std::string> served;
  for (const control::TrustedIssuer& issuer : issuers) {
    served.insert(issuer.domains.begin(), issuer.domains.end());
  }
  for (const auto& rule : *rules) {
    if (served.count(rule.first) == 0) {
      std::string list;
      for (const std::string& d : served) list += (list.empty() ? "" : ", ") + d;
      throw UsageError("--acls: " + path + ": rules for domain '" + rule.first +
                       "', which this server does not serve (its domains: " + list +
                       "); name a domain of --domains or --trust");
    }
  }
  return std::move(*rules);
}

std::vector<std::string> SplitDomains(const std::string& flag, const std::string& text) {
  std::vector<std::string> domains;
  std::stringstream in(text);
  std::string domain;
  while (std::getline(in, domain, ',')) {
    if (!control::IsValidDomain(domain)) {
      throw UsageError(flag + ": '" + domain +
                       "' is not a domain (1-253 of lowercase a-z, 0-9, '.' and '-')");
    }
    domains.push_back(domain);
  }
  if (domains.empty()) throw UsageError(flag + ": names no domain");
  return domains;
}

std::vector<control::TrustedIssuer> TrustFromFlags(const po::variables_map& vm) {
  std::vector<control::TrustedIssuer> issuers;
  if (vm.count("idp-key") != vm.count("domains")) {
    throw UsageError("--idp-key and --domains: give both or neither");
  }
  if (vm.count("idp-key")) {
    issuers.push_back({ParseVerifyKeyFlag("--idp-key", vm["idp-key"].as<std::string>()),
                       SplitDomains("--domains", vm["domains"].as<std::string>())});
  }
  if (vm.count("trust")) {
    for (const std::string& text : vm["trust"].as<std::vector<std::string>>()) {
      const size_t eq = text.find('=');
      if (eq == std::string::npos) {
        throw UsageError("--trust: '" + text + "' is not idpkey:HEX=D1,D2");
      }
      issuers.push_back({ParseVerifyKeyFlag("--trust", text.substr(0, eq)),
                         SplitDomains("--trust", text.substr(eq + 1))});
    }
  }
  if (issuers.empty()) {
    throw UsageError("no identity provider to trust: give --idp-key with --domains, or --trust");
  }
  return issuers;
}

// "ID:NAME:ADDR:PORT[:STUNPORT][@nodekey:HEX][,OPTION...]"; ADDR may be a
// bracketed IPv6 address; the key, when given, is the one the server must
// present. Options (Tailscale's DERPNode fields): cert=NAME (the name the TLS
// certificate carries, or sha256-raw:HEX to pin it), insecure-for-tests,
// plain-http (no TLS; tests only).
control::DerpMap DerpMapFromFlags(const po::variables_map& vm) {
  control::DerpMap map;
  if (!vm.count("derp")) return map;
  for (std::string text : vm["derp"].as<std::vector<std::string>>()) {
    const std::string form = "--derp: '" + text +
                             "' is not ID:NAME:ADDR:PORT[:STUNPORT][@nodekey:HEX][,cert=NAME]"
                             "[,insecure-for-tests][,plain-http] (e.g. "
                             "1:fra:127.0.0.1:3340:3478,plain-http)";
    control::DerpNode node;
    if (const size_t comma = text.find(','); comma != std::string::npos) {
      std::string options = text.substr(comma + 1) + ",";
      text.resize(comma);
      for (size_t at = 0, next; (next = options.find(',', at)) != std::string::npos; at = next + 1) {
        const std::string option = options.substr(at, next - at);
        if (option == "plain-http") {
          node.plain_http = true;
        } else if (option == "insecure-for-tests") {
          node.insecure_for_tests = true;
        } else if (option.rfind("cert=", 0) == 0 && option.size() > 5) {
          node.cert_name = option.substr(5);
        } else {
          throw UsageError("--derp: unknown option '" + option +
                           "' (cert=NAME, insecure-for-tests, plain-http)");
        }
      }
      if (node.plain_http && (node.insecure_for_tests || !node.cert_name.empty())) {
        throw UsageError("--derp: plain-http takes no TLS option");
      }
    }
    NodePublicKey server_key;
    if (const size_t at = text.find('@'); at != std::string::npos) {
      const auto key = NodePublicKey::Parse(text.substr(at + 1));
      if (!key) throw UsageError("--derp: '" + text.substr(at + 1) + "' is not nodekey:<64 hex>");
      server_key = *key;
      text.resize(at);
    }
    const size_t first = text.find(':');
    const size_t second = first == std::string::npos ? first : text.find(':', first + 1);
    if (second == std::string::npos) throw UsageError(form);
    const std::string id_text = text.substr(0, first);
    const std::string name = text.substr(first + 1, second - first - 1);
    const std::string rest = text.substr(second + 1);
    int id = 0;
    try {
      size_t used = 0;
      id = std::stoi(id_text, &used);
      if (used != id_text.size()) throw UsageError(form);
    } catch (const std::logic_error&) {
      throw UsageError(form);
    }
    if (id <= 0) throw UsageError("--derp: region ID must be a positive integer in '" + text + "'");
    if (name.empty()) throw UsageError(form);
    if (auto endpoint = Endpoint::Parse(rest)) {
      node.derp = *endpoint;
    } else {
      const size_t colon = rest.rfind(':');
      const auto derp = colon == std::string::npos ? std::nullopt : Endpoint::Parse(rest.substr(0, colon));
      int stun_port = 0;
      try {
        size_t used = 0;
        const std::string port_text = colon == std::string::npos ? "" : rest.substr(colon + 1);
        stun_port = std::stoi(port_text, &used);
        if (used != port_text.size()) throw UsageError(form);
      } catch (const std::logic_error&) {
        throw UsageError(form);
      }
      if (!derp || stun_port <= 0 || stun_port > 65535) throw UsageError(form);
      node.derp = *derp;
      node.stun_port = static_cast<uint16_t>(stun_port);
    }
    control::DerpRegion* region = nullptr;
    for (auto& r : map.regions) {
      if (r.id == id) region = &r;
    }
    if (!region) {
      map.regions.push_back({id, name, {}});
      region = &map.regions.back();
    } else if (region->name != name) {
      throw UsageError("--derp: region " + std::to_string(id) + " is called both '" +
                       region->name + "' and '" + name + "'");
    }
    node.public_key = server_key;
    // Nodes are named as Tailscale's are: region id + a letter in order.
    node.name = std::to_string(id) + static_cast<char>('a' + region->nodes.size() % 26);
    region->nodes.push_back(node);
  }
  return map;
}

void LogEvent(const control::ServerEvent& event) {
  std::cerr << "control-server: ";
  if (const auto* reg = std::get_if<control::NodeRegistered>(&event)) {
    std::cerr << "registered " << reg->node.node_key.ToString() << " as " << reg->node.user
              << " in " << reg->domain << ", address " << reg->node.address.ToString() << "\n";
  } else if (const auto* removed = std::get_if<control::NodeRemoved>(&event)) {
    std::cerr << "removed " << removed->node_key.ToString() << " from " << removed->domain << ": "
              << removed->reason << "\n";
  } else if (const auto* refused = std::get_if<control::NodeRefused>(&event)) {
    std::cerr << "refused connection " << refused->conn << ": " << refused->reason << "\n";
  } else if (const auto* closed = std::get_if<control::ConnectionClosed>(&event)) {
    std::cerr << "connection " << closed->conn << " closed: " << closed->reason << "\n";
  }
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  const Endpoint listen = ParseEndpointFlag("--listen", vm["listen"].as<std::string>());
  control::ControlServerConfig config;
  config.trusted_issuers = TrustFromFlags(vm);
  config.derp_map = DerpMapFromFlags(vm);
  config.key_log = ControlKeyLogFromFlags(vm);
  if (vm.count("acls")) {
    config.access_rules =
        AccessRulesFromFlag(vm["acls"].as<std::string>(), config.trusted_issuers);
  }
  if (vm.count("batch-delay")) {
    config.batch_delay = ParseDurationFlag("--batch-delay", vm["batch-delay"].as<std::string>(),
                                           DurationRange{true, Duration::Seconds(60), false});
  }
  std::optional<Duration> duration;
  if (vm.count("duration")) {
    duration =
        ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  }
  realio::OsRandom rng;
  control::ControlServer server(NodeKeyFromFlags(vm, rng), std::move(config), rng);

  realio::EventLoop loop;
  realio::Host::Options options;
  options.clock_offset = realio::UnixEpochOffset();
  realio::Host host(
      loop, server,
      [&] {
        while (auto event = server.PollEvent()) LogEvent(*event);
      },
      std::move(options));
  const Endpoint local = host.Listen(listen);
  realio::StopOnSignals stop(loop);

  std::cout << "control-server listening on " << local.ToString() << ", key "
            << server.public_key().ToString() << std::endl;  // tests wait for it

  const Timestamp deadline = duration ? realio::MonotonicNow() + *duration : Timestamp::Max();
  loop.Run(deadline);

  const auto& s = server.stats();
  const std::string why =
      stop.received() ? " by signal " + std::to_string(stop.received()) : std::string();
  std::cerr << "control-server stopped" << why << ": " << s.connections << " connections, "
            << s.registrations << " registrations, " << s.refused << " refused, "
            << server.node_count() << " nodes registered at exit, " << s.netmaps_sent
            << " netmaps sent, " << s.malformed + s.oversized + s.undecryptable + s.out_of_order
            << " bad frames, " << s.handshake_timeouts + s.idle_timeouts << " timeouts\n";
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "control-server", "run the coordination server (netmaps per domain, token-checked)", Run);

}  // namespace
}  // namespace punchlab::cli
