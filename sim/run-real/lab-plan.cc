#include "run-real/lab-plan.h"

#include <algorithm>
#include <map>

#include "punchlab/endpoint.h"
#include "results/run-options.h"

namespace punchlab::runreal {
namespace {

using results::RunError;

constexpr size_t kMaxNats = 255;
constexpr size_t kMaxPublicFirewalls = 8;
constexpr size_t kMaxPrivateFirewalls = 255;

// One IPv4 network whose host addresses are handed out in order.
class Network {
 public:
  Network(std::string name, uint32_t base, int prefix)
      : name_(std::move(name)), base_(base), prefix_(prefix) {}

  // The first host address (.1 of a /24): the router's.
  std::string Router() const { return IpAddress::V4(base_ + 1).ToString(); }
  std::string Subnet() const {
    return IpAddress::V4(base_).ToString() + "/" + std::to_string(prefix_);
  }
  int prefix() const { return prefix_; }

  // The next free host address (after the router's).
  std::string Take() {
    const uint32_t hosts = (uint32_t{1} << (32 - prefix_)) - 2;  // without network and broadcast
    if (next_ > hosts) {
      throw RunError("the lab's network " + name_ + " (" + Subnet() + ") is full: at most " +
                     std::to_string(hosts - 1) + " things can hang off it");
    }
    return IpAddress::V4(base_ + next_++).ToString();
  }

  // Next port name on this network's bridge.
  std::string TakePort() { return "p" + std::to_string(ports_++); }

 private:
  std::string name_;
  uint32_t base_;
  int prefix_;
  uint32_t next_ = 2;  // .1 is the router
  int ports_ = 0;
};

uint32_t V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

size_t ChangeAddressEvents(const scenario::Scenario& s, const std::string& nat) {
  return static_cast<size_t>(std::count_if(s.events.begin(), s.events.end(), [&](const auto& e) {
    return e.target_kind == scenario::TargetKind::kNat && e.target == nat &&
           e.action == scenario::Action::kChangeAddress;
  }));
}

// Whether no NAT sits above the box (its chain, nearest first).
bool Public(const std::vector<scenario::Hop>& chain) {
  return std::none_of(chain.begin(), chain.end(),
                      [](const scenario::Hop& h) { return h.kind == scenario::Hop::Kind::kNat; });
}

class Planner {
 public:
  explicit Planner(const scenario::Scenario& s)
      : s_(s),
        core_("the internet", V4(203, 0, 113, 0), kCorePrefix),
        portmap_("the internet's port-mapping routers", V4(11, 0, 0, 0), 24) {}

  LabPlan Plan() {
    if (s_.nats.size() > kMaxNats) {
      throw RunError("the real lab holds at most " + std::to_string(kMaxNats) + " NATs, not " +
                     std::to_string(s_.nats.size()));
    }
    for (size_t i = 0; i < s_.derp_regions.size(); ++i) {
      plan_.derp.push_back(Host(s_.derp_regions[i].name, "derp" + std::to_string(i),
                                "derp-" + s_.derp_regions[i].name, "",
                                RegionLink(s_.derp_regions[i].latency)));
    }
    plan_.control = Host("control", "ctl", "control", "", RegionLink(s_.control.latency));
    PlanBoxes();
    for (size_t i = 0; i < s_.nodes.size(); ++i) {
      const scenario::NodeDef& n = s_.nodes[i];
      plan_.nodes.push_back(
          Host(n.name, "node" + std::to_string(i), "node-" + n.name, n.behind, n.link));
    }
    return std::move(plan_);
  }

 private:
  // DERP and control servers hang off the internet by a link that only has
  // the scenario's one-way latency.
  static scenario::Link RegionLink(Duration latency) {
    scenario::Link link;
    link.latency = latency;
    return link;
  }

  // The network behind `box` ("" = the internet).
  Network& NetworkOf(const std::string& box) {
    if (box.empty()) return core_;
    const auto it = lans_.find(box);
    // Boxes are planned parents first, so this only fails on a loader bug.
    if (it == lans_.end()) throw RunError("internal: '" + box + "' planned before its parent");
    return it->second;
  }

