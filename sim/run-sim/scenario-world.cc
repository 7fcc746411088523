#include "run-sim/scenario-world.h"

#include <algorithm>
#include <utility>

#include "helper/control-helper.h"
#include "helper/derp-helper.h"
#include "helper/nat-helper.h"
#include "model/ipv4-fast-path.h"
#include "model/punchlab-ns3-convert.h"
#include "model/wire-channel.h"
#include "ns3/data-rate.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/ipv4.h"
#include "ns3/node-list.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"
#include "punchlab/control/identity.h"
#include "punchlab/crypto/sign.h"
#include "punchlab/random.h"
#include "results/run-options.h"
#include "run-sim/run-sim.h"
#include "scenario/meaning/control-names.h"
#include "scenario/meaning/port-mapping.h"
#include "scenario/node-timers.h"

namespace punchlab {
namespace runsim {
namespace {

using ns3::Ipv4;
using ns3::Ipv4Address;
using ns3::Ptr;

// Datagrams of every size the scenario allows cross links whole: the NAT
// model does not reassemble fragments (a real NAT's conntrack does), so the
// links do not fragment.
constexpr uint16_t kMtu = 65535;

uint32_t InterfaceOf(Ptr<ns3::NetDevice> device) {
  return static_cast<uint32_t>(
      device->GetNode()->GetObject<Ipv4>()->GetInterfaceForDevice(device));
}

// A node with an IPv4 stack that routes statically (and nothing else, so no
// other routing protocol looks at every packet). No IPv6 stack: scenario
// worlds are IPv4 only, and ns-3 3.37's IPv6 stack costs every node a dozen
// random-number streams (each RngStream recomputes MRG32k3a's jump
// matrices: 7 % of a matrix cell's instructions) and its objects.
Ptr<ns3::Node> NewHost() {
  Ptr<ns3::Node> node = ns3::CreateObject<ns3::Node>();
  ns3::InternetStackHelper stack;
  ns3::Ipv4StaticRoutingHelper staticRouting;
  stack.SetRoutingHelper(staticRouting);
  stack.SetIpv6StackInstall(false);
  stack.Install(node);
  return node;
}

Ptr<ns3::Ipv4StaticRouting> StaticRoutingOf(Ptr<ns3::Node> node) {
  ns3::Ipv4StaticRoutingHelper helper;
  return helper.GetStaticRouting(node->GetObject<Ipv4>());
}

// Whether no NAT sits between a host and the internet (its chain).
bool OnPublicAddresses(const std::vector<scenario::Hop>& chain) {
  return std::none_of(chain.begin(), chain.end(),
                      [](const scenario::Hop& h) { return h.kind == scenario::Hop::Kind::kNat; });
}

// The links the world will put on public addresses (AddressPlan sizes its
// subnets by them): servers, and every box and node with no NAT above.
uint32_t PublicLinks(const scenario::Scenario& s) {
  size_t n = s.derp_regions.size() + 1;  // + the control server
  for (const scenario::NatDef& d : s.nats) n += OnPublicAddresses(d.chain) ? 1 : 0;
  for (const scenario::FirewallDef& d : s.firewalls) n += OnPublicAddresses(d.chain) ? 1 : 0;
  for (const scenario::NodeDef& d : s.nodes) n += OnPublicAddresses(d.chain) ? 1 : 0;
  return static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));
}

bool ChangesAddress(const scenario::Scenario& s, const std::string& nat) {
  return std::any_of(s.events.begin(), s.events.end(), [&](const scenario::Event& e) {
    return e.target_kind == scenario::TargetKind::kNat && e.target == nat &&
           e.action == scenario::Action::kChangeAddress;
  });
}

}  // namespace

