#include "lab/nat-ruleset.h"

namespace punchlab::lab {
namespace {

struct NatTypeName {
  NatType type;
  const char* name;
};
constexpr NatTypeName kNames[] = {
    {NatType::kFullCone, "full-cone"},
    {NatType::kRestrictedCone, "restricted-cone"},
    {NatType::kPortRestrictedCone, "port-restricted-cone"},
    {NatType::kSymmetric, "symmetric"},
};

bool IsCone(NatType t) { return t == NatType::kFullCone || t == NatType::kRestrictedCone; }

}  // namespace

const char* ToString(NatType type) {
  for (const auto& n : kNames) {
    if (n.type == type) return n.name;
  }
  return "unknown";
}

std::optional<NatType> ParseNatType(const std::string& text) {
  for (const auto& n : kNames) {
    if (text == n.name) return n.type;
  }
  return std::nullopt;
}

std::string NatRuleset(const NatRulesetConfig& c) {
  const std::string wan = "\"" + c.wan_if + "\"";
  // nft counts set timeouts in milliseconds.
  const int64_t ms = c.udp_timeout.nanos() / 1000000;
  const std::string timeout = ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
  std::string r = "table ip punchlab_nat {\n";
  if (IsCone(c.type)) {
    r += "  map cone {\n"
         "    type inet_service : ipv4_addr . inet_service\n"
         "    flags dynamic, timeout\n"
         "    timeout " + timeout + "\n"
         "  }\n";
  }
  if (c.type == NatType::kRestrictedCone) {
    r += "  set peers {\n"
         "    type inet_service . ipv4_addr\n"
         "    flags dynamic, timeout\n"
         "    timeout " + timeout + "\n"
         "  }\n";
  }
  r += "  chain input {\n"
       "    type filter hook input priority filter; policy accept;\n"
       "    iifname " + wan + " ct state new drop\n"
       "  }\n";
  if (IsCone(c.type)) {
    const std::string match =
        c.type == NatType::kRestrictedCone ? "udp dport . ip saddr @peers " : "";
    r += "  chain prerouting {\n"
         "    type nat hook prerouting priority dstnat; policy accept;\n"
         "    iifname " + wan + " " + match + "dnat ip to udp dport map @cone\n"
         "  }\n";
  }
  r += "  chain postrouting {\n"
       "    type nat hook postrouting priority srcnat; policy accept;\n"
       "    oifname " + wan + " masquerade" +
       (c.type == NatType::kSymmetric ? " fully-random" : "") + "\n"
       "  }\n";
  if (IsCone(c.type)) {
    // After source NAT (priority srcnat + 10) the header carries the external
    // port. Original-direction packets are the inside's own flows; reply-
    // direction ones answer a flow an outside peer opened through the cone.
    r += "  chain record {\n"
         "    type filter hook postrouting priority srcnat + 10; policy accept;\n"
         "    oifname " + wan + " ct direction original update @cone { udp sport timeout " +
         timeout + " : ct original ip saddr . ct original proto-src }\n"
         "    oifname " + wan + " ct direction reply update @cone { udp sport timeout " +
         timeout + " : ct reply ip saddr . ct reply proto-src }\n";
    if (c.type == NatType::kRestrictedCone) {
      r += "    oifname " + wan + " update @peers { udp sport . ip daddr timeout " + timeout +
           " }\n";
    }
    r += "  }\n";
  }
  r += "}\n";
  return r;
}

}  // namespace punchlab::lab
