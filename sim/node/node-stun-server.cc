// punchlab-node stun-server: the StunServer machine on real UDP sockets, so
// real clients (Debian's `stun`, coturn's turnutils_stunclient) can check it.
#include <iostream>
#include <optional>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/stun-rate-limit-flags.h"
#include "punchlab/stun/server.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "stun-server", "stun-server --listen ADDR:PORT [--alternate ADDR:PORT] [options]",
      "Answers STUN Binding requests (RFC 5389/8489, and classic RFC 3489 as sent\n"
      "by Debian's `stun`). With --alternate it listens on all four combinations\n"
      "of the two addresses and two ports and honours CHANGE-REQUEST, as an\n"
      "RFC 5780 / RFC 3489 behaviour-discovery server. Prints one 'listening on'\n"
      "line to stdout when ready; stops on SIGINT/SIGTERM or after --duration.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("listen", po::value<std::string>()->required()->value_name("ADDR:PORT"),
       "primary endpoint A1:P1 (port 0: any free port, only without --alternate)")
      ("alternate", po::value<std::string>()->value_name("ADDR:PORT"),
       "alternate endpoint A2:P2: same family, different address and port")
      ("duration", po::value<std::string>()->value_name("DURATION"), "stop after this long")
      ("software", po::value<std::string>()->default_value("punchlab")->value_name("TEXT"),
       "SOFTWARE attribute in responses (empty: none)");
  AddStunRateLimitOptions(spec.options);
  return spec;
}

// The server machine asserts these; a user typing them wrong deserves a sentence.
void CheckAlternate(const Endpoint& primary, const Endpoint& alternate) {
  if (primary.ip.family() != alternate.ip.family()) {
    throw UsageError("--alternate: must be the same address family as --listen");
  }
  if (primary.ip.IsUnspecified() || alternate.ip.IsUnspecified()) {
    throw UsageError(
        "--alternate: needs specific addresses for both --listen and --alternate, not a wildcard");
  }
  if (primary.ip == alternate.ip || primary.port == alternate.port) {
    throw UsageError("--alternate: must differ from --listen in both address and port (RFC 5780)");
  }
  if (primary.port == 0 || alternate.port == 0) {
    throw UsageError("--alternate: both ports must be given (not 0) when --alternate is used");
  }
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  stun::StunServerConfig config;
  config.primary = ParseEndpointFlag("--listen", vm["listen"].as<std::string>());
  if (vm.count("alternate")) {
    config.alternate = ParseEndpointFlag("--alternate", vm["alternate"].as<std::string>());
    CheckAlternate(config.primary, *config.alternate);
  }
  std::optional<Duration> duration;
  if (vm.count("duration")) {
    duration =
        ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  }
  config.software = vm["software"].as<std::string>();
  config.rate_limit = StunRateLimitFromFlags(vm);

  // Without an alternate, bind first: with port 0 only the socket knows the
  // port the machine must call its own. With one, the machine's
  // LocalEndpoints() (all four address/port combinations) say what to bind.
  std::vector<realio::UdpSocket> sockets;
  if (!config.alternate) {
    sockets.push_back(realio::UdpSocket::Bind(config.primary));
    config.primary = sockets.front().local();
  }
  stun::StunServer server(config);
  if (config.alternate) {
    for (const Endpoint& local : server.LocalEndpoints()) {
      sockets.push_back(realio::UdpSocket::Bind(local));
    }
  }
  realio::EventLoop loop;
  realio::Host host(loop, server);
  for (auto& socket : sockets) host.AddSocket(std::move(socket));
  realio::StopOnSignals stop(loop);

  std::cout << "stun-server listening on";
  for (const Endpoint& local : host.LocalEndpoints()) std::cout << " " << local.ToString();
  std::cout << std::endl;  // flush: tests wait for this line

  const Timestamp deadline = duration ? realio::MonotonicNow() + *duration : Timestamp::Max();
  loop.Run(deadline);

  const auto& s = server.stats();
  const auto& h = host.stats();
  const std::string why =
      stop.received() ? " by signal " + std::to_string(stop.received()) : std::string();
  std::cerr << "stun-server stopped" << why << ": " << s.requests << " requests ("
            << s.classic_requests << " classic), " << s.success_responses << " answered, "
            << s.error_responses << " errors, " << s.changed_responses
            << " from a changed address, " << s.dropped_malformed << " malformed, "
            << s.dropped_not_request << " not requests, " << s.dropped_rate_limited
            << " rate-limited, " << h.send_errors << " send errors\n";
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "stun-server", "answer STUN binding requests (RFC 5389 / 5780 / 3489) on real UDP sockets", Run);

}  // namespace
}  // namespace punchlab::cli
