// punchlab stun-demo: the STUN demo scenario in ns-3 (run-sim/ns3-tools.h):
// a client on a LAN learns its address from an RFC 5780 STUN server across a
// router, then asks for an answer from the server's other address and port.
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "run-sim/ns3-tools.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

// At most a minute: anything longer is a typo, not a network.
constexpr DurationRange kLatency{true, Duration::Seconds(60), false};

Duration ParseLatency(const std::string& flag, const std::string& text) {
  return ParseDurationFlag(flag, text, kLatency);
}

int RunDemo(const std::vector<std::string>& argv) {
  CommandSpec spec{
      "stun-demo", "stun-demo [options]",
      "Simulates, in ns-3, a STUN client on a LAN (192.168.1.2) behind a router\n"
      "and an RFC 5780 STUN server (203.0.113.10 and .11) on the internet side,\n"
      "running punchlab's STUN machines. Prints the address the client learned,\n"
      "the round-trip time, the server's response origin and other address, the\n"
      "answer to a CHANGE-REQUEST, and the server's counters. Same seed, same\n"
      "output.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("seed", po::value<uint64_t>()->default_value(1), "run seed (STUN transaction ids)")
      ("latency", po::value<std::string>()->default_value("20ms")->value_name("DURATION"),
       "one-way latency of the router-server (internet) link")
      ("lan-latency", po::value<std::string>()->default_value("1ms")->value_name("DURATION"),
       "one-way latency of the client-router (LAN) link")
      ("probes", po::value<uint32_t>()->default_value(1), "plain binding probes to send (1-100)")
      ("interval", po::value<std::string>()->default_value("1s")->value_name("DURATION"),
       "time between the plain probes");
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  runsim::StunDemoOptions config;
  config.seed = vm["seed"].as<uint64_t>();
  config.internet_latency = ParseLatency("--latency", vm["latency"].as<std::string>());
  config.lan_latency = ParseLatency("--lan-latency", vm["lan-latency"].as<std::string>());
  config.interval = ParseLatency("--interval", vm["interval"].as<std::string>());
  config.probes = vm["probes"].as<uint32_t>();
  if (config.probes < 1 || config.probes > 100) {
    throw UsageError("--probes: must be between 1 and 100");
  }

  runsim::RunStunDemo(config, std::cout);
  return kExitOk;
}

const SubcommandRegistration kStunDemo("stun-demo",
                                       "simulate a STUN client learning its address (ns-3)",
                                       RunDemo);

}  // namespace
}  // namespace punchlab::cli
