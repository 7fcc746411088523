// punchlab-node nat-discover: RFC 5780-style NAT behaviour discovery (the
// NatDiscovery machine) on real UDP sockets; prints the NAT's mapping,
// filtering, port assignment and hairpinning in RFC 4787 vocabulary, the
// same words a NAT SPEC uses.
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "punchlab/stun/nat-discovery.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/route-source.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

// The machine needs at least 3 extra sockets to tell sequential from random
// port assignment on an endpoint-independent NAT; more only cost time.
constexpr unsigned kMinExtraSockets = 3;
constexpr unsigned kMaxExtraSockets = 16;
// Steps that wait for a probe one after the other besides the extra sockets:
// test I, filtering (two probes at once), mapping II, mapping III, hairpin.
constexpr unsigned kSequentialSteps = 5;

CommandSpec Spec() {
  CommandSpec spec{
      "nat-discover", "nat-discover SERVER:PORT [options]",
      "Finds out how the NAT in front of this host behaves (RFC 5780 section 4)\n"
      "by asking an RFC 5780 / RFC 3489 STUN server with an alternate address\n"
      "(learned from OTHER-ADDRESS / CHANGED-ADDRESS): filtering, mapping,\n"
      "hairpinning, then port assignment from further sockets. Prints e.g.\n"
      "'mapped=203.0.113.254:4000 mapping=endpoint-independent\n"
      "filtering=address-and-port-dependent ports=preserve hairpin=off'.\n"
      "Exit 0 when the server answered (a report); 1 when it never did (UDP\n"
      "blocked or no server) or refused; 2 on bad flags; 4 when a socket cannot\n"
      "be set up.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("server", po::value<std::string>()->value_name("SERVER:PORT"),
       "the STUN server's primary endpoint (also the positional argument)")
      ("local", po::value<std::string>()->value_name("ADDR:PORT"),
       "main socket (default: the address the route to SERVER uses, any port); the "
       "extra sockets bind the same address on free ports")
      ("extra-sockets", po::value<unsigned>()->default_value(kMinExtraSockets)->value_name("N"),
       "further sockets for the port-assignment verdict (3-16)")
      ("timeout", po::value<std::string>()->default_value("3s")->value_name("DURATION"),
       "give up on each probe this long after its first send")
      ("classic", po::bool_switch(), "send RFC 3489 requests (for classic-only servers)")
      ("json", po::bool_switch(), "print one JSON object instead of text");
  spec.positional.add("server", 1);
  return spec;
}

nlohmann::json OptionalEndpoint(const std::optional<Endpoint>& e) {
  return e ? nlohmann::json(e->ToString()) : nlohmann::json(nullptr);
}

nlohmann::json ToJson(const stun::NatReport& r, const Endpoint& server) {
  nlohmann::json j;
  j["server"] = server.ToString();
  j["local"] = r.local.ToString();
  j["udp_blocked"] = r.udp_blocked;
  j["mapped"] = OptionalEndpoint(r.mapped);
  j["other_address"] = OptionalEndpoint(r.other_address);
  j["behind_nat"] = r.behind_nat();
  j["mapping"] = stun::ToString(r.mapping);
  j["filtering"] = stun::ToString(r.filtering);
  j["port_assignment"] = stun::ToString(r.ports);
  j["hairpin"] = stun::ToString(r.hairpin);
  j["mappings"] = nlohmann::json::array();
  for (const auto& [local, mapped] : r.mappings) {
    j["mappings"].push_back({{"local", local.ToString()}, {"mapped", mapped.ToString()}});
  }
  j["report"] = r.ToString();
  return j;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  if (!vm.count("server")) throw UsageError("missing SERVER:PORT, the STUN server to ask");
  const Endpoint server = ParseEndpointFlag("SERVER:PORT", vm["server"].as<std::string>());
  if (server.port == 0 || server.ip.IsUnspecified()) {
    throw UsageError("SERVER:PORT: '" + server.ToString() + "' is not a reachable server address");
  }
  const unsigned extra = vm["extra-sockets"].as<unsigned>();
  if (extra < kMinExtraSockets || extra > kMaxExtraSockets) {
    throw UsageError("--extra-sockets: must be between 3 and 16");
  }
  stun::BindingOptions binding;
  binding.deadline =
      ParseDurationFlag("--timeout", vm["timeout"].as<std::string>(), kSecondsOrDuration);
  binding.classic = vm["classic"].as<bool>();
  const bool json = vm["json"].as<bool>();
  Endpoint local(realio::RouteSource(server.ip), 0);
  if (vm.count("local")) {
    local = ParseEndpointFlag("--local", vm["local"].as<std::string>());
    if (local.ip.family() != server.ip.family()) {
      throw UsageError("--local: must be the same address family as SERVER:PORT");
    }
  }

  // Bind first: the machine must know every socket's real port.
  std::vector<realio::UdpSocket> sockets;
  sockets.push_back(realio::UdpSocket::Bind(local));
  stun::NatDiscoveryConfig config;
  config.local = sockets.front().local();
  for (unsigned i = 0; i < extra; ++i) {
    sockets.push_back(realio::UdpSocket::Bind(Endpoint(config.local.ip, 0)));
    config.extra_locals.push_back(sockets.back().local());
  }
  config.server = server;
  config.binding = binding;

  realio::OsRandom rng;
  stun::NatDiscovery discovery(rng, config);
  realio::EventLoop loop;
  std::optional<stun::NatReport> report;
  realio::Host host(loop, discovery, [&] {
    while (auto r = discovery.PollEvent()) {
      report = std::move(r);
      loop.Stop();
    }
  });
  for (auto& socket : sockets) host.AddSocket(std::move(socket));
  realio::StopOnSignals stop(loop);

  discovery.Start(realio::MonotonicNow());
  host.Drain();
  // Every probe times out by itself; this bound only guards against a machine
  // that never reports.
  const int64_t steps = kSequentialSteps + extra;
  loop.Run(realio::MonotonicNow() + binding.deadline * steps +
           Duration::Seconds(1));

  const std::string prefix = "punchlab-node nat-discover: ";
  if (!report) {
    const std::string why = stop.received()
                                ? "interrupted by signal " + std::to_string(stop.received())
                                : std::string("no report from the discovery machine");
    std::cerr << prefix << why << "\n";
    return kExitRuntime;
  }
  if (json) {
    std::cout << ToJson(*report, server).dump() << std::endl;
  } else {
    std::cout << report->ToString() << "\n";
  }
  if (report->udp_blocked) {
    std::cerr << prefix << "no answer from " << server.ToString() << " within "
              << binding.deadline.ToString() << ": UDP blocked or no server there\n";
    return kExitExpectationFailed;
  }
  if (!report->mapped) {
    std::cerr << prefix << server.ToString() << " refused the binding request\n";
    return kExitExpectationFailed;
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "nat-discover", "RFC 5780 NAT behaviour discovery: mapping, filtering, ports, hairpin", Run);

}  // namespace
}  // namespace punchlab::cli
