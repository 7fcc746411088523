#include "lab/nat-ruleset.h"

#include <arpa/inet.h>

#include "lab/lab-error.h"

namespace punchlab::lab {
namespace {

using nat::Dependence;
using nat::PortAssignment;

constexpr int64_t kNanosPerSecond = 1000000000;
// The conntrack sysctls are ints.
constexpr int64_t kMaxConntrackSeconds = 2147483647;

// What the ruleset needs, derived from the knobs once.
struct Shape {
  Dependence filter;
  bool eim;              // endpoint-independent mapping: map "eim"
  bool preserve_eim;     // ... keeping the inside port: set "taken"
  bool random;           // new mappings take random ports
  bool filters_by_dnat;  // a filter looser than conntrack's: inbound DNAT
  bool need_mappings;    // map "mappings": DNAT's targets (filter, hairpin)
  bool need_peers;       // set "peers": who a mapping sent to (ADF, hairpin's filter)
};

Shape ShapeOf(const nat::NatConfig& c) {
  Shape s{};
  s.filter = c.filtering;
  s.eim = c.mapping == Dependence::kEndpointIndependent;
  s.preserve_eim = s.eim && c.ports == PortAssignment::kPreserve;
  s.random = c.ports == PortAssignment::kRandom;
  s.filters_by_dnat = c.filtering != Dependence::kAddressAndPortDependent;
  s.need_mappings = s.filters_by_dnat || c.hairpin;
  s.need_peers = c.filtering == Dependence::kAddressDependent ||
                 (c.hairpin && c.filtering != Dependence::kEndpointIndependent);
  return s;
}

// Whether the NAT keeps state in nftables maps and sets (refreshed by
// outbound datagrams only) besides conntrack's.
bool KeepsMaps(const Shape& s) { return s.eim || s.need_mappings || s.need_peers; }

void CheckTimeout(const char* knob, Duration d, std::vector<std::string>& out) {
  if (d.nanos() % kNanosPerSecond != 0) {
    out.push_back(std::string(knob) + "=" + d.ToString() +
                  ": conntrack counts whole seconds; write a whole number of seconds");
  } else if (d.nanos() / kNanosPerSecond > kMaxConntrackSeconds) {
    out.push_back(std::string(knob) + "=" + d.ToString() + ": conntrack takes at most " +
                  std::to_string(kMaxConntrackSeconds) + "s");
  }
}

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
std::string PeersKey(Dependence filter, const std::string& remote_addr,
                     const std::string& remote_port) {
  return "ip saddr . udp sport . " + remote_addr +
         (filter == Dependence::kAddressAndPortDependent ? " . " + remote_port : "");
}

}  // namespace

std::vector<std::string> UnbuildableKnobs(const nat::NatConfig& c, size_t external_addresses) {
  std::vector<std::string> out;
  if (c.mapping == Dependence::kAddressDependent) {
    out.push_back(
        "mapping=address-dependent: the lab builds endpoint-independent mapping (an nftables "
        "map) and address-and-port-dependent mapping (conntrack), not this one");
  }
  if (c.ports == PortAssignment::kSequential) {
    out.push_back(
        "ports=sequential: Linux's NAT keeps the inside port or picks a random one, never the "
        "next in sequence; use preserve or random");
  }
  if (c.port_range != nat::PortRange{}) {
    out.push_back("port_range=" + std::to_string(c.port_range.first) + "-" +
                  std::to_string(c.port_range.last) +
                  ": the lab's NATs take ports from the kernel's whole range; leave it unset");
  }
  if (external_addresses > 1 && c.pooling == nat::Pooling::kArbitrary) {
    out.push_back(
        "pooling=arbitrary: the lab's address pool is paired (the hash of the inside address "
        "picks the external address)");
  }
  if (c.refresh == nat::Refresh::kBoth && KeepsMaps(ShapeOf(c))) {
    out.push_back(
        "refresh=both: this NAT keeps its mappings in nftables maps, which only outbound "
        "datagrams refresh; refresh=both is built for address-and-port-dependent mapping "
        "and filtering without hairpinning (conntrack alone)");
  }
  CheckTimeout("udp_timeout", c.timeouts.udp, out);
  CheckTimeout("tcp_established_timeout", c.timeouts.tcp_established, out);
  CheckTimeout("tcp_transitory_timeout", c.timeouts.tcp_transitory, out);
  return out;
}

std::string NatRuleset(const NatRulesetConfig& c) {
  CheckInterface(c.wan_if);
  CheckInterface(c.lan_if);
  for (const std::string& a : c.wan_addresses) CheckAddress(a);
  std::string refused;
  for (const std::string& why : UnbuildableKnobs(c.nat, c.wan_addresses.size())) {
    refused += (refused.empty() ? "" : "; ") + why;
  }
  if (!refused.empty()) throw LabError("NAT ruleset: " + refused);
  const nat::NatConfig& n = c.nat;
  if (n.hairpin && c.wan_addresses.empty()) {
    throw LabError("NAT ruleset: hairpinning needs the router's external addresses "
                   "(wan_addresses): masquerade would give looped-back datagrams the LAN address");
  }

  const Shape shape = ShapeOf(n);
  const Dependence filter = shape.filter;
  const bool eim = shape.eim;
  const bool preserve_eim = shape.preserve_eim;
  const bool need_mappings = shape.need_mappings;
  const bool need_peers = shape.need_peers;
  const std::string wan = Quoted(c.wan_if);
  const std::string lan = Quoted(c.lan_if);
  const std::string timeout = TimeoutText(n.timeouts.udp);
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
                        (filter == Dependence::kAddressAndPortDependent ? " . inet_service" : ""),
                    timeout);
  }

  // Hairpinned datagrams the receiving mapping's filter dropped, for tests and
  // for anyone wondering why a hairpinning NAT shows no hairpinning.
  if (n.hairpin && need_peers) r += "  counter hairpin_filtered {\n  }\n";
  r += "  chain input {\n"
       "    type filter hook input priority filter; policy accept;\n"
       "    iifname " + wan + " ct state new drop\n"
       "  }\n";

  if (need_mappings) {
    r += "  chain prerouting {\n"
         "    type nat hook prerouting priority dstnat; policy accept;\n";
    const std::string to_inside = "dnat ip to ip daddr . udp dport map @mappings\n";
    if (filter == Dependence::kEndpointIndependent) r += "    iifname " + wan + " " + to_inside;
    if (filter == Dependence::kAddressDependent) {
      r += "    iifname " + wan + " ip daddr . udp dport . ip saddr @peers " + to_inside;
    }
    if (n.hairpin) {
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
  r += "    " + SnatAction(c, shape.random) + "\n";
  r += "  }\n";
  r += "  chain postrouting {\n"
       "    type nat hook postrouting priority srcnat; policy accept;\n"
       "    oifname " + wan + " jump mapping\n";
  if (n.hairpin) r += "    " + hairpinned + " jump mapping\n";
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
    if (n.hairpin) r += "    " + hairpinned + " jump note\n";
  }
  if (need_peers) {
    // The remote a datagram is sent to: its destination on the WAN; before
    // hairpinning's DNAT (the external endpoint the sender addressed) for a
    // looped-back one, or the external endpoint its reply goes back to.
    r += "    oifname " + wan + " update @peers { " + PeersKey(filter, "ip daddr", "udp dport") +
         " }\n";
    if (n.hairpin) {
      r += "    " + hairpinned + " meta l4proto udp ct direction original update @peers { " +
           PeersKey(filter, "ct original ip daddr", "ct original proto-dst") + " }\n";
      r += "    " + hairpinned + " meta l4proto udp ct direction reply update @peers { " +
           PeersKey(filter, "ct reply ip daddr", "ct reply proto-dst") + " }\n";
      // The receiving mapping's filter (REQ-9): has that external endpoint
      // sent to the sender's external address (and port)?
      r += "    " + hairpinned + " meta l4proto udp ct direction original ct original ip daddr . "
           "ct original proto-dst . ip saddr" +
           (filter == Dependence::kAddressAndPortDependent ? " . udp sport" : "") +
           " != @peers counter name hairpin_filtered drop\n";
    }
  }
  r += "  }\n";
  r += "}\n";
  return r;
}

