#include "cli/cmd-classify-real.h"

#include <poll.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "lab/interrupt.h"

namespace punchlab::cli {
namespace {

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

}  // namespace

void RunRealClassification(const RealClassifyOptions& options,
                           const std::function<void(const lab::RealClassification&,
                                                    const lab::NatLab&)>& print) {
  lab::NatLab nat(options.spec);
  const lab::RealClassification c = lab::Classify(nat, options.binaries);
  print(c, nat);
  if (options.hold) HoldUntilStdinCloses();
  nat.lab().Teardown();
}

nlohmann::json LabJson(const lab::RealClassification& c, const lab::NatLab& nat, bool layout) {
  nlohmann::json j = {{"nat", c.spec.nat.ToString()},
                      {"hairpin", c.spec.nat.hairpin ? "on" : "off"},
                      {"udp_timeout", c.spec.nat.timeouts.udp.ToString()},
                      {"latency", c.spec.latency.ToString()},
                      {"external_addresses", lab::ExternalAddresses(c.spec.external_ips)},
                      {"ruleset", c.ruleset},
                      {"linux_differences", lab::LinuxDifferences(c.spec.nat)},
                      {"stun_client_exit_code", c.stun_client_exit_code},
                      {"raw", {{"nat_discover", c.nat_discover_output},
                               {"stun_client", c.stun_client_output}}}};
  if (layout) {
    j["namespaces"] = {{"client", nat.client().full_name},
                       {"router", nat.router().full_name},
                       {"server", nat.server().full_name}};
    j["client_ip"] = lab::kClientIp;
    j["router_lan_ip"] = lab::kRouterLanIp;
    j["server_ips"] = {lab::kServerIp, lab::kServerAltIp};
    j["our_server_ports"] = {lab::kOurServerPort, lab::kOurServerAltPort};
    j["stund_ports"] = {lab::kStundPort, lab::kStundAltPort};
  }
  return j;
}

std::string DefaultNodeBinary() {
  std::vector<char> path(4096);
  const ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return "punchlab-node";
  const std::string self(path.data(), static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "punchlab-node";
}

}  // namespace punchlab::cli
