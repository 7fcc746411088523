#include "lab/nat-ruleset.h"

#include <arpa/inet.h>

#include "lab/lab-error.h"

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
    {NatType::kSymmetricPortPreserving, "symmetric-port-preserving"},
    {NatType::kCgnat, "cgnat"},
};

enum class Filter : uint8_t { kEndpointIndependent, kAddress, kAddressAndPort };

Filter FilterOf(NatType t) {
  switch (t) {
    case NatType::kFullCone: return Filter::kEndpointIndependent;
    case NatType::kRestrictedCone: return Filter::kAddress;
    default: return Filter::kAddressAndPort;
  }
}

// Inbound traffic from the WAN is DNATed (rather than left to conntrack).
bool FiltersByDnat(NatType t) { return t == NatType::kFullCone || t == NatType::kRestrictedCone; }

void CheckInterface(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 15;
  for (char ch : name) {
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '_' || ch == '.');
  }
  if (!ok) throw LabError("NAT ruleset: '" + name + "' is not an interface name");
}

void CheckAddress(const std::string& address) {
  in_addr parsed{};
  if (inet_pton(AF_INET, address.c_str(), &parsed) != 1) {
    throw LabError("NAT ruleset: external address '" + address + "' is not an IPv4 address");
  }
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string TimeoutText(Duration d) {
  // nft counts set timeouts in milliseconds.
  const int64_t ms = d.nanos() / 1000000;
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

std::string DynamicMap(const std::string& name, const std::string& type,
                       const std::string& timeout) {
  return "  " + name + " {\n"
         "    type " + type + "\n"
         "    flags dynamic, timeout\n"
         "    timeout " + timeout + "\n"
         "  }\n";
}

// The source NAT action for a new mapping: the WAN address (masquerade), the
// one external address, or the pool address jhash picks for the inside
// address (paired: one inside address, one external address, always).
std::string SnatAction(const NatRulesetConfig& c, bool random) {
  const std::string flags = random ? " fully-random" : "";
  const auto& pool = c.wan_addresses;
  if (pool.empty()) return "masquerade" + flags;
  if (pool.size() == 1) return "snat ip to " + pool[0] + flags;
  std::string choices;
  for (size_t i = 0; i < pool.size(); ++i) {
    choices += (i ? ", " : "") + std::to_string(i) + " : " + pool[i];
  }
  return "snat ip to jhash ip saddr mod " + std::to_string(pool.size()) + " seed 0x0 map { " +
         choices + " }" + flags;
}

// The key of "peers" for the sender's external endpoint (after source NAT)
// and the remote it sends to.
std::string PeersKey(Filter filter, const std::string& remote_addr,
                     const std::string& remote_port) {
  return "ip saddr . udp sport . " + remote_addr +
         (filter == Filter::kAddressAndPort ? " . " + remote_port : "");
}

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

const std::vector<NatType>& AllNatTypes() {
  static const std::vector<NatType> all = [] {
    std::vector<NatType> v;
    for (const auto& n : kNames) v.push_back(n.type);
    return v;
  }();
  return all;
}

std::string NatTypeList() {
  std::string out;
  const size_t n = sizeof kNames / sizeof kNames[0];
  for (size_t i = 0; i < n; ++i) {
    out += (i == 0 ? "" : i + 1 == n ? " or " : ", ") + std::string(kNames[i].name);
  }
  return out;
}

bool PresetHairpins(NatType type) { return type == NatType::kCgnat; }

bool MapsEndpointIndependently(NatType type) {
  return type != NatType::kSymmetric && type != NatType::kSymmetricPortPreserving;
}

std::string NatRuleset(const NatRulesetConfig& c) {
  CheckInterface(c.wan_if);
  CheckInterface(c.lan_if);
  for (const std::string& a : c.wan_addresses) CheckAddress(a);
  if (c.hairpin && c.wan_addresses.empty()) {
    throw LabError("NAT ruleset: hairpinning needs the router's external addresses "
                   "(wan_addresses): masquerade would give looped-back datagrams the LAN address");
  }

  const NatType t = c.type;
  const Filter filter = FilterOf(t);
  const bool eim = MapsEndpointIndependently(t);
  const bool preserve_eim = eim && t != NatType::kCgnat;
  const bool need_mappings = FiltersByDnat(t) || c.hairpin;
  const bool need_peers =
      t == NatType::kRestrictedCone || (c.hairpin && filter != Filter::kEndpointIndependent);
  const std::string wan = Quoted(c.wan_if);
  const std::string lan = Quoted(c.lan_if);
  const std::string timeout = TimeoutText(c.udp_timeout);
  const std::string endpoint = "ipv4_addr . inet_service";
  // Matches the datagrams hairpinning loops back (after their DNAT).
  const std::string hairpinned = "iifname " + lan + " oifname " + lan + " ct status dnat";

  std::string r = "table ip punchlab_nat {\n";
  if (eim) r += DynamicMap("map eim", endpoint + " : " + endpoint, timeout);
  if (preserve_eim) r += DynamicMap("set taken", "inet_service", timeout);
  if (need_mappings) r += DynamicMap("map mappings", endpoint + " : " + endpoint, timeout);
  if (need_peers) {
    r += DynamicMap("set peers",
                    endpoint + " . ipv4_addr" +
                        (filter == Filter::kAddressAndPort ? " . inet_service" : ""),
                    timeout);
  }

  // Hairpinned datagrams the receiving mapping's filter dropped, for tests and
  // for anyone wondering why a hairpinning NAT shows no hairpinning.
  if (c.hairpin && need_peers) r += "  counter hairpin_filtered {\n  }\n";
  r += "  chain input {\n"
       "    type filter hook input priority filter; policy accept;\n"
       "    iifname " + wan + " ct state new drop\n"
       "  }\n";

  if (FiltersByDnat(t) || c.hairpin) {
    r += "  chain prerouting {\n"
         "    type nat hook prerouting priority dstnat; policy accept;\n";
    const std::string to_inside = "dnat ip to ip daddr . udp dport map @mappings\n";
    if (t == NatType::kFullCone) r += "    iifname " + wan + " " + to_inside;
    if (t == NatType::kRestrictedCone) {
      r += "    iifname " + wan + " ip daddr . udp dport . ip saddr @peers " + to_inside;
    }
    if (c.hairpin) {
      std::string pool;
      for (const std::string& a : c.wan_addresses) pool += (pool.empty() ? "" : ", ") + a;
      r += "    iifname " + lan + " ip daddr { " + pool + " } " + to_inside;
    }
    r += "  }\n";
  }

  // How a new flow is mapped, for the WAN and for hairpinned datagrams alike.
  r += "  chain mapping {\n";
  if (eim) {
    r += "    ip saddr . udp sport @eim snat ip to ip saddr . udp sport map @eim\n";
  }
  if (preserve_eim) r += "    udp sport @taken " + SnatAction(c, true) + "\n";
  r += "    " + SnatAction(c, t == NatType::kSymmetric || t == NatType::kCgnat) + "\n";
  r += "  }\n";
  r += "  chain postrouting {\n"
       "    type nat hook postrouting priority srcnat; policy accept;\n"
       "    oifname " + wan + " jump mapping\n";
  if (c.hairpin) r += "    " + hairpinned + " jump mapping\n";
  r += "  }\n";

  // After source NAT (priority srcnat + 10) the header carries the external
  // endpoint; conntrack still knows the inside one. Original-direction
  // datagrams are the inside's own flows; reply-direction ones answer a flow
  // that was opened towards the inside (a cone's stranger, a hairpinned peer).
  // "meta l4proto udp" gives nft the context to type "proto-src" as a port.
  if (eim || need_mappings) {
    r += "  chain note {\n";
    const std::string udp = "meta l4proto udp ";
    if (eim) {
      r += "    " + udp + "ct direction original update @eim { ct original ip saddr . ct original "
           "proto-src : ip saddr . udp sport }\n"
           "    " + udp + "ct direction reply update @eim { ct reply ip saddr . ct reply "
           "proto-src : ip saddr . udp sport }\n";
    }
    if (preserve_eim) r += "    update @taken { udp sport }\n";
    if (need_mappings) {
      r += "    " + udp + "ct direction original update @mappings { ip saddr . udp sport : ct "
           "original ip saddr . ct original proto-src }\n"
           "    " + udp + "ct direction reply update @mappings { ip saddr . udp sport : ct "
           "reply ip saddr . ct reply proto-src }\n";
    }
    r += "  }\n";
  }
  r += "  chain record {\n"
       "    type filter hook postrouting priority srcnat + 10; policy accept;\n";
  if (eim || need_mappings) {
    r += "    oifname " + wan + " jump note\n";
    if (c.hairpin) r += "    " + hairpinned + " jump note\n";
  }
  if (need_peers) {
    // The remote a datagram is sent to: its destination on the WAN; before
    // hairpinning's DNAT (the external endpoint the sender addressed) for a
    // looped-back one, or the external endpoint its reply goes back to.
    r += "    oifname " + wan + " update @peers { " + PeersKey(filter, "ip daddr", "udp dport") +
         " }\n";
    if (c.hairpin) {
      r += "    " + hairpinned + " meta l4proto udp ct direction original update @peers { " +
           PeersKey(filter, "ct original ip daddr", "ct original proto-dst") + " }\n";
      r += "    " + hairpinned + " meta l4proto udp ct direction reply update @peers { " +
           PeersKey(filter, "ct reply ip daddr", "ct reply proto-dst") + " }\n";
      // The receiving mapping's filter (REQ-9): has that external endpoint
      // sent to the sender's external address (and port)?
      r += "    " + hairpinned + " meta l4proto udp ct direction original ct original ip daddr . "
           "ct original proto-dst . ip saddr" +
           (filter == Filter::kAddressAndPort ? " . udp sport" : "") +
           " != @peers counter name hairpin_filtered drop\n";
    }
  }
  r += "  }\n";
  r += "}\n";
  return r;
}

std::vector<std::string> LinuxDifferences(NatType type, bool hairpin) {
  std::vector<std::string> out;
  if (MapsEndpointIndependently(type)) {
    out.push_back(
        "refresh: the endpoint-independent mapping (and any cone filter) is refreshed by "
        "outbound datagrams only, but each flow's conntrack entry is refreshed by inbound "
        "ones too");
  } else {
    out.push_back(
        "refresh: a mapping is a conntrack entry, which inbound datagrams refresh too (the "
        "preset refreshes on outbound ones only)");
  }
  if (type == NatType::kFullCone || type == NatType::kRestrictedCone ||
      type == NatType::kPortRestrictedCone) {
    out.push_back(
        "ports: when another inside endpoint holds the inside port, the mapping gets a random "
        "port (the model takes the next free port upward)");
  }
  if (type == NatType::kSymmetricPortPreserving) {
    out.push_back(
        "ports: two inside endpoints with the same port share one external port towards "
        "different destinations (Linux port overloading; the model never shares, RFC 4787 "
        "REQ-3), and on a clash towards the same destination the later one gets a random "
        "port (the model: the next free port upward)");
  }
  if (type == NatType::kSymmetric || type == NatType::kCgnat) {
    out.push_back(
        "ports: a random port is unique per destination (conntrack), not reserved: it may "
        "rarely equal one that another inside endpoint's mapping uses towards other "
        "destinations");
  }
  if (hairpin) out.push_back("hairpin: UDP only");
  return out;
}

}  // namespace punchlab::lab