  std::string NamespaceOf(const std::string& box) const {
    if (box.empty()) return kCoreNamespace;
    return plan_.FindBox(box)->ns;
  }

  // `portmap`: a port-mapping router on the internet, whose addresses come
  // from the core's 11.0.0.0/24 (the file comment in lab-plan.h).
  Uplink MakeUplink(const std::string& ns, const std::string& ifname, const std::string& label,
                    const std::string& behind, const scenario::Link& link, size_t addresses,
                    size_t spares, bool portmap = false) {
    if (portmap && !behind.empty()) {
      // CheckPortMappingBuildable refuses it first, by the scenario's position.
      throw RunError(label + ": a port-mapping router must hang off the internet");
    }
    Network& net = portmap ? portmap_ : NetworkOf(behind);
    if (portmap) plan_.core_portmap_cidr = portmap_.Router() + "/" + std::to_string(portmap_.prefix());
    Uplink u;
    u.ns = ns;
    u.ifname = ifname;
    u.address = net.Take();
    for (size_t i = 1; i < addresses; ++i) u.more_addresses.push_back(net.Take());
    u.prefix = net.prefix();
    for (size_t i = 0; i < spares; ++i) u.spare_addresses.push_back(net.Take());
    u.parent_ns = NamespaceOf(behind);
    // The port-mapping network shares the core's bridge and its ports.
    u.parent_port = (portmap ? core_ : net).TakePort();
    u.parent_bridge = behind.empty() ? kCoreBridge : kLanBridge;
    u.gateway = net.Router();
    u.link = link;
    u.to_internet = behind.empty();
    u.label = label;
    return u;
  }

  HostPlan Host(const std::string& name, const std::string& ns, const std::string& label,
                const std::string& behind, const scenario::Link& link) {
    return HostPlan{name, ns, MakeUplink(ns, "eth0", label, behind, link, 1, 0)};
  }

  void PlanBoxes() {
    struct Pending {
      std::string name;
      bool is_nat;
      size_t index;
      size_t depth;
    };
    std::vector<Pending> boxes;
    for (size_t i = 0; i < s_.nats.size(); ++i) {
      boxes.push_back({s_.nats[i].name, true, i, s_.nats[i].chain.size()});
    }
    for (size_t i = 0; i < s_.firewalls.size(); ++i) {
      boxes.push_back({s_.firewalls[i].name, false, i, s_.firewalls[i].chain.size()});
    }
    // Parents first: a box's chain is one longer than its parent's.
    std::stable_sort(boxes.begin(), boxes.end(),
                     [](const Pending& a, const Pending& b) { return a.depth < b.depth; });
    plan_.nats.resize(s_.nats.size());
    plan_.firewalls.resize(s_.firewalls.size());
    size_t public_firewalls = 0;
    size_t private_firewalls = 0;
    for (const Pending& p : boxes) {
      BoxPlan& box = p.is_nat ? plan_.nats[p.index] : plan_.firewalls[p.index];
      box.name = p.name;
      box.is_nat = p.is_nat;
      const std::string& behind = p.is_nat ? s_.nats[p.index].behind : s_.firewalls[p.index].behind;
      const scenario::Link& link = p.is_nat ? s_.nats[p.index].link : s_.firewalls[p.index].link;
      box.ns = (p.is_nat ? "nat" : "fw") + std::to_string(p.index);
      const size_t addresses = p.is_nat ? s_.nats[p.index].external_ips : 1;
      const size_t spares = p.is_nat ? addresses * ChangeAddressEvents(s_, p.name) : 0;
      const bool portmap = p.is_nat && s_.nats[p.index].port_mapping.any();
      box.uplink = MakeUplink(box.ns, "wan", (p.is_nat ? "nat-" : "firewall-") + p.name, behind,
                              link, addresses, spares, portmap);
      Network lan = p.is_nat ? Network("behind NAT " + p.name,
                                       V4(10, static_cast<uint8_t>(p.index + 1), 0, 0), 24)
                             : FirewallLan(p.name, s_.firewalls[p.index].chain, public_firewalls,
                                           private_firewalls);
      box.lan_address = lan.Router();
      box.lan_prefix = lan.prefix();
      box.lan_subnet = lan.Subnet();
      lans_.emplace(p.name, std::move(lan));
      if (!p.is_nat) RouteToFirewall(box, s_.firewalls[p.index]);
    }
  }