ScenarioWorld::ScenarioWorld(const scenario::Scenario& scenario, uint64_t seed)
    : scenario_(scenario), seed_(seed), plan_(PublicLinks(scenario)) {
  internet = ns3::CreateObject<ns3::InternetChannel>();
  BuildBoxes();
  BuildServers();
  BuildNodes();
  RouteThroughFirewalls();
  InstallBoxes();
  InstallApplications();
  // Nothing here connects to the hosts' IPv4 traces, opens raw sockets on
  // them or opens UDP sockets but MachineHost's: packets to a host's own
  // address, and its UDP datagrams out, may skip ns-3's detours
  // (ipv4-fast-path.h; the boxes route with their middlebox and keep
  // ns-3's path for their own traffic).
  if (!Ipv4FastPaths()) return;
  for (auto it = ns3::NodeList::Begin(); it != ns3::NodeList::End(); ++it) {
    ns3::EnableLocalFastPath(*it);
  }
}

ScenarioWorld::~ScenarioWorld() = default;

ScenarioWorld::Parent ScenarioWorld::ParentOf(const std::string& behind) const {
  Parent p;
  if (behind.empty()) return p;
  const WorldBox& box = boxes.at(box_index_.at(behind));
  p.host = box.host;
  p.inside_public = box.inside_public;
  p.box = &box;
  return p;
}

// Why a public subnet is small, when it is: the world's public links share
// 198.18.0.0/15 (address-plan.h).
std::string ScenarioWorld::SubnetReason(const Subnet& subnet) const {
  if (subnet.size != plan_.public_subnet_size() || subnet.size == AddressPlan::kLargestPublicSubnet) {
    return "";
  }
  return ": its public subnet has " + std::to_string(subnet.size) +
         " addresses because this scenario's " + std::to_string(PublicLinks(scenario_)) +
         " public links share 198.18.0.0/15";
}

size_t ScenarioWorld::AddLink(const std::string& name, const Parent& parent,
                              Ptr<ns3::Node> lower, const scenario::Link& own,
                              uint32_t lower_addresses) {
  WorldLink link;
  link.name = name;
  link.own = own;
  link.subnet = parent.inside_public ? plan_.NextPublic() : plan_.NextPrivate();
  if (lower_addresses > link.subnet.Usable()) {
    throw results::RunError("link " + name + " needs " + std::to_string(lower_addresses) +
                            " addresses, more than its subnet holds (" +
                            std::to_string(link.subnet.Usable()) + ")" + SubnetReason(link.subnet));
  }
  DeterministicRandom random = DeterministicRandom(seed_).Fork("link/" + name);

  auto addInterface = [&](Ptr<ns3::NetDevice> device, const std::vector<Ipv4Address>& addresses) {
    device->SetMtu(kMtu);
    Ptr<Ipv4> ipv4 = device->GetNode()->GetObject<Ipv4>();
    const uint32_t interface = static_cast<uint32_t>(ipv4->AddInterface(device));
    for (const Ipv4Address& a : addresses) {
      ipv4->AddAddress(interface, ns3::Ipv4InterfaceAddress(a, link.subnet.mask));
    }
    ipv4->SetUp(interface);
  };
  std::vector<Ipv4Address> lowers;
  for (uint32_t i = 0; i < lower_addresses; ++i) lowers.push_back(link.subnet.Host(2 + i));

  link.lower = ns3::CreateObject<ns3::ShapedNetDevice>();
  link.lower->SetRandom(random.Fork("lower"));
  lower->AddDevice(link.lower);
  if (parent.box == nullptr) {
    // An access link: the internet delivers the subnet to this device.
    link.lower->Attach(internet);
    internet->AddRoute(link.subnet.network, link.subnet.mask, link.lower);
    addInterface(link.lower, lowers);
  } else {
    Ptr<ns3::WireChannel> wire = ns3::CreateObject<ns3::WireChannel>();
    link.upper = ns3::CreateObject<ns3::ShapedNetDevice>();
    link.upper->SetRandom(random.Fork("upper"));
    parent.host->AddDevice(link.upper);
    link.lower->Attach(wire);
    link.upper->Attach(wire);
    addInterface(link.lower, lowers);
    addInterface(link.upper, {link.subnet.Upper()});
  }
  // The lower end's way out is this link (on an access link the gateway is
  // nominal: shaped devices need no ARP).
  StaticRoutingOf(lower)->SetDefaultRoute(link.subnet.Upper(), InterfaceOf(link.lower));

  links.push_back(std::move(link));
  const size_t index = links.size() - 1;
  ApplyLinkSettings(index, own);
  return index;
}

