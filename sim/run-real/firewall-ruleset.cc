#include "run-real/firewall-ruleset.h"

#include <vector>

namespace punchlab::runreal {
namespace {

// "udp dport 41641", "tcp dport 1000-2000", "meta l4proto udp" (every port).
std::string Match(const nat::PortRule& rule) {
  const char* proto = rule.protocol == nat::Protocol::kUdp ? "udp" : "tcp";
  if (rule.first == 0 && rule.last == 65535) return std::string("meta l4proto ") + proto;
  std::string ports = std::to_string(rule.first);
  if (rule.last != rule.first) ports += "-" + std::to_string(rule.last);
  return std::string(proto) + " dport " + ports;
}

}  // namespace

std::string FirewallRuleset(const nat::FirewallConfig& c, const std::string& wan_if) {
  const std::string wan = "\"" + wan_if + "\"";
  std::string r =
      "table inet punchlab_fw\n"
      "delete table inet punchlab_fw\n"
      "table inet punchlab_fw {\n"
      "  chain input {\n"
      "    type filter hook input priority filter; policy accept;\n"
      "    iifname " + wan + " ct state new drop\n"
      "  }\n"
      "  chain forward {\n"
      "    type filter hook forward priority filter; policy accept;\n";
  if (c.block_udp) {
    r += "    iifname " + wan + " meta l4proto udp drop\n"
         "    oifname " + wan + " meta l4proto udp drop\n";
  }
  r += "    ct state established,related accept\n";
  for (const nat::PortRule& rule : c.inbound_allow) {
    r += "    iifname " + wan + " " + Match(rule) + " accept\n";
  }
  r += "    iifname " + wan + " drop\n";
  if (!c.outbound_allow.empty()) {
    for (const nat::PortRule& rule : c.outbound_allow) {
      r += "    oifname " + wan + " " + Match(rule) + " accept\n";
    }
    r += "    oifname " + wan + " drop\n";
  }
  r += "  }\n}\n";
  return r;
}

}  // namespace punchlab::runreal
