// punchlab-node stun-probe: one STUN binding transaction through the
// StunClient machine on a real UDP socket; prints what the server saw.
#include <nlohmann/json.hpp>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "punchlab/overloaded.h"
#include "punchlab/stun/client.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/route-source.h"
#include "realio/socket-error.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

CommandSpec Spec() {
  CommandSpec spec{
      "stun-probe", "stun-probe SERVER:PORT [options]",
      "Sends one STUN Binding request (retransmitted at 0, 100, 300, 700, 1500 ms)\n"
      "and prints the mapped address the server saw and the round-trip time.\n"
      "Exit 0 on a success response; 1 on a timeout or an error response;\n"
      "2 on bad flags; 4 when the socket cannot be set up.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("server", po::value<std::string>()->value_name("SERVER:PORT"),
       "the STUN server (also the positional argument)")
      ("local", po::value<std::string>()->value_name("ADDR:PORT"),
       "bind here (default: the address the route to SERVER uses, any port)")
      ("timeout", po::value<std::string>()->default_value("3s")->value_name("DURATION"),
       "give up this long after the first send")
      ("change-ip", po::bool_switch(), "CHANGE-REQUEST: ask for the answer from the other IP")
      ("change-port", po::bool_switch(), "CHANGE-REQUEST: ask for the answer from the other port")
      ("classic", po::bool_switch(), "send an RFC 3489 request (16-byte id, no magic cookie)")
      ("json", po::bool_switch(), "print one JSON object instead of text");
  spec.positional.add("server", 1);
  return spec;
}

double Millis(Duration d) { return std::round(d.millis() * 1000.0) / 1000.0; }

const char* ResultName(const stun::StunClientEvent& ev) {
  return std::visit(Overloaded{
                        [](const stun::StunSuccess&) { return "success"; },
                        [](const stun::StunErrorResponse&) { return "error-response"; },
                        [](const stun::StunTimeout&) { return "timeout"; },
                    },
                    ev);
}

nlohmann::json ToJson(const stun::StunClientEvent& ev) {
  const stun::StunExchange& x = stun::Exchange(ev);
  nlohmann::json j;
  j["result"] = ResultName(ev);
  j["server"] = x.server.ToString();
  j["local"] = x.local.ToString();
  j["transaction_id"] = x.transaction_id.ToString();
  j["retransmits"] = x.retransmits;
  if (const auto* ok = std::get_if<stun::StunSuccess>(&ev)) j["mapped"] = ok->mapped.ToString();
  const stun::StunAnswer* answer = std::get_if<stun::StunSuccess>(&ev);
  if (!answer) answer = std::get_if<stun::StunErrorResponse>(&ev);
  if (answer) {
    j["rtt_ms"] = Millis(x.rtt);
    j["rtt_since_last_send_ms"] = Millis(x.rtt_since_last_send);
    j["response_source"] = answer->response_source.ToString();
    if (answer->response_origin) j["response_origin"] = answer->response_origin->ToString();
    if (answer->other_address) j["other_address"] = answer->other_address->ToString();
    if (answer->server_software) j["software"] = *answer->server_software;
  }
  if (const auto* e = std::get_if<stun::StunErrorResponse>(&ev); e && e->error) {
    j["error"] = {{"code", e->error->code}, {"reason", e->error->reason}};
  }
  return j;
}

void PrintText(const stun::StunSuccess& ev) {
  std::ostringstream rtt;
  rtt << std::fixed << std::setprecision(3) << ev.rtt.millis();
  std::cout << "mapped " << ev.mapped.ToString() << "\n"
            << "rtt_ms " << rtt.str() << (ev.retransmits ? " (after retransmits)" : "") << "\n"
            << "server " << ev.server.ToString() << "\n"
            << "local " << ev.local.ToString() << "\n";
  std::cout << "response_source " << ev.response_source.ToString() << "\n";
  if (ev.response_origin) std::cout << "response_origin " << ev.response_origin->ToString() << "\n";
  if (ev.other_address) std::cout << "other_address " << ev.other_address->ToString() << "\n";
  if (ev.server_software) std::cout << "software " << *ev.server_software << "\n";
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
  stun::BindingOptions options;
  options.deadline =
      ParseDurationFlag("--timeout", vm["timeout"].as<std::string>(), kSecondsOrDuration);
  options.change_ip = vm["change-ip"].as<bool>();
  options.change_port = vm["change-port"].as<bool>();
  options.classic = vm["classic"].as<bool>();
  const bool json = vm["json"].as<bool>();
  Endpoint local(realio::RouteSource(server.ip), 0);
  if (vm.count("local")) {
    local = ParseEndpointFlag("--local", vm["local"].as<std::string>());
    if (local.ip.family() != server.ip.family()) {
      throw UsageError("--local: must be the same address family as SERVER:PORT");
    }
  }

  realio::UdpSocket socket = realio::UdpSocket::Bind(local);
  local = socket.local();
  realio::OsRandom rng;
  stun::StunClient client(rng);
  realio::EventLoop loop;
  std::optional<stun::StunClientEvent> result;
  realio::Host host(loop, client, [&] {
    while (auto ev = client.PollEvent()) {
      result = std::move(ev);
      loop.Stop();
    }
  });
  host.AddSocket(std::move(socket));
  realio::StopOnSignals stop(loop);

  client.StartBinding(realio::MonotonicNow(), local, server, options);
  host.Drain();
  // The client times the transaction out itself; this bound only guards
  // against a machine that never reports.
  loop.Run(realio::MonotonicNow() + options.deadline + Duration::Seconds(1));

  const std::string prefix = "punchlab-node stun-probe: ";
  if (!result) {
    const std::string why = stop.received()
                                ? "interrupted by signal " + std::to_string(stop.received())
                                : std::string("no result from the STUN client");
    std::cerr << prefix << why << "\n";
    return kExitRuntime;
  }
  if (json) std::cout << ToJson(*result).dump() << std::endl;
  if (const auto* ok = std::get_if<stun::StunSuccess>(&*result)) {
    if (!json) PrintText(*ok);
    return kExitOk;
  }
  if (const auto* refused = std::get_if<stun::StunErrorResponse>(&*result)) {
    const std::string error =
        refused->error ? std::to_string(refused->error->code) + " " + refused->error->reason
                       : std::string("(no code)");
    std::cerr << prefix << server.ToString() << " answered with error " << error << "\n";
    return kExitExpectationFailed;
  }
  const auto& h = host.stats();
  std::cerr << prefix << "no response from " << server.ToString() << " within "
            << options.deadline.ToString() << " (" << client.stats().requests_sent
            << " requests sent from " << local.ToString() << ", " << h.datagrams_received
            << " datagrams received, " << h.send_errors << " send errors"
            << (h.send_errors ? ": " + realio::ErrorText(h.last_send_error) : "") << ")\n";
  return kExitExpectationFailed;
}

const SubcommandRegistration kRegistration(
    "stun-probe", "one STUN binding transaction: print the mapped address and RTT", Run);

}  // namespace
}  // namespace punchlab::cli
