// The network half of a scenario: internet, DERP regions, control server,
// NATs, firewalls and nodes, with every `behind` resolved into a chain.
#include <algorithm>
#include <map>
#include <set>

#include "punchlab/control/access-rules.h"
#include "scenario/meaning/control-names.h"
#include "scenario/sections.h"

namespace punchlab {
namespace scenario {

namespace {

constexpr std::string_view kInternetName = "internet";

// The keys of nats.NAME that are not NAT SPEC knobs; every other key is one
// (a test checks the schema's knobs against nat::ParseNatSpec's).
bool IsNatKnob(std::string_view key) {
  return key != "preset" && key != "external_ips" && key != "behind" && key != "link" &&
         key != "port_mapping";
}

Link ReadLink(Reader& r, const Fields& f) {
  Link link;
  if (auto d = r.GetDuration(f, "latency")) link.latency = *d;
  if (auto d = r.GetDuration(f, "jitter")) link.jitter = *d;
  if (auto p = r.GetPercent(f, "loss")) link.loss = *p;
  if (auto b = r.GetBitRate(f, "bandwidth", true)) link.bandwidth_bps = *b;
  return link;
}

// The map at `key` of `f` (written or default), checked as `section`.
std::optional<Fields> SubMap(Reader& r, const Fields& f, std::string_view key,
                             const std::string& path, std::string_view section,
                             const Fields* inherit = nullptr) {
  auto v = r.Get(f, key);
  if (!v) return std::nullopt;
  return r.Map(*v, path, section, inherit);
}

// A link that inherits key by key: the one written in `f` (or none) over `inherit`.
Link ReadInheritedLink(Reader& r, const Fields& f, const std::string& path,
                       const Fields* inherit) {
  Value empty;
  empty.mark = f.mark();
  const Value* own = f.Own("link");
  auto link = r.Map(own != nullptr ? *own : empty, path, section::kLink, inherit);
  return link ? ReadLink(r, *link) : Link{};
}

// The node's protocol timers (node-timers.h), written or inherited from
// defaults; each longer than zero.
NodeTimers ReadNodeTimers(Reader& r, const Fields& f) {
  NodeTimers t;
  const std::pair<const char*, std::optional<Duration> NodeTimers::*> keys[] = {
      {"heartbeat", &NodeTimers::heartbeat},
      {"trust_window", &NodeTimers::trust_window},
      {"idle_timeout", &NodeTimers::idle_timeout},
      {"restun_interval", &NodeTimers::restun_interval},
      {"upgrade_interval", &NodeTimers::upgrade_interval},
      {"ping_timeout", &NodeTimers::ping_timeout},
      {"persistent_keepalive", &NodeTimers::persistent_keepalive},
  };
  for (const auto& [key, field] : keys) {
    auto v = r.Get(f, key);
    if (!v) continue;
    auto d = r.DurationOf(*v);
    if (!d) continue;
    if (*d <= Duration::Zero()) {
      r.Error(v->mark, v->what() + ": must be longer than 0s");
      continue;
    }
    t.*field = *d;
  }
  return t;
}

// "" for internet, the name otherwise; nullopt when invalid.
std::optional<std::string> ReadBehind(Reader& r, const Fields& f) {
  auto behind = r.GetName(f, "behind");
  if (!behind) return std::nullopt;
  return *behind == kInternetName ? std::string() : *behind;
}

std::optional<nat::PortRule> ParsePortRule(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string proto = text.substr(0, colon);
  nat::PortRule rule;
  if (proto == "udp") {
    rule.protocol = nat::Protocol::kUdp;
  } else if (proto == "tcp") {
    rule.protocol = nat::Protocol::kTcp;
  } else {
    return std::nullopt;
  }
  if (colon == std::string::npos) return rule;
  // Reuse the NAT SPEC's port range check: "FIRST-LAST", or one port.
  std::string range = text.substr(colon + 1);
  if (range.find('-') == std::string::npos) range += "-" + range;
  if (range.find(',') != std::string::npos || range.find('=') != std::string::npos) {
    return std::nullopt;
  }
  auto spec = nat::ParseNatSpec("port_range=" + range);
  if (!spec) return std::nullopt;
  rule.first = spec.config->port_range.first;
  rule.last = spec.config->port_range.last;
  return rule;
}

std::vector<nat::PortRule> ReadPortRules(Reader& r, const Fields& f, std::string_view key,
                                         const std::string& path) {
  std::vector<nat::PortRule> rules;
  auto v = r.Get(f, key);
  if (!v) return rules;
  auto items = r.List(*v, path + "." + std::string(key));
  if (!items) return rules;
  for (const Value& item : *items) {
    auto text = r.Text(item);
    if (!text) continue;
    if (auto rule = ParsePortRule(*text)) {
      rules.push_back(*rule);
    } else {
      r.Error(item.mark, item.what() + ": '" + *text +
                             "' is not a port rule; write udp:41641, tcp:8000-8100, or udp for "
                             "every port");
    }
  }
  return rules;
}

// control.acls[] as written, with positions: its names are checked once the
// nodes are known (CheckRuleNames).
struct WrittenRule {
  YAML::Mark mark;         // the entry
  std::string where;       // control.acls[i]
  YAML::Mark domain_mark;  // its domain (the entry's when not written)
  bool domain_written = false;
  AccessRuleDef def;
  std::vector<std::pair<std::string, YAML::Mark>> src, dst;
};

std::vector<WrittenRule> ReadAccessRules(Reader& r, const Fields& control) {
  std::vector<WrittenRule> rules;
  auto list_value = r.Get(control, "acls");
  auto list = list_value ? r.List(*list_value, "control.acls") : std::nullopt;
  for (const Value& entry : list.value_or(std::vector<Value>{})) {
    auto f = r.Map(entry, entry.where, section::kAcl);
    if (!f) continue;
    WrittenRule w;
    w.mark = entry.mark;
    w.where = entry.where;
    w.def.where = PositionOf(entry.mark);
    // Unwritten: the domain of the nodes it names (CheckRuleNames).
    const Value* own_domain = f->Own("domain");
    std::optional<std::string> domain;
    if (own_domain != nullptr) {
      domain = r.Name(*own_domain);
      if (!domain) continue;
    }
    w.domain_written = own_domain != nullptr;
    w.domain_mark = own_domain != nullptr ? own_domain->mark : entry.mark;
    auto src_value = r.Get(*f, "src");
    auto dst_value = r.Get(*f, "dst");
    auto src = src_value ? r.TextList(*src_value) : std::nullopt;
    auto dst = dst_value ? r.TextList(*dst_value) : std::nullopt;
    if (!src || !dst) continue;
    w.def.domain = domain.value_or("");
    w.src = std::move(*src);
    w.dst = std::move(*dst);
    rules.push_back(std::move(w));
  }
  return rules;
}

// Every rule's domain is a control domain; every entry * or a node of it.
void CheckRuleNames(Reader& r, std::vector<WrittenRule>& written, Scenario& s) {
  std::map<std::string, const NodeDef*> by_name;
  std::vector<std::string> names;
  for (const NodeDef& n : s.nodes) {
    by_name.emplace(n.name, &n);
    names.push_back(n.name);
  }
  for (WrittenRule& w : written) {
    const auto& known = s.control.domains;
    if (!w.domain_written) {
      // The first node it names says. Naming only * (or nobody) says nothing:
      // the only domain, else the rule must write one (guessing one would
      // leave the meant domain without rules: everyone reaches everyone).
      std::optional<std::string> first;
      for (const auto* side : {&w.src, &w.dst}) {
        for (const auto& entry : *side) {
          auto node = by_name.find(entry.first);
          if (!first && node != by_name.end()) first = node->second->domain;
        }
      }
      if (!first && known.empty()) continue;  // control.domains said so already
      if (!first && known.size() > 1) {
        std::string list;
        for (const std::string& d : known) list += (list.empty() ? "" : ", ") + d;
        r.Error(w.mark, w.where + " names no node, so it says no domain, and control.domains "
                        "lists " + std::to_string(known.size()) + " (" + list +
                        "); write the rule's domain, e.g. domain: " + known.front());
        continue;
      }
      w.def.domain = first ? *first : known.front();
    }
    if (std::find(known.begin(), known.end(), w.def.domain) == known.end()) {
      r.UnknownName(w.domain_mark, "domain", "control.domains", "control.acls", w.def.domain,
                    known, "; give the rule the domain of the nodes it names");
      continue;
    }
    bool ok = true;
    auto check = [&](const std::vector<std::pair<std::string, YAML::Mark>>& side,
                     std::vector<std::string>& out) {
      for (const auto& [name, mark] : side) {
        if (name == control::kAnyUser) {
          out.push_back(name);
          continue;
        }
        auto node = by_name.find(name);
        if (node == by_name.end()) {
          r.UnknownName(mark, "node", "nodes", "control.acls", name, names,
                        "; a rule names nodes or * (every node of its domain)");
          ok = false;
        } else if (node->second->domain != w.def.domain) {
          r.Error(mark, "node '" + name + "' is in domain '" + node->second->domain +
                            "', not in this rule's domain '" + w.def.domain +
                            "'; rules never cross domains: give the rule domain: " +
                            node->second->domain + " or name a node of " + w.def.domain);
          ok = false;
        } else {
          out.push_back(name);
        }
      }
    };
    check(w.src, w.def.src);
    check(w.dst, w.def.dst);
    if (ok) s.control.acls.push_back(std::move(w.def));
  }
}

std::vector<WrittenRule> ReadInternetDerpControl(Reader& r, const Fields& top, Scenario& s) {
  std::vector<WrittenRule> rules;
  if (auto internet = SubMap(r, top, "internet", "internet", section::kInternet)) {
    s.internet = ReadLink(r, *internet);
  }

  if (auto derp = SubMap(r, top, "derp", "derp", section::kDerp)) {
    auto regions_value = r.Get(*derp, "regions");
    auto regions = regions_value ? r.List(*regions_value, "derp.regions") : std::nullopt;
    for (const Value& entry : regions.value_or(std::vector<Value>{})) {
      auto f = r.Map(entry, entry.where, section::kDerpRegion);
      if (!f) continue;
      DerpRegion region;
      region.where = PositionOf(entry.mark);
      auto id = r.GetInteger(*f, "id", 1, 65535);
      auto name = r.GetName(*f, "name");
      if (auto latency = r.GetDuration(*f, "latency")) region.latency = *latency;
      if (!id || !name) continue;
      region.id = static_cast<int>(*id);
      region.name = *name;
      for (const DerpRegion& other : s.derp_regions) {
        if (other.id == region.id) {
          r.Error(f->Own("id")->mark, "DERP region id " + std::to_string(region.id) +
                                          " is used twice (first at line " +
                                          std::to_string(other.where.line) +
                                          "); give each region its own id");
        }
        if (other.name == region.name) {
          r.Error(f->Own("name")->mark, "DERP region name '" + region.name +
                                            "' is used twice (first at line " +
                                            std::to_string(other.where.line) +
                                            "); give each region its own name");
        }
      }
      s.derp_regions.push_back(std::move(region));
    }
  }

  if (auto control = SubMap(r, top, "control", "control", section::kControl)) {
    if (auto latency = r.GetDuration(*control, "latency")) s.control.latency = *latency;
    if (auto delay = r.GetDuration(*control, "batch_delay")) {
      // Longer would hold a node's first news of its peers past any
      // reasonable run (headscale's default is 800 ms).
      if (*delay > Duration::Seconds(60)) {
        r.Error(r.Get(*control, "batch_delay")->mark,
                "control.batch_delay " + delay->ToString() + " is longer than 60s");
      } else {
        s.control.batch_delay = *delay;
      }
    }
    auto domains_value = r.Get(*control, "domains");
    auto domains = domains_value ? r.NameList(*domains_value) : std::nullopt;
    for (const auto& [name, mark] : domains.value_or(decltype(domains)::value_type{})) {
      if (std::find(s.control.domains.begin(), s.control.domains.end(), name) !=
          s.control.domains.end()) {
        r.Error(mark, "domain '" + name + "' is listed twice in control.domains; keep one");
        continue;
      }
      // The control plane knows domains by ControlDomain (lower case, '_' as
      // '-'): two that map to one name would be one domain in both runners.
      // (A lambda may not capture a structured binding in C++17: clang refuses.)
      const std::string control_name = ControlDomain(name);
      const auto same = std::find_if(
          s.control.domains.begin(), s.control.domains.end(),
          [&](const std::string& d) { return ControlDomain(d) == control_name; });
      if (same != s.control.domains.end()) {
        r.Error(mark, "domains '" + *same + "' and '" + name + "' are the same domain to the "
                      "control server ('" + ControlDomain(name) + "'); rename one");
        continue;
      }
      s.control.domains.push_back(name);
    }
    if (domains && domains->empty()) {
      r.Error(domains_value->mark,
              "control.domains lists no domain; every node needs one, e.g. domains: [default]");
    }
    rules = ReadAccessRules(r, *control);
  }
  return rules;
}

// nats.NAME.port_mapping: what the router offers and how it answers.
nat::PortMappingConfig ReadPortMapping(Reader& r, const Fields& f) {
  nat::PortMappingConfig c;
  if (auto list = r.Get(f, "protocols")) {
    auto names = r.NameList(*list);
    for (const auto& [name, mark] : names.value_or(decltype(names)::value_type{})) {
      auto p = portmap::ParseMappingProtocol(name);
      if (!p) {
        r.Error(mark, "port_mapping.protocols: '" + name +
                          "' is not a port-mapping protocol; write pmp, pcp or upnp");
        continue;
      }
      if (c.offers(*p)) {
        r.Error(mark, "port_mapping.protocols lists '" + name + "' twice; keep one");
        continue;
      }
      (*p == portmap::MappingProtocol::kPmp   ? c.pmp
       : *p == portmap::MappingProtocol::kPcp ? c.pcp
                                              : c.upnp) = true;
    }
    if (names && names->empty()) {
      r.Error(list->mark, "port_mapping.protocols lists nothing; write e.g. [pmp, pcp], or "
                          "leave port_mapping out for a router that offers none");
    }
  }
  if (auto limit = r.GetDuration(f, "lease_limit")) {
    if (*limit < Duration::Seconds(1)) {
      r.Error(f.Own("lease_limit")->mark,
              "port_mapping.lease_limit: leases are whole seconds; write 1s or more");
    } else {
      c.lease_limit = *limit;
    }
  }
  if (auto e = r.GetChoice(f, "error")) c.error = *nat::ParsePortMappingError(*e);
  if (auto a = r.GetChoice(f, "answer_from")) c.answer_from = *nat::ParseAnswerFrom(*a);
  if (auto keep = r.GetBool(f, "keep_on_reboot")) c.keep_on_reboot = *keep;
  if (auto e = r.GetChoice(f, "upnp_lease_error")) c.upnp_lease_error = *nat::ParseUpnpLeaseError(*e);
  if (auto m = r.GetBool(f, "multicast_only")) c.multicast_only = *m;
  return c;
}

NatDef ReadNat(Reader& r, const std::string& name, const Value& value, const Fields& f) {
  NatDef n;
  n.name = name;
  n.where = PositionOf(value.key_mark);
  n.preset = r.GetChoice(f, "preset").value_or("port-restricted-cone");
  // The NAT is built from a SPEC by nat::ParseNatSpec, as `--nat SPEC` is;
  // each knob is first checked alone so its error points at its own line.
  std::string spec = n.preset;
  for (const SchemaKey& row : SchemaKeys()) {
    if (row.section != section::kNat || !IsNatKnob(row.key)) continue;
    const std::string& knob = row.key;
    const Value* v = f.Own(knob);
    if (v == nullptr) continue;
    std::optional<std::string> text;
    switch (v->key->kind) {
      case ValueKind::kBool:
        if (auto on = r.Bool(*v)) text = *on ? "on" : "off";
        break;
      case ValueKind::kChoice: text = r.Choice(*v); break;
      case ValueKind::kDuration:
        if (r.DurationOf(*v)) text = v->node.Scalar();
        break;
      default: text = r.Text(*v); break;
    }
    if (!text) continue;
    // A ',' or '=' would smuggle more knobs into the SPEC.
    if (text->find_first_of(",=") != std::string::npos) {
      r.Error(v->mark, v->what() + ": '" + *text + "' is not a valid value; write e.g. " +
                           v->key->example);
      continue;
    }
    const std::string item = knob + "=" + *text;
    const nat::NatSpecResult alone = nat::ParseNatSpec(item);
    if (!alone) {
      r.Error(v->mark, v->what() + ": " + alone.error);
      continue;
    }
    spec += "," + item;
  }
  if (auto built = nat::ParseNatSpec(spec)) {
    n.config = *built.config;
  } else {
    r.Error(value.key_mark, "nats." + name + ": " + built.error);
  }
  if (auto ips = r.GetInteger(f, "external_ips", 1, 16)) n.external_ips = static_cast<uint32_t>(*ips);
  n.behind = ReadBehind(r, f).value_or("");
  n.link = ReadInheritedLink(r, f, "nats." + name + ".link", nullptr);
  if (auto pm = SubMap(r, f, "port_mapping", "nats." + name + ".port_mapping",
                       section::kPortMapping)) {
    n.port_mapping = ReadPortMapping(r, *pm);
    if (const Value* own = f.Own("port_mapping")) n.port_mapping_where = PositionOf(own->key_mark);
  }
  return n;
}

FirewallDef ReadFirewall(Reader& r, const std::string& name, const Value& value,
                         const Fields& f) {
  FirewallDef w;
  w.name = name;
  w.where = PositionOf(value.key_mark);
  const std::string path = "firewalls." + name;
  if (auto b = r.GetBool(f, "block_udp")) w.config.block_udp = *b;
  auto timeout = [&](std::string_view key, Duration& out) {
    auto d = r.GetDuration(f, key);
    if (!d) return;
    if (*d <= Duration::Zero()) {
      r.Error(f.Own(key)->mark, std::string(key) + " in " + path +
                                    " must be longer than 0s; write e.g. " +
                                    FindSchemaKey(section::kFirewall, key)->example);
      return;
    }
    out = *d;
  };
  timeout("udp_timeout", w.config.timeouts.udp);
  timeout("tcp_established_timeout", w.config.timeouts.tcp_established);
  timeout("tcp_transitory_timeout", w.config.timeouts.tcp_transitory);
  w.config.inbound_allow = ReadPortRules(r, f, "inbound_allow", path);
  w.config.outbound_allow = ReadPortRules(r, f, "outbound_allow", path);
  w.behind = ReadBehind(r, f).value_or("");
  w.link = ReadInheritedLink(r, f, path + ".link", nullptr);
  return w;
}

// Where each NAT and firewall hangs, for resolving chains.
struct Box {
  Hop::Kind kind;
  std::string behind;
  YAML::Mark behind_mark;
};

class ChainResolver {
 public:
  ChainResolver(Reader& r, Scenario& s) : r_(r), s_(s) {}