void ScenarioWorld::ApplyLinkSettings(size_t index, const scenario::Link& own) {
  WorldLink& link = links.at(index);
  link.own = own;
  auto apply = [](ns3::ShapedNetDevice& device, const LinkParams& p) {
    device.SetDelay(ns3::NanoSeconds(p.latency.nanos()));
    device.SetJitter(ns3::NanoSeconds(p.jitter.nanos()));
    device.SetLoss(p.loss);
    device.SetDataRate(ns3::DataRate(p.bandwidth_bps == 0 ? kUnlimitedBps : p.bandwidth_bps));
  };
  if (link.internet()) {
    apply(*link.lower, CombineLink(own, &scenario_.internet));
    return;
  }
  // A wire's two ends share its latency, jitter and loss (each way: the
  // sender's half plus the receiver's half); both send at its rate.
  const auto [first, second] = SplitLink(own);
  apply(*link.lower, first);
  apply(*link.upper, second);
}

void ScenarioWorld::SetLinkUp(size_t index, bool up) {
  WorldLink& link = links.at(index);
  link.lower->SetUp(up);
  if (link.upper) link.upper->SetUp(up);
}

uint64_t ScenarioWorld::LinkLost(size_t index) const {
  const WorldLink& link = links.at(index);
  uint64_t n = link.lower->GetLost() + link.lower->GetDroppedQueue();
  if (link.upper) n += link.upper->GetLost() + link.upper->GetDroppedQueue();
  return n;
}

uint64_t ScenarioWorld::LinkDroppedDown(size_t index) const {
  const WorldLink& link = links.at(index);
  return link.lower->GetDroppedDown() + (link.upper ? link.upper->GetDroppedDown() : 0);
}

void ScenarioWorld::BuildBoxes() {
  // Parents before children: a box's chain lists every box above it.
  std::vector<WorldBox> pending;
  for (const scenario::NatDef& nat : scenario_.nats) {
    WorldBox b;
    b.name = nat.name;
    b.nat = true;
    b.nat_def = &nat;
    b.external_count = nat.external_ips;
    pending.push_back(b);
  }
  for (const scenario::FirewallDef& fw : scenario_.firewalls) {
    WorldBox b;
    b.name = fw.name;
    b.firewall_def = &fw;
    pending.push_back(b);
  }
  auto depth = [](const WorldBox& b) {
    return b.nat ? b.nat_def->chain.size() : b.firewall_def->chain.size();
  };
  std::stable_sort(pending.begin(), pending.end(),
                   [&](const WorldBox& x, const WorldBox& y) { return depth(x) < depth(y); });

  for (WorldBox& b : pending) {
    const std::string& behind = b.nat ? b.nat_def->behind : b.firewall_def->behind;
    const scenario::Link& own = b.nat ? b.nat_def->link : b.firewall_def->link;
    const Parent parent = ParentOf(behind);
    b.host = NewHost();
    b.inside_public = !b.nat && parent.inside_public;
    b.uplink = AddLink((b.nat ? "nat-" : "firewall-") + b.name, parent, b.host, own,
                       b.nat ? b.external_count : 1);
    // change-address moves the NAT to the next set of addresses in its
    // subnet: there must be a next one.
    const Subnet& subnet = links[b.uplink].subnet;
    if (b.nat && ChangesAddress(scenario_, b.name) && 2 * b.external_count > subnet.Usable()) {
      throw results::RunError("NAT " + b.name + " changes address, but its uplink's subnet holds " +
                              std::to_string(subnet.Usable()) + " addresses, no second set of " +
                              std::to_string(b.external_count) + SubnetReason(subnet));
    }
    boxes.push_back(std::move(b));
    box_index_[boxes.back().name] = boxes.size() - 1;
  }
}

