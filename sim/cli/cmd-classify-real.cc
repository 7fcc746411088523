// punchlab classify-real: builds one lab NAT out of network namespaces and
// nftables (sim/lab/), classifies it with our discovery client and with
// Debian's `stun` client, and removes the lab. A debugging entry point for
// the real half of `punchlab classify --real`; --hold keeps the lab up for
// inspection until stdin closes or a signal arrives.
#include <poll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli-common/subcommand.h"
#include "lab/classify-real.h"
#include "lab/interrupt.h"
#include "lab/lab-error.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Duration ParseDuration(const std::string& flag, const std::string& text) {
  const std::optional<Duration> d = Duration::Parse(text);
  if (!d) throw UsageError(flag + ": '" + text + "' is not a duration (write e.g. 30s, 20ms)");
  return *d;
}

// punchlab-node lives next to punchlab in the build tree and when installed.
std::string DefaultNodeBinary() {
  std::vector<char> path(4096);
  const ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return "punchlab-node";
  std::string self(path.data(), static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "punchlab-node";
}

nlohmann::json ToJson(const lab::RealClassification& c) {
  nlohmann::json j;
  j["nat"] = {{"type", lab::ToString(c.spec.type)},
              {"udp_timeout", c.spec.udp_timeout.ToString()},
              {"latency", c.spec.latency.ToString()}};
  j["udp_blocked"] = c.ours.udp_blocked;
  j["mapped"] = c.ours.mapped.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.ours.mapped);
  j["mapping"] = c.ours.mapping;
  j["filtering"] = c.ours.filtering;
  j["port_assignment"] = c.ours.port_assignment;
  j["hairpin"] = c.ours.hairpin;
  j["report"] = c.ours.line;
  j["stun_client"] = c.stun_client_verdict;
  j["stun_client_exit_code"] = c.stun_client_exit_code;
  j["ruleset"] = c.ruleset;
  j["raw"] = {{"nat_discover", c.nat_discover_output}, {"stun_client", c.stun_client_output}};
  return j;
}

nlohmann::json LayoutJson(const lab::NatLab& nat) {
  return {{"namespaces",
           {{"client", nat.client().full_name},
            {"router", nat.router().full_name},
            {"server", nat.server().full_name}}},
          {"client_ip", lab::kClientIp},
          {"router_lan_ip", lab::kRouterLanIp},
          {"router_wan_ip", lab::kRouterWanIp},
          {"server_ips", {lab::kServerIp, lab::kServerAltIp}},
          {"our_server_ports", {lab::kOurServerPort, lab::kOurServerAltPort}},
          {"stund_ports", {lab::kStundPort, lab::kStundAltPort}}};
}

void PrintText(const lab::RealClassification& c) {
  std::cout << "nat              " << lab::ToString(c.spec.type) << " (udp timeout "
            << c.spec.udp_timeout.ToString() << ", latency " << c.spec.latency.ToString() << ")\n"
            << "mapping          " << c.ours.mapping << "\n"
            << "filtering        " << c.ours.filtering << "\n"
            << "port_assignment  " << c.ours.port_assignment << "\n"
            << "hairpin          " << c.ours.hairpin << "\n"
            << "mapped           " << (c.ours.mapped.empty() ? "none" : c.ours.mapped) << "\n"
            << "stun_client      " << c.stun_client_verdict << "\n";
}

// Returns when stdin reaches end-of-file; throws lab::Interrupted on a signal.
void HoldUntilStdinCloses() {
  char buffer[256];
  while (true) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {lab::InterruptFd(), POLLIN, 0}};
    poll(fds, 2, -1);
    lab::ThrowIfInterrupted();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n <= 0) return;
    }
  }
}