  void AddBox(const std::string& name, Hop::Kind kind, const std::string& behind,
              const YAML::Mark& mark) {
    boxes_[name] = Box{kind, behind, mark};
    order_.push_back(name);
  }
  void AddNode(const std::string& name) { nodes_.insert(name); }

  // Checks every `behind`, reports loops, fills each box's and node's chain.
  // `node_behind`: where each node's `behind` was written (maybe in defaults).
  void Resolve(const std::map<std::string, Value>& node_behind) {
    std::set<std::string> broken;  // unknown behind: already reported
    for (const std::string& name : order_) {
      Box& box = boxes_[name];
      if (!box.behind.empty() &&
          !CheckTarget(box.behind, box.behind_mark, KindName(box.kind) + "s." + name)) {
        broken.insert(name);
      }
    }
    std::set<std::set<std::string>> loops_reported;
    std::map<std::string, std::vector<Hop>> chains;
    for (const std::string& name : order_) {
      std::vector<std::string> path{name};
      bool ok = true;
      while (true) {
        const Box& box = boxes_[path.back()];
        if (broken.count(path.back()) != 0) {
          ok = false;
          break;
        }
        if (box.behind.empty()) break;
        auto loop_start = std::find(path.begin(), path.end(), box.behind);
        if (loop_start != path.end()) {
          ReportLoop(std::vector<std::string>(loop_start, path.end()), loops_reported);
          ok = false;
          break;
        }
        path.push_back(box.behind);
      }
      if (!ok) continue;
      std::vector<Hop> chain;
      for (size_t i = 1; i < path.size(); ++i) chain.push_back(Hop{boxes_[path[i]].kind, path[i]});
      chains[name] = std::move(chain);
    }
    for (NatDef& n : s_.nats) n.chain = chains[n.name];
    for (FirewallDef& w : s_.firewalls) w.chain = chains[w.name];
    for (NodeDef& node : s_.nodes) {
      if (node.behind.empty()) continue;
      auto written = node_behind.find(node.name);
      if (written == node_behind.end() ||
          !CheckTarget(node.behind, written->second.mark, written->second.where)) {
        continue;
      }
      auto chain = chains.find(node.behind);
      if (chain == chains.end()) continue;  // behind a loop: reported there
      node.chain = {Hop{boxes_[node.behind].kind, node.behind}};
      node.chain.insert(node.chain.end(), chain->second.begin(), chain->second.end());
    }
  }