  Network FirewallLan(const std::string& name, const std::vector<scenario::Hop>& chain,
                      size_t& public_count, size_t& private_count) {
    if (Public(chain)) {
      if (public_count == kMaxPublicFirewalls) {
        throw RunError("the real lab holds at most " + std::to_string(kMaxPublicFirewalls) +
                       " firewalls with no NAT above them (their LANs need public addresses)");
      }
      const auto block = static_cast<uint8_t>(32 * public_count++);
      return Network("behind firewall " + name, V4(198, 51, 100, block), 27);
    }
    if (private_count == kMaxPrivateFirewalls) {
      throw RunError("the real lab holds at most 255 firewalls behind NATs");
    }
    return Network("behind firewall " + name,
                   V4(192, 168, static_cast<uint8_t>(++private_count), 0), 24);
  }

  // Every router above the firewall, up to the nearest NAT or the internet,
  // must send the firewall's LAN to the box below it on the way.
  void RouteToFirewall(const BoxPlan& fw, const scenario::FirewallDef& def) {
    std::string via = fw.uplink.address;
    for (const scenario::Hop& hop : def.chain) {
      const BoxPlan* above = plan_.FindBox(hop.name);
      plan_.routes.push_back({above->ns, fw.lan_subnet, via});
      if (hop.kind == scenario::Hop::Kind::kNat) return;
      via = above->uplink.address;
    }
    plan_.routes.push_back({kCoreNamespace, fw.lan_subnet, via});
  }

  const scenario::Scenario& s_;
  LabPlan plan_;
  Network core_;
  Network portmap_;
  std::map<std::string, Network> lans_;
};

}  // namespace

const BoxPlan* LabPlan::FindBox(const std::string& name) const {
  for (const auto* list : {&nats, &firewalls}) {
    for (const BoxPlan& b : *list) {
      if (b.name == name) return &b;
    }
  }
  return nullptr;
}

const HostPlan* LabPlan::FindNode(const std::string& name) const {
  for (const HostPlan& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const HostPlan* LabPlan::FindDerp(const std::string& region_name) const {
  for (const HostPlan& d : derp) {
    if (d.name == region_name) return &d;
  }
  return nullptr;
}

std::vector<const BoxPlan*> LabPlan::BoxesInBuildOrder() const {
  std::vector<const BoxPlan*> order;
  // A box is ready once its parent namespace (the internet or a box already
  // listed) is; the nesting is acyclic (the loader checks), so this ends.
  std::vector<const BoxPlan*> left;
  for (const auto* list : {&nats, &firewalls}) {
    for (const BoxPlan& b : *list) left.push_back(&b);
  }
  while (!left.empty()) {
    const size_t before = left.size();
    for (auto it = left.begin(); it != left.end();) {
      const std::string& parent = (*it)->uplink.parent_ns;
      const bool ready = parent == kCoreNamespace ||
                         std::any_of(order.begin(), order.end(),
                                     [&](const BoxPlan* b) { return b->ns == parent; });
      if (ready) {
        order.push_back(*it);
        it = left.erase(it);
      } else {
        ++it;
      }
    }
    if (left.size() == before) break;  // cannot happen for a validated scenario
  }
  return order;
}

std::vector<const Uplink*> LabPlan::Uplinks() const {
  std::vector<const Uplink*> all;
  for (const BoxPlan* b : BoxesInBuildOrder()) all.push_back(&b->uplink);
  for (const HostPlan& d : derp) all.push_back(&d.uplink);
  all.push_back(&control.uplink);
  for (const HostPlan& n : nodes) all.push_back(&n.uplink);
  return all;
}

LabPlan PlanLab(const scenario::Scenario& scenario) { return Planner(scenario).Plan(); }

}  // namespace punchlab::runreal