std::vector<std::string> LinuxDifferences(const nat::NatConfig& c) {
  const Shape shape = ShapeOf(c);
  const bool preserve = c.ports == PortAssignment::kPreserve;
  std::vector<std::string> out;
  // refresh=both is built exactly where conntrack alone keeps the state
  // (and refused elsewhere: UnbuildableKnobs).
  if (c.refresh == nat::Refresh::kOutbound) {
    if (shape.eim) {
      out.push_back(
          "refresh: the endpoint-independent mapping (and any cone filter) is refreshed by "
          "outbound datagrams only, but each flow's conntrack entry is refreshed by inbound "
          "ones too");
    } else {
      out.push_back(
          "refresh: a mapping is a conntrack entry, which inbound datagrams refresh too (the "
          "model refreshes on outbound ones only)");
    }
  }
  if (shape.eim && preserve) {
    out.push_back(
        "ports: when another inside endpoint holds the inside port, the mapping gets a random "
        "port (the model takes the next free port upward)");
  }
  if (!shape.eim && preserve) {
    out.push_back(
        "ports: two inside endpoints with the same port share one external port towards "
        "different destinations (Linux port overloading; the model never shares, RFC 4787 "
        "REQ-3), and on a clash towards the same destination the later one gets a random "
        "port (the model: the next free port upward)");
  }
  if (c.ports == PortAssignment::kRandom) {
    out.push_back(
        "ports: a random port is unique per destination (conntrack), not reserved: it may "
        "rarely equal one that another inside endpoint's mapping uses towards other "
        "destinations");
  }
  if (!shape.eim && shape.filters_by_dnat) {
    out.push_back(
        "filtering: an answer to a remote the filter let in leaves through the mapping that "
        "remote sent to (conntrack's reply direction); the model gives it the per-destination "
        "mapping it would give any new destination");
    if (preserve) {
      out.push_back(
          "filtering: a remote's datagram to an external port that port overloading shares "
          "goes to the inside endpoint that last sent from it");
    }
  }
  if (c.hairpin) out.push_back("hairpin: UDP only");
  return out;
}

}  // namespace punchlab::lab
