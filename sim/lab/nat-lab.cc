#include "lab/nat-lab.h"

#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

constexpr Duration kMaxLatency = Duration::Seconds(10);

std::string Cidr(const char* ip, int length) { return std::string(ip) + "/" + std::to_string(length); }

}  // namespace

void CheckSpec(const RealNatSpec& spec) {
  if (spec.external_ips < 1 || spec.external_ips > kMaxExternalIps) {
    throw LabError("external_ips " + std::to_string(spec.external_ips) + ": must be from 1 to " +
                   std::to_string(kMaxExternalIps));
  }
  std::string refused;
  for (const std::string& why : UnbuildableKnobs(spec.nat, spec.external_ips)) {
    refused += (refused.empty() ? "" : "; ") + why;
  }
  if (!refused.empty()) throw LabError(refused);
  if (spec.latency < Duration::Zero() || spec.latency > kMaxLatency) {
    throw LabError("latency " + spec.latency.ToString() + ": must be from 0 to 10s");
  }
}

std::vector<std::string> ExternalAddresses(size_t count) {
  // 203.0.113.254, .253, ...: far above the server's .1 and .2.
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) out.push_back("203.0.113." + std::to_string(254 - i));
  return out;
}

NatLab::NatLab(const RealNatSpec& spec) : spec_(spec) {
  CheckSpec(spec_);
  client_ = lab_.AddNamespace("client");
  router_ = lab_.AddNamespace("router");
  server_ = lab_.AddNamespace("server");
  const std::vector<std::string> external = ExternalAddresses(spec_.external_ips);
  std::vector<std::string> wan_cidrs;
  for (const std::string& a : external) wan_cidrs.push_back(Cidr(a.c_str(), 24));
  lab_.Link(client_, "eth0", {Cidr(kClientIp, 24)}, router_, "lan", {Cidr(kRouterLanIp, 24)});
  lab_.Link(router_, "wan", wan_cidrs, server_, "eth0",
            {Cidr(kServerIp, 24), Cidr(kServerAltIp, 24)});
  lab_.Route(client_, "default", kRouterLanIp);
  lab_.Route(server_, "default", kRouterWanIp);

  const std::string seconds = std::to_string(spec_.nat.timeouts.udp.nanos() / 1000000000);
  lab_.Sysctl(router_, "net.ipv4.ip_forward", "1");
  // A hairpinned datagram leaves by the interface it came in on; a redirect
  // would tell the client to bypass the router, which a NAT never wants.
  lab_.Sysctl(router_, "net.ipv4.conf.all.send_redirects", "0");
  lab_.Sysctl(router_, "net.ipv4.conf.lan.send_redirects", "0");
  // "udp_timeout" covers flows that saw traffic one way only, "_stream" those
  // with replies: a NAT mapping is one lifetime either way.
  lab_.Sysctl(router_, "net.netfilter.nf_conntrack_udp_timeout", seconds);
  lab_.Sysctl(router_, "net.netfilter.nf_conntrack_udp_timeout_stream", seconds);
  NatRulesetConfig rules;
  rules.nat = spec_.nat;
  rules.wan_if = "wan";
  rules.wan_addresses = external;
  rules.lan_if = "lan";
  ruleset_ = NatRuleset(rules);
  lab_.Nft(router_, ruleset_);

  if (spec_.latency > Duration::Zero()) {
    lab_.Delay(router_, "wan", spec_.latency);
    lab_.Delay(server_, "eth0", spec_.latency);
  }
}

}  // namespace punchlab::lab