void ScenarioWorld::BuildServers() {
  const Parent onInternet = ParentOf("");

  punchlab::control::DerpMap derpMap;
  for (const scenario::DerpRegion& def : scenario_.derp_regions) {
    WorldRegion r;
    r.def = &def;
    r.host = NewHost();
    scenario::Link own;
    own.latency = def.latency;
    r.link = AddLink("derp-" + def.name, onInternet, r.host, own, 1);
    ns3::DerpServerHelper helper(links[r.link].subnet.Lower());
    helper.SetAttribute("Seed", ns3::UintegerValue(seed_));
    ns3::ApplicationContainer apps = helper.Install(r.host);
    r.server = ns3::DynamicCast<ns3::DerpServerApplication>(apps.Get(0));
    derpMap.regions.push_back(ns3::DerpServerHelper::MakeRegion(def.id, def.name, apps));
    regions.push_back(r);
  }

  control_host = NewHost();
  scenario::Link own;
  own.latency = scenario_.control.latency;
  control_link = AddLink("control", onInternet, control_host, own, 1);
  ns3::ControlServerHelper helper(links[control_link].subnet.Lower());
  helper.SetAttribute("Seed", ns3::UintegerValue(seed_));
  helper.SetAttribute("BatchDelay", ns3::TimeValue(ns3::NanoSeconds(
                                        scenario_.control.batch_delay.nanos())));
  helper.SetDerpMap(derpMap);
  // Nodes' tokens come from one identity provider, trusted for every domain.
  DeterministicRandom idpRandom = DeterministicRandom(seed_).Fork("scenario/idp");
  idp_ = std::make_unique<control::IdentityProvider>(SigningKey::Generate(idpRandom));
  // The loader refused two domains with the same control domain.
  std::vector<std::string> domains;
  for (const std::string& d : scenario_.control.domains) domains.push_back(scenario::ControlDomain(d));
  helper.AddTrustedIssuer(idp_->verify_key(), domains);
  control = ns3::DynamicCast<ns3::ControlServerApplication>(helper.Install(control_host).Get(0));
  control->SetAccessRules(scenario::ControlAccessRules(scenario_));
}

void ScenarioWorld::BuildNodes() {
  for (const scenario::NodeDef& def : scenario_.nodes) {
    WorldNode n;
    n.name = def.name;
    n.def = &def;
    n.host = NewHost();
    n.link = AddLink("node-" + def.name, ParentOf(def.behind), n.host, def.link, 1);
    n.address = links[n.link].subnet.Lower();
    nodes.push_back(n);
    node_index_[def.name] = nodes.size() - 1;
  }
  std::vector<punchlab::Endpoint> own;
  for (const WorldNode& n : nodes) own.emplace_back(ns3::ToPunchlab(n.address), kNodePort);
  paths_.emplace(scenario_, std::move(own));
}

// A firewall does not translate, so whatever hangs below it keeps its own
// addresses and the boxes above must route them: each link behind a
// firewall is routed at the firewall's parent via the firewall's uplink, and
// on up while the parent is a firewall too. Above a NAT nobody needs it.
void ScenarioWorld::RouteThroughFirewalls() {
  auto routeUp = [&](const Subnet& subnet, const std::string& behind) {
    std::string current = behind;
    while (!current.empty()) {
      const WorldBox& box = boxes.at(box_index_.at(current));
      if (box.nat) return;
      const WorldLink& uplink = links.at(box.uplink);
      if (uplink.internet()) {
        internet->AddRoute(subnet.network, subnet.mask, uplink.lower);
        return;
      }
      StaticRoutingOf(uplink.upper->GetNode())
          ->AddNetworkRouteTo(subnet.network, subnet.mask, uplink.subnet.Lower(),
                              InterfaceOf(uplink.upper));
      current = box.firewall_def->behind;
    }
  };
  for (const WorldBox& b : boxes) {
    routeUp(links.at(b.uplink).subnet, b.nat ? b.nat_def->behind : b.firewall_def->behind);
  }
  for (const WorldNode& n : nodes) routeUp(links.at(n.link).subnet, n.def->behind);
}