int Run(const std::vector<std::string>& argv) {
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help and exit")
      ("nat", po::value<std::string>()->value_name("TYPE"),
       "full-cone, restricted-cone, port-restricted-cone or symmetric")
      ("udp-timeout", po::value<std::string>()->default_value("30s")->value_name("DURATION"),
       "UDP mapping lifetime, whole seconds (conntrack and the cone maps)")
      ("latency", po::value<std::string>()->default_value("0ms")->value_name("DURATION"),
       "one-way netem delay of the router-server link")
      ("node-bin", po::value<std::string>()->value_name("PATH"),
       "punchlab-node to run (default: the one next to this binary)")
      ("json", po::bool_switch(), "print one JSON object instead of text")
      ("hold", po::bool_switch(),
       "after classifying, print the lab's layout and keep it up until stdin\n"
       "closes or SIGINT/SIGTERM arrives");

  lab::RealNatSpec spec;
  lab::LabBinaries bins;
  bool json = false;
  bool hold = false;
  try {
    po::variables_map vm;
    const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
    po::store(po::command_line_parser(args).options(options).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: punchlab classify-real --nat TYPE [options]\n\n"
                   "Builds a NAT of TYPE from network namespaces and nftables (needs root),\n"
                   "classifies it with punchlab-node nat-discover and with Debian's `stun`,\n"
                   "prints both verdicts and removes the lab. Exit 0 on verdicts; 2 on bad\n"
                   "flags; 4 when the lab cannot be built or a client gives no verdict.\n\n"
                << options;
      return kExitOk;
    }
    po::notify(vm);
    if (!vm.count("nat")) throw UsageError("missing --nat TYPE");
    const auto type = lab::ParseNatType(vm["nat"].as<std::string>());
    if (!type) {
      throw UsageError("--nat: '" + vm["nat"].as<std::string>() +
                       "' is not a lab NAT (write full-cone, restricted-cone, "
                       "port-restricted-cone or symmetric)");
    }
    spec.type = *type;
    spec.udp_timeout = ParseDuration("--udp-timeout", vm["udp-timeout"].as<std::string>());
    spec.latency = ParseDuration("--latency", vm["latency"].as<std::string>());
    lab::CheckSpec(spec);
    bins.punchlab_node =
        vm.count("node-bin") ? vm["node-bin"].as<std::string>() : DefaultNodeBinary();
    json = vm["json"].as<bool>();
    hold = vm["hold"].as<bool>();
  } catch (const po::error& e) {
    std::cerr << "punchlab classify-real: " << e.what() << " (see 'punchlab classify-real --help')\n";
    return kExitUsage;
  } catch (const std::exception& e) {  // UsageError, or CheckSpec's LabError
    std::cerr << "punchlab classify-real: " << e.what() << " (see 'punchlab classify-real --help')\n";
    return kExitUsage;
  }

  try {
    lab::NatLab nat(spec);
    const lab::RealClassification c = lab::Classify(nat, bins);
    if (json) {
      nlohmann::json j = ToJson(c);
      if (hold) j["lab"] = LayoutJson(nat);
      std::cout << j.dump() << std::endl;
    } else {
      PrintText(c);
      if (hold) std::cout << "lab              " << LayoutJson(nat).dump() << std::endl;
    }
    if (hold) HoldUntilStdinCloses();
    nat.lab().Teardown();
  } catch (const lab::Interrupted& e) {
    // The lab is gone by now (its destructor ran while this unwound).
    std::cerr << "punchlab classify-real: " << e.what() << "; lab removed\n";
    lab::ReraiseCaughtSignal();
    return 128 + e.signal();
  } catch (const lab::LabError& e) {
    std::cerr << "punchlab classify-real: " << e.what() << "\n";
    return kExitRuntime;
  }
  // A signal that came while the teardown ran (which it cannot cut short).
  lab::ReraiseCaughtSignal();
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "classify-real",
    "(debug) classify a lab NAT built from namespaces and nftables, with our client and Debian's stun",
    [](const std::vector<std::string>& argv) { return Run(argv); });

}  // namespace
}  // namespace punchlab::cli