 private:
  static std::string KindName(Hop::Kind kind) { return kind == Hop::Kind::kNat ? "nat" : "firewall"; }

  bool CheckTarget(const std::string& target, const YAML::Mark& mark, const std::string& where) {
    if (boxes_.count(target) != 0) return true;
    if (nodes_.count(target) != 0) {
      r_.Error(mark, "behind in " + where + ": '" + target +
                         "' is a node; only a NAT or a firewall (or internet) can be behind");
      return false;
    }
    std::vector<std::string> known = order_;
    known.emplace_back(kInternetName);
    r_.UnknownName(mark, "NAT or firewall", "NATs and firewalls", where, target, known,
                   "; declare it under nats: or firewalls:, or write behind: internet");
    return false;
  }

  void ReportLoop(const std::vector<std::string>& loop,
                  std::set<std::set<std::string>>& reported) {
    std::set<std::string> members(loop.begin(), loop.end());
    if (!reported.insert(members).second) return;
    // Report at the member written first, starting the loop text there.
    size_t first = 0;
    for (size_t i = 1; i < loop.size(); ++i) {
      const YAML::Mark& a = boxes_[loop[i]].behind_mark;
      const YAML::Mark& b = boxes_[loop[first]].behind_mark;
      if (a.line < b.line || (a.line == b.line && a.column < b.column)) first = i;
    }
    std::string text;
    for (size_t i = 0; i <= loop.size(); ++i) {
      text += (i ? " -> " : "") + loop[(first + i) % loop.size()];
    }
    r_.Error(boxes_[loop[first]].behind_mark,
             "behind makes a loop: " + text +
                 "; the outermost NAT or firewall must sit behind internet");
  }