void ScenarioWorld::InstallBoxes() {
  // Inside interfaces: the upper ends of the links that hang off each box.
  std::map<Ptr<ns3::Node>, std::vector<uint32_t>> inside;
  for (const WorldLink& l : links) {
    if (!l.internet()) inside[l.upper->GetNode()].push_back(InterfaceOf(l.upper));
  }
  for (WorldBox& b : boxes) {
    ns3::NatHelper helper;
    helper.SetSeed(seed_);
    if (b.nat) {
      helper.SetNat(b.nat_def->config);
    } else {
      helper.DisableNat();
      helper.SetFirewall(b.firewall_def->config);
    }
    b.box = helper.Install(b.host, inside[b.host], InterfaceOf(links.at(b.uplink).lower));
    if (b.nat && b.nat_def->port_mapping.any()) b.box->EnablePortMapping(b.nat_def->port_mapping);
    // Nothing here connects to the boxes' IPv4 traces or opens raw sockets
    // on them: translated packets may skip ns-3's IPv4 stack.
    if (Ipv4FastPaths()) b.box->EnableFastPath();
  }
}

void ScenarioWorld::InstallApplications() {
  const punchlab::Endpoint controlEndpoint = control->GetEndpoint();
  const ns3::Time expires = ns3::NanoSeconds(scenario_.stop_time.nanos()) + ns3::Hours(1);
  // Derived from the control server's seed on every call (an X25519 base
  // multiplication): once, not once a node.
  const std::string controlKey = control->GetPublicKey().ToString();
  for (WorldNode& n : nodes) {
    n.app = ns3::CreateObject<ns3::NodeApplication>();
    n.app->SetAttribute("ControlAddress", ns3::AddressValue(links[control_link].subnet.Lower()));
    n.app->SetAttribute("ControlPort", ns3::UintegerValue(controlEndpoint.port));
    n.app->SetAttribute("ControlKey", ns3::StringValue(controlKey));
    n.app->SetAttribute("Seed", ns3::UintegerValue(seed_));
    n.app->SetAttribute("LocalAddress", ns3::AddressValue(n.address));
    n.app->SetAttribute("LocalPort", ns3::UintegerValue(kNodePort));
    punchlab::node::NodeConfig base;
    scenario::ApplyNodeTimers(n.def->timers, base);
    base.disco_log = scenario_.disco_log;
    // Behind a NAT the node asks its gateway (the NAT's address on its link)
    // for a port mapping (scenario/meaning/port-mapping.h).
    if (scenario::PortMappingGateway(scenario_, *n.def) != nullptr) {
      base.gateway = ns3::ToPunchlab(links.at(n.link).subnet.Upper());
    }
    base.data_plane = n.def->data_plane;
    n.app->SetBaseConfig(base);
    n.host->AddApplication(n.app);
    n.key = n.app->GetPublicKey();
    n.app->SetAttribute("Token", ns3::StringValue(ns3::ControlServerHelper::IssueToken(
                                     *idp_, scenario::ControlUser(*n.def),
                                     scenario::ControlDomain(n.def->domain), n.key, expires)));
    n.app->SetStartTime(ns3::NanoSeconds(n.def->start.nanos()));
    node_by_key_[n.key] = static_cast<size_t>(&n - nodes.data());
  }
}

WorldNode* ScenarioWorld::FindNode(const std::string& name) {
  const auto it = node_index_.find(name);
  return it == node_index_.end() ? nullptr : &nodes[it->second];
}

WorldBox* ScenarioWorld::FindBox(const std::string& name) {
  const auto it = box_index_.find(name);
  return it == box_index_.end() ? nullptr : &boxes[it->second];
}

WorldRegion* ScenarioWorld::FindRegion(const std::string& name) {
  for (WorldRegion& r : regions) {
    if (r.def->name == name) return &r;
  }
  return nullptr;
}

const WorldNode* ScenarioWorld::FindNodeByKey(const punchlab::NodePublicKey& key) const {
  const auto it = node_by_key_.find(key);
  return it == node_by_key_.end() ? nullptr : &nodes[it->second];
}

std::vector<Ipv4Address> ScenarioWorld::NextExternalAddresses(WorldBox& box) {
  const Subnet& s = links.at(box.uplink).subnet;
  const uint32_t sets = s.Usable() / box.external_count;
  const uint32_t set = (++box.address_changes) % sets;
  std::vector<Ipv4Address> out;
  for (uint32_t i = 0; i < box.external_count; ++i) out.push_back(s.Host(2 + set * box.external_count + i));
  return out;
}

}  // namespace runsim
}  // namespace punchlab
