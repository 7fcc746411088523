#include "run-real/lab-world.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lab/bridge.h"
#include "lab/command.h"
#include "lab/lab-error.h"
#include "lab/nat-ruleset.h"
#include "run-real/firewall-ruleset.h"

namespace punchlab::runreal {
namespace {

using scenario::TargetKind;

std::string Cidr(const std::string& address, int prefix) {
  return address + "/" + std::to_string(prefix);
}

// Two independent chances to drop a packet, as one.
double CombinedLoss(double a, double b) { return 1 - (1 - a) * (1 - b); }

uint64_t SlowerRate(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

constexpr const char* kTcpTransitoryKeys[] = {
    "nf_conntrack_tcp_timeout_syn_sent", "nf_conntrack_tcp_timeout_syn_recv",
    "nf_conntrack_tcp_timeout_fin_wait", "nf_conntrack_tcp_timeout_close_wait",
    "nf_conntrack_tcp_timeout_last_ack", "nf_conntrack_tcp_timeout_time_wait",
    "nf_conntrack_tcp_timeout_close"};

}  // namespace

bool WireFromEnvironment() {
  const char* value = std::getenv("PUNCHLAB_LAB_LINKS");
  if (value == nullptr || std::string(value).empty() || std::string(value) == "wire") return true;
  if (std::string(value) == "kernel") return false;
  throw lab::LabError(std::string("PUNCHLAB_LAB_LINKS='") + value + "': write wire or kernel");
}

LabWorld::LabWorld(const scenario::Scenario& scenario, const LabPlan& plan,
                   std::vector<std::string>& notes, LinkOptions links)
    : scenario_(scenario), plan_(plan), notes_(notes), links_options_(std::move(links)) {}

LabWorld::~LabWorld() = default;

void LabWorld::Note(const scenario::SourcePos& where, const std::string& text) {
  const std::string note = where.line > 0 ? scenario_.file + ":" + std::to_string(where.line) +
                                                ":" + std::to_string(where.column) + ": " + text
                                          : text;
  // An event and its undo would say the same thing twice.
  if (std::find(notes_.begin(), notes_.end(), note) == notes_.end()) notes_.push_back(note);
}

const lab::Namespace& LabWorld::AddNamespace(const std::string& short_name) {
  return namespaces_.emplace(short_name, lab_.AddNamespace(short_name)).first->second;
}

const lab::Namespace& LabWorld::Ns(const std::string& short_name) const {
  const auto it = namespaces_.find(short_name);
  if (it == namespaces_.end()) throw lab::LabError("no lab namespace '" + short_name + "'");
  return it->second;
}

void LabWorld::Build() {
  const lab::Namespace& core = AddNamespace(kCoreNamespace);
  netem_ = lab::NetemAvailable(core);
  if (links_options_.wire) lab_.StartWire(links_options_.node_bin, links_options_.seed);
  lab::AddBridge(core, kCoreBridge, Cidr(kCoreAddress, kCorePrefix));
  if (!plan_.core_portmap_cidr.empty()) {
    // The port-mapping routers' network, on the same bridge (lab-plan.h).
    lab::CheckLabAddress(plan_.core_portmap_cidr);
    lab::RunCommand({"ip", "-n", core.full_name, "addr", "add", plan_.core_portmap_cidr, "dev",
                     kCoreBridge});
  }
  lab::KeepBridgesOutOfNetfilter(lab_, core);
  lab_.Sysctl(core, "net.ipv4.ip_forward", "1");
  // The core routes between hosts of one bridge (to firewall LANs): without
  // this it would also tell them to go around it (ICMP redirects).
  lab_.Sysctl(core, "net.ipv4.conf.all.send_redirects", "0");
  lab_.Sysctl(core, std::string("net.ipv4.conf.") + kCoreBridge + ".send_redirects", "0");

  for (const scenario::NatDef& def : scenario_.nats) {
    NatState& n = nats_[def.name];
    n.def = &def;
    n.box = plan_.FindBox(def.name);
    n.config = def.config;
  }
  for (const scenario::FirewallDef& def : scenario_.firewalls) {
    FirewallState& f = firewalls_[def.name];
    f.def = &def;
    f.box = plan_.FindBox(def.name);
    f.config = def.config;
  }
  for (const BoxPlan* box : plan_.BoxesInBuildOrder()) {
    AddNamespace(box->ns);
    BuildUplink(box->uplink);
    const lab::Namespace& ns = Ns(box->ns);
    lab::AddBridge(ns, kLanBridge, Cidr(box->lan_address, box->lan_prefix));
    lab::KeepBridgesOutOfNetfilter(lab_, ns);
    lab_.Sysctl(ns, "net.ipv4.ip_forward", "1");
    if (box->is_nat) {
      BuildNat(nats_.at(box->name));
    } else {
      BuildFirewall(firewalls_.at(box->name));
    }
  }
  for (const HostPlan& h : plan_.derp) {
    AddNamespace(h.ns);
    BuildUplink(h.uplink);
  }
  AddNamespace(plan_.control.ns);
  BuildUplink(plan_.control.uplink);
  for (const HostPlan& h : plan_.nodes) {
    AddNamespace(h.ns);
    BuildUplink(h.uplink);
  }
  for (const RoutePlan& r : plan_.routes) lab_.Route(Ns(r.ns), r.destination, r.via);

  bool delay_skipped = false;
  for (auto& [ns, link] : links_) {
    ApplyShape(link);
    delay_skipped |= !netem_ && (link.link.latency > Duration::Zero() ||
                                 link.link.jitter > Duration::Zero());
  }
  const scenario::Link& internet = scenario_.internet;
  if (!links_options_.wire && !netem_ && (delay_skipped || internet.latency > Duration::Zero() ||
                  internet.jitter > Duration::Zero())) {
    notes_.push_back(
        "latency and jitter are not emulated: this kernel has no netem qdisc (sch_netem, "
        "CONFIG_NET_SCH_NETEM), so every link ran without added delay (the scenario asks for " +
        internet.latency.ToString() +
        " one way across the internet alone): round trips and times to direct are shorter "
        "than the scenario's; loss and bandwidth are applied");
  }
  if (internet.bandwidth_bps > 0) {
    notes_.push_back(
        "internet bandwidth is applied on each link out of the internet core, not as one "
        "capacity shared by all traffic");
  }
}

void LabWorld::BuildUplink(const Uplink& u) {
  const lab::Namespace& child = Ns(u.ns);
  const lab::Namespace& parent = Ns(u.parent_ns);
  std::vector<std::string> cidrs = {Cidr(u.address, u.prefix)};
  for (const std::string& a : u.more_addresses) cidrs.push_back(Cidr(a, u.prefix));
  if (links_options_.wire) {
    lab_.WireLink(u.label, child, u.ifname, cidrs, parent, u.parent_port, {});
  } else {
    lab_.Link(child, u.ifname, cidrs, parent, u.parent_port, {});
  }
  lab::AttachToBridge(parent, u.parent_port, u.parent_bridge);
  lab_.Route(child, "default", u.gateway);
  LinkState& state = links_[u.ns];
  state.uplink = &u;
  state.link = u.link;
  state.shaped = std::make_unique<lab::ShapedLink>(lab::LinkEnd{child, u.ifname},
                                                   lab::LinkEnd{parent, u.parent_port});
}

void LabWorld::ApplyShape(LinkState& s) {
  lab::LinkShape up;  // child -> parent
  up.delay = s.link.latency;
  up.jitter = s.link.jitter;
  up.loss = s.link.loss;
  up.rate_bps = s.link.bandwidth_bps;
  up.down = s.down;
  lab::LinkShape down_dir = up;  // parent -> child
  if (s.uplink->to_internet) {
    // Crossing the internet from A to B: A's uplink, then the core's egress
    // toward B, which carries the internet's own properties once.
    const scenario::Link& i = scenario_.internet;
    down_dir.delay = up.delay + i.latency;
    down_dir.jitter = up.jitter + i.jitter;
    down_dir.loss = CombinedLoss(up.loss, i.loss);
    down_dir.rate_bps = SlowerRate(up.rate_bps, i.bandwidth_bps);
  }
  down_dir.down = s.down || s.inbound_held;
  if (links_options_.wire) {
    // The wire's link a is the child's end, b the bridge port.
    lab_.wire().SetShape(s.uplink->label, true, up);
    lab_.wire().SetShape(s.uplink->label, false, down_dir);
  } else {
    s.shaped->Set(up, down_dir, netem_);
  }
}

void LabWorld::ConntrackTimeouts(const lab::Namespace& ns, int64_t udp_s,
                                 int64_t tcp_established_s, int64_t tcp_transitory_s) {
  // "udp_timeout" covers flows seen one way only, "_stream" those with
  // replies: one mapping lifetime either way (as lab/nat-lab.cc does).
  lab_.Sysctl(ns, "net.netfilter.nf_conntrack_udp_timeout", std::to_string(udp_s));
  lab_.Sysctl(ns, "net.netfilter.nf_conntrack_udp_timeout_stream", std::to_string(udp_s));
  lab_.Sysctl(ns, "net.netfilter.nf_conntrack_tcp_timeout_established",
              std::to_string(tcp_established_s));
  for (const char* key : kTcpTransitoryKeys) {
    lab_.Sysctl(ns, std::string("net.netfilter.") + key, std::to_string(tcp_transitory_s));
  }
}

void LabWorld::BuildNat(NatState& n) {
  const lab::Namespace& ns = Ns(n.box->ns);
  // A change of address adds the new one before removing the old; the new
  // one then takes over instead of being deleted with it.
  lab_.Sysctl(ns, "net.ipv4.conf.all.promote_secondaries", "1");
  lab_.Sysctl(ns, "net.ipv4.conf.wan.promote_secondaries", "1");
  // A hairpinned datagram leaves by the interface it came in on; a redirect
  // would tell the sender to go around the NAT (as lab/nat-lab.cc says).
  lab_.Sysctl(ns, "net.ipv4.conf.all.send_redirects", "0");
  lab_.Sysctl(ns, std::string("net.ipv4.conf.") + kLanBridge + ".send_redirects", "0");
  n.addresses = {n.box->uplink.address};
  for (const std::string& a : n.box->uplink.more_addresses) n.addresses.push_back(a);
  n.translated = TranslateNat(n.config, n.addresses);
  for (const std::string& d : n.translated.linux_differences) {
    Note(n.def->where, "nat " + n.def->name + ": " + d);
  }
  ConntrackTimeouts(ns, n.translated.udp_timeout_s, n.translated.tcp_established_timeout_s,
                    n.translated.tcp_transitory_timeout_s);
  lab_.Nft(ns, lab::NatRuleset(n.translated.ruleset));
  if (n.def->port_mapping.any()) {
    n.portmap = TranslatePortMapping(n.def->port_mapping, n.box->lan_subnet);
    for (const std::string& d : n.portmap->differences) {
      Note(n.def->port_mapping_where, "nat " + n.def->name + ": " + d);
    }
    StartMiniupnpd(n);
  }
}

void LabWorld::StartMiniupnpd(NatState& n) {
  n.daemon = std::make_unique<lab::Miniupnpd>(lab_, Ns(n.box->ns), n.portmap->daemon);
}

void LabWorld::BuildFirewall(FirewallState& f) {
  const lab::Namespace& ns = Ns(f.box->ns);
  const nat::FlowTimeouts& t = f.config.timeouts;
  for (const auto& [knob, d] : {std::pair{"udp_timeout", t.udp},
                                std::pair{"tcp_established_timeout", t.tcp_established},
                                std::pair{"tcp_transitory_timeout", t.tcp_transitory}}) {
    if (Duration::Seconds(ConntrackSeconds(d)) != d) {
      Note(f.def->where, "firewall " + f.def->name + ": " + knob + ": " + d.ToString() +
                             " is rounded up to whole seconds (conntrack counts seconds)");
    }
  }
  ConntrackTimeouts(ns, ConntrackSeconds(t.udp), ConntrackSeconds(t.tcp_established),
                    ConntrackSeconds(t.tcp_transitory));
  lab_.Nft(ns, FirewallRuleset(f.config));
}

void LabWorld::FlushConntrack(const lab::Namespace& ns) {
  lab::CommandOptions o;
  o.check = false;
  const lab::CommandResult r = lab_.Exec(ns, {"conntrack", "-F"}, o);
  // conntrack -F exits 1 with "0 flow entries" on some versions when the
  // table is already empty; anything else is a real failure.
  if (r.exit_code != 0 && r.err.find("flow entries have been deleted") == std::string::npos) {
    throw lab::LabError("conntrack -F in " + ns.full_name + " failed (exit " +
                        std::to_string(r.exit_code) + "): " + lab::TrimRight(r.err));
  }
}

void LabWorld::RebootNat(const std::string& name) {
  NatState& n = nats_.at(name);
  const lab::Namespace& ns = Ns(n.box->ns);
  // First, within microseconds of the instant: the wire stops what reaches
  // the router from the internet, as the model's rebooted NAT (its mappings
  // gone at once) drops it. Each nft step below is a fork and exec of `ip
  // netns exec nft`, 25-65 ms at load 15: without the hold, a peer's
  // datagram arriving in that time still crossed the old mapping
  // (nat-reboot-dead-direct-path: the server's probe sent at the reboot
  // instant, 20 ms away, was echoed in the lab and lost in the model).
  const auto uplink = links_options_.wire ? links_.find(n.box->ns) : links_.end();
  if (uplink != links_.end()) {
    uplink->second.inbound_held = true;
    ApplyShape(uplink->second);
  }
  // The router is down while its state goes: nothing enters before conntrack
  // (priority raw). Without that, the datagrams of live flows cross between
  // the reload and the flush on their old conntrack entries, the record chain
  // writes their old mappings back into the emptied cone maps, and the
  // "rebooted" NAT hands out the same external ports again (found by
  // `punchlab compare` on nat-reboot-dead-direct-path: 1 probe lost where
  // the model loses every probe for seconds).
  lab_.Nft(ns, "table ip punchlab_reboot {\n"
               "  chain down {\n"
               "    type filter hook prerouting priority raw; policy drop;\n"
               "  }\n"
               "}\n");
  // Reloading the ruleset empties its dynamic maps (the cones' mappings);
  // the flush forgets every conntrack mapping.
  lab_.Nft(ns, "table ip punchlab_nat\ndelete table ip punchlab_nat\n" +
                   lab::NatRuleset(n.translated.ruleset));
  std::string leases;
  if (n.daemon) {
    // Power gone: the daemon cleans nothing up, its rules go with the
    // router's memory; only a lease file it stores survives.
    n.daemon->process().Kill();
    leases = n.daemon->dir() + "/leases";
    lab_.Nft(ns, std::string("table inet ") + lab::kPortmapTable + "\ndelete table inet " +
                     lab::kPortmapTable + "\n");
    if (!n.def->port_mapping.keep_on_reboot) std::remove(leases.c_str());
  }
  FlushConntrack(ns);
  lab_.Nft(ns, "delete table ip punchlab_reboot\n");
  if (uplink != links_.end()) {
    uplink->second.inbound_held = false;
    ApplyShape(uplink->second);
  }
  if (n.daemon) {
    n.past_daemons.push_back(std::move(n.daemon));
    StartMiniupnpd(n);
  }
  ++n.reboots;
}

void LabWorld::ChangeNatAddress(const std::string& name, const scenario::SourcePos& where) {
  NatState& n = nats_.at(name);
  const Uplink& u = n.box->uplink;
  const size_t count = n.addresses.size();
  if (n.spare_used + count > u.spare_addresses.size()) {
    // PlanLab reserves a set per change-address event, so this is a bug.
    throw lab::LabError(scenario_.file + ":" + std::to_string(where.line) + ":" +
                        std::to_string(where.column) + ": nat " + name +
                        " has no spare address left");
  }
  const std::vector<std::string> next(u.spare_addresses.begin() + static_cast<long>(n.spare_used),
                                      u.spare_addresses.begin() +
                                          static_cast<long>(n.spare_used + count));
  n.spare_used += count;
  const lab::Namespace& ns = Ns(n.box->ns);
  for (const std::string& a : next) {
    lab::RunCommand({"ip", "-n", ns.full_name, "addr", "add", Cidr(a, u.prefix), "dev", u.ifname});
  }
  for (const std::string& a : n.addresses) {
    lab::RunCommand({"ip", "-n", ns.full_name, "addr", "del", Cidr(a, u.prefix), "dev", u.ifname});
  }
  lab::RunCommand({"ip", "-n", ns.full_name, "route", "replace", "default", "via", u.gateway});
  n.addresses = next;
  // Rules that name the addresses (hairpin, a pool) must name the new ones.
  if (!n.translated.ruleset.wan_addresses.empty()) n.translated.ruleset.wan_addresses = next;
  RebootNat(name);
  --n.reboots;
  ++n.address_changes;
}

void LabWorld::SetNatMapping(const std::string& name, nat::Dependence mapping,
                             const scenario::SourcePos& where) {
  NatState& n = nats_.at(name);
  const nat::NatConfig before = n.config;
  n.config.mapping = mapping;
  LabNat next = TranslateNat(n.config, n.addresses);
  const std::vector<std::string> old = n.translated.linux_differences;
  for (const std::string& d : next.linux_differences) {
    if (std::find(old.begin(), old.end(), d) == old.end()) Note(where, "nat " + name + ": " + d);
  }
  n.translated = std::move(next);
  if (n.config == before) return;
  if (before.mapping == nat::Dependence::kEndpointIndependent ||
      before.filtering != nat::Dependence::kAddressAndPortDependent) {
    Note(where, "nat " + name +
                    ": the lab reloads the NAT's rules for the new mapping, which also drops the "
                    "nftables map entries (endpoint-independent mappings, a cone's filter) of "
                    "live mappings (their conntrack translations stay)");
  }
  // conntrack entries are untouched: live flows keep their translations.
  lab_.Nft(Ns(n.box->ns), "table ip punchlab_nat\ndelete table ip punchlab_nat\n" +
                              lab::NatRuleset(n.translated.ruleset));
}

void LabWorld::SetBlockUdp(const std::string& name, bool block) {
  FirewallState& f = firewalls_.at(name);
  f.config.block_udp = block;
  lab_.Nft(Ns(f.box->ns), FirewallRuleset(f.config));
}

LabWorld::LinkState& LabWorld::LinkOf(TargetKind kind, const std::string& target) {
  return const_cast<LinkState&>(static_cast<const LabWorld*>(this)->LinkOf(kind, target));
}

const LabWorld::LinkState& LabWorld::LinkOf(TargetKind kind, const std::string& target) const {
  const std::string* ns = nullptr;
  if (kind == TargetKind::kNode) {
    if (const HostPlan* h = plan_.FindNode(target)) ns = &h->ns;
  } else if (kind == TargetKind::kDerpRegion) {
    if (const HostPlan* h = plan_.FindDerp(target)) ns = &h->ns;
  } else if (const BoxPlan* b = plan_.FindBox(target)) {
    ns = &b->ns;
  }
  const auto it = ns ? links_.find(*ns) : links_.end();
  if (it == links_.end()) {
    throw lab::LabError(std::string("no lab link for ") + scenario::ToString(kind) + " '" +
                        target + "'");
  }
  return it->second;
}

scenario::Settings LabWorld::LinkSettings(TargetKind kind, const std::string& target) const {
  const LinkState& s = LinkOf(kind, target);
  scenario::Settings out;
  out.latency = s.link.latency;
  out.jitter = s.link.jitter;
  out.loss = s.link.loss;
  out.bandwidth_bps = s.link.bandwidth_bps;
  return out;
}

void LabWorld::SetLink(TargetKind kind, const std::string& target,
                       const scenario::Settings& settings, const scenario::SourcePos& where) {
  LinkState& s = LinkOf(kind, target);
  if (settings.latency) s.link.latency = *settings.latency;
  if (settings.jitter) s.link.jitter = *settings.jitter;
  if (settings.loss) s.link.loss = *settings.loss;
  if (settings.bandwidth_bps) s.link.bandwidth_bps = *settings.bandwidth_bps;
  if (!links_options_.wire && !netem_ && (settings.latency || settings.jitter)) {
    Note(where, std::string(settings.latency ? "latency" : "jitter") + " changes of " +
                    scenario::ToString(kind) + " " + target +
                    " are not applied: this kernel has no netem qdisc");
  }
  ApplyShape(s);
}

void LabWorld::SetLinkDown(TargetKind kind, const std::string& target, bool down) {
  LinkState& s = LinkOf(kind, target);
  s.down = down;
  ApplyShape(s);
}

std::map<std::string, std::map<std::string, uint64_t>> LabWorld::Counters() {
  std::map<std::string, std::map<std::string, uint64_t>> out;
  for (auto& [name, n] : nats_) {
    auto& c = out["nat/" + name];
    c["reboots"] = n.reboots;
    c["address_changes"] = n.address_changes;
    lab::CommandOptions o;
    o.check = false;
    const lab::CommandResult r = lab_.Exec(Ns(n.box->ns), {"conntrack", "-C"}, o);
    std::istringstream in(r.out);
    uint64_t entries = 0;
    if (r.exit_code == 0 && (in >> entries)) c["conntrack_entries"] = entries;
  }
  if (links_options_.wire && lab_.has_wire()) {
    // "link/<label>": what the wire did per direction ("up": from the
    // child towards the internet, "down": back).
    const nlohmann::json stats = nlohmann::json::parse(lab_.wire().Stats());
    for (auto& [label, dirs] : stats.items()) {
      auto& c = out["link/" + label];
      for (const auto& [dir, name] : {std::pair{"ab", "up"}, std::pair{"ba", "down"}}) {
        for (auto& [key, value] : dirs.at(dir).items()) {
          c[std::string(name) + "_" + key] = value.get<uint64_t>();
        }
      }
    }
  }
  return out;
}

std::optional<std::string> LabWorld::WireFlows() {
  if (!links_options_.wire || !lab_.has_wire()) return std::nullopt;
  return lab_.wire().Flows();
}

void LabWorld::SaveLogs(const std::string& dir) const {
  for (const auto& [name, n] : nats_) {
    std::vector<const lab::Miniupnpd*> runs;
    for (const auto& d : n.past_daemons) runs.push_back(d.get());
    if (n.daemon) runs.push_back(n.daemon.get());
    for (size_t i = 0; i < runs.size(); ++i) {
      const std::string base = dir + "/miniupnpd-" + name + "." + std::to_string(i);
      std::ofstream(base + ".cmd") << runs[i]->process().command() << "\n";
      std::ofstream(base + ".err") << runs[i]->Log();
    }
  }
}

}  // namespace punchlab::runreal