  Reader& r_;
  Scenario& s_;
  std::map<std::string, Box> boxes_;
  std::vector<std::string> order_;
  std::set<std::string> nodes_;
};

// Nodes, NATs and firewalls share one namespace, so `behind` and events name
// one thing; "internet" is taken.
void CheckNames(Reader& r, const std::vector<std::pair<std::string, Value>>& all,
                const std::vector<std::string>& kinds) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [name, value] = all[i];
    if (name == kInternetName) {
      r.Error(value.key_mark,
              "'internet' is a reserved name (behind: internet means a public address); pick "
              "another name");
      continue;
    }
    auto [it, inserted] = seen.emplace(name, i);
    if (inserted) continue;
    const auto& first = all[it->second];
    r.Error(value.key_mark, "'" + name + "' names both a " + kinds[it->second] + " (line " +
                                std::to_string(first.second.key_mark.line + 1) + ") and a " +
                                kinds[i] + "; give each a distinct name");
  }
}

}  // namespace

SourcePos PositionOf(const YAML::Mark& mark) {
  if (mark.line < 0) return SourcePos{};
  return SourcePos{mark.line + 1, mark.column + 1};
}

void ReadTopology(Reader& r, const Fields& top, Scenario& s) {
  std::vector<WrittenRule> rules = ReadInternetDerpControl(r, top, s);

  auto defaults = SubMap(r, top, "defaults", "defaults", section::kNode);
  std::optional<Fields> defaults_link;
  if (defaults) {
    Value empty;
    empty.mark = defaults->mark();
    const Value* own = defaults->Own("link");
    defaults_link = r.Map(own != nullptr ? *own : empty, "defaults.link", section::kLink);
  }

  auto entries = [&](std::string_view key, const std::string& path) {
    auto v = r.Get(top, key);
    auto named = v ? r.NamedEntries(*v, path) : std::nullopt;
    return named.value_or(std::vector<std::pair<std::string, Value>>{});
  };
  const auto nats = entries("nats", "nats");
  const auto firewalls = entries("firewalls", "firewalls");
  const auto nodes = entries("nodes", "nodes");
  if (const Value* v = top.Own("nodes");
      v != nullptr && (v->node.IsNull() || (v->node.IsMap() && v->node.size() == 0))) {
    r.Error(v->mark, "nodes lists no node; a scenario needs at least one, e.g. " +
                         FindSchemaKey(section::kTop, "nodes")->example);
  }

  std::vector<std::pair<std::string, Value>> all;
  std::vector<std::string> kinds;
  auto add_all = [&](const auto& named, const char* kind) {
    for (const auto& e : named) {
      all.push_back(e);
      kinds.emplace_back(kind);
    }
  };
  add_all(nats, "NAT");
  add_all(firewalls, "firewall");
  add_all(nodes, "node");
  CheckNames(r, all, kinds);

  ChainResolver chains(r, s);
  for (const auto& [name, value] : nats) {
    auto f = r.Map(value, "nats." + name, section::kNat);
    if (!f) continue;
    s.nats.push_back(ReadNat(r, name, value, *f));
    const Value* behind = f->Own("behind");
    chains.AddBox(name, Hop::Kind::kNat, s.nats.back().behind,
                  behind != nullptr ? behind->mark : value.key_mark);
  }
  for (const auto& [name, value] : firewalls) {
    auto f = r.Map(value, "firewalls." + name, section::kFirewall);
    if (!f) continue;
    s.firewalls.push_back(ReadFirewall(r, name, value, *f));
    const Value* behind = f->Own("behind");
    chains.AddBox(name, Hop::Kind::kFirewall, s.firewalls.back().behind,
                  behind != nullptr ? behind->mark : value.key_mark);
  }

  std::map<std::string, Value> node_behind;
  std::vector<TemplateText> templates;
  for (const auto& [name, value] : nodes) {
    chains.AddNode(name);
    NodeDef node;
    node.name = name;
    node.where = PositionOf(value.key_mark);
    const std::string path = "nodes." + name;
    auto f = r.Map(value, path, section::kNode, defaults ? &*defaults : nullptr);
    if (f) {
      node.behind = ReadBehind(r, *f).value_or("");
      if (f->Has("behind")) node_behind.emplace(name, *r.Get(*f, "behind"));
      node.link = ReadInheritedLink(r, *f, path + ".link", defaults_link ? &*defaults_link : nullptr);
      if (auto start = r.Get(*f, "start")) {
        if (auto t = r.DurationOf(*start)) {
          node.start = *t;
          if (node.start >= s.stop_time) {
            r.Error(start->mark, start->what() + ": " + node.start.ToString() +
                                     " is not before stop_time (" + s.stop_time.ToString() +
                                     "); start the node earlier or raise stop_time");
          }
        }
      }
      if (auto skew = r.Get(*f, "start_skew")) {
        // DurationOf refuses a negative duration (it is no duration) itself.
        if (auto t = r.DurationOf(*skew)) node.start_skew = *t;
      }
      node.timers = ReadNodeTimers(r, *f);
      if (auto plane = r.GetChoice(*f, "data_plane")) {
        node.data_plane = *plane == node::DataPlaneName(node::DataPlane::kWireGuard)
                              ? node::DataPlane::kWireGuard
                              : node::DataPlane::kSealedFrame;
      }
      if (auto run = r.Get(*f, "run")) {
        node.run = ReadProgram(r, *run, path + ".run", s.nodes.size(), templates);
      }
      if (auto domain = r.GetName(*f, "domain")) {
        node.domain = *domain;
        const auto& known = s.control.domains;
        if (!known.empty() && std::find(known.begin(), known.end(), *domain) == known.end()) {
          if (f->Has("domain")) {
            r.UnknownName(r.Get(*f, "domain")->mark, "domain", "control.domains",
                          r.Get(*f, "domain")->where, *domain, known,
                          "; add it to control.domains or pick one of them");
          } else {
            r.Error(value.key_mark, path + " is in domain '" + *domain +
                                        "' (the default), which control.domains does not "
                                        "list; give the node a domain (or one in defaults), "
                                        "or add " + *domain + " to control.domains");
          }
        }
      }
    }
    s.nodes.push_back(std::move(node));
  }
  chains.Resolve(node_behind);
  CheckProgramFacts(r, s, templates);
  CheckRuleNames(r, rules, s);
}

}  // namespace scenario
}  // namespace punchlab
