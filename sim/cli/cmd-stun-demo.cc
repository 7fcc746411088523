// punchlab stun-demo: the STUN demo scenario in ns-3 (models/helper/stun-demo.h):
// a client on a LAN learns its address from an RFC 5780 STUN server across a
// router, then asks for an answer from the server's other address and port.
#include <boost/program_options.hpp>

#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "helper/stun-demo.h"
#include "ns3/simulator.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

class BadFlag : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// At most a minute: anything longer is a typo, not a network.
ns3::Time ParseLatency(const std::string& flag, const std::string& text) {
  const std::optional<punchlab::Duration> d = punchlab::Duration::Parse(text);
  if (!d) throw BadFlag(flag + ": '" + text + "' is not a duration (write e.g. 20ms, 1.5s, 250us)");
  if (*d > punchlab::Duration::Seconds(60)) {
    throw BadFlag(flag + ": '" + text + "' is longer than a minute");
  }
  return ns3::NanoSeconds(d->nanos());
}

int RunDemo(const std::vector<std::string>& argv) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help and exit")
      ("seed", po::value<uint64_t>()->default_value(1), "run seed (STUN transaction ids)")
      ("latency", po::value<std::string>()->default_value("20ms")->value_name("DURATION"),
       "one-way latency of the router-server (internet) link")
      ("lan-latency", po::value<std::string>()->default_value("1ms")->value_name("DURATION"),
       "one-way latency of the client-router (LAN) link")
      ("probes", po::value<uint32_t>()->default_value(1), "plain binding probes to send (1-100)")
      ("interval", po::value<std::string>()->default_value("1s")->value_name("DURATION"),
       "time between the plain probes");

  ns3::StunDemoConfig config;
  try {
    po::variables_map vm;
    const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    // No positional arguments: a stray word is an error, not silently ignored.
    po::store(po::command_line_parser(args)
                  .options(options)
                  .positional(po::positional_options_description())
                  .run(),
              vm);
    if (vm.count("help")) {
      std::cout << "Usage: punchlab stun-demo [options]\n\n"
                   "Simulates, in ns-3, a STUN client on a LAN (192.168.1.2) behind a router\n"
                   "and an RFC 5780 STUN server (203.0.113.10 and .11) on the internet side,\n"
                   "running punchlab's STUN machines. Prints the address the client learned,\n"
                   "the round-trip time, the server's response origin and other address, the\n"
                   "answer to a CHANGE-REQUEST, and the server's counters. Same seed, same\n"
                   "output.\n\n"
                << options;
      return kExitOk;
    }
    po::notify(vm);
    config.seed = vm["seed"].as<uint64_t>();
    config.topology.internetDelay = ParseLatency("--latency", vm["latency"].as<std::string>());
    config.topology.lanDelay = ParseLatency("--lan-latency", vm["lan-latency"].as<std::string>());
    config.interval = ParseLatency("--interval", vm["interval"].as<std::string>());
    config.probes = vm["probes"].as<uint32_t>();
    if (config.probes < 1 || config.probes > 100) {
      throw BadFlag("--probes: must be between 1 and 100");
    }
  } catch (const po::error& e) {
    std::cerr << "punchlab stun-demo: " << e.what() << " (see 'punchlab stun-demo --help')\n";
    return kExitUsage;
  } catch (const BadFlag& e) {
    std::cerr << "punchlab stun-demo: " << e.what() << " (see 'punchlab stun-demo --help')\n";
    return kExitUsage;
  }

  ns3::StunDemo demo(config);
  demo.Run();
  demo.Report(std::cout);
  ns3::Simulator::Destroy();
  return kExitOk;
}

const SubcommandRegistration kStunDemo("stun-demo",
                                       "simulate a STUN client learning its address (ns-3)",
                                       RunDemo);

}  // namespace
}  // namespace punchlab::cli
