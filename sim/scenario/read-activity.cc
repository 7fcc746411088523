// What happens in a scenario: traffic, events and expectations, each checked
// against the topology (names, domains, start times, shared LANs, stop_time).
#include <algorithm>

#include "scenario/sections.h"

namespace punchlab {
namespace scenario {

namespace {

std::vector<std::string> NodeNames(const Scenario& s) {
  std::vector<std::string> names;
  for (const NodeDef& n : s.nodes) names.push_back(n.name);
  return names;
}

template <typename T>
std::vector<std::string> Names(const std::vector<T>& items) {
  std::vector<std::string> names;
  for (const T& item : items) names.push_back(item.name);
  return names;
}

// The kind of the thing named `name` when it is not a node ("a NAT"), for hints.
std::string OtherKind(const Scenario& s, const std::string& name) {
  if (s.FindNat(name) != nullptr) return "a NAT";
  if (s.FindFirewall(name) != nullptr) return "a firewall";
  if (s.FindNode(name) != nullptr) return "a node";
  if (s.FindDerpRegion(name) != nullptr) return "a DERP region";
  return "";
}

// The node a written name refers to, or an error and nullptr.
const NodeDef* ResolveNode(Reader& r, const Scenario& s, const std::string& name,
                           const YAML::Mark& mark, const std::string& where) {
  if (const NodeDef* node = s.FindNode(name)) return node;
  const std::string other = OtherKind(s, name);
  r.UnknownName(mark, "node", "nodes", where, name, NodeNames(s),
                other.empty() ? "" : "; '" + name + "' is " + other + ", not a node");
  return nullptr;
}

// An instant inside the run: before stop_time (or at it, for ends of windows).
bool CheckWithinRun(Reader& r, const Scenario& s, const Value& v, Duration t,
                    bool may_equal_stop) {
  if (t < s.stop_time || (may_equal_stop && t == s.stop_time)) return true;
  r.Error(v.mark, v.what() + ": " + t.ToString() +
                      (t == s.stop_time ? " is not before" : " is after") + " stop_time (" +
                      s.stop_time.ToString() + "); pick an earlier time or raise stop_time");
  return false;
}

bool CheckAfterStart(Reader& r, const Value& v, Duration t, const NodeDef& node,
                     std::string_view doing) {
  if (t >= node.start) return true;
  r.Error(v.mark, v.what() + ": " + t.ToString() + " is before " + node.name + " starts (" +
                      node.start.ToString() + "); " + std::string(doing));
  return false;
}

bool SameDomain(Reader& r, const NodeDef& a, const NodeDef& b, const YAML::Mark& mark,
                std::string_view consequence) {
  if (a.domain == b.domain) return true;
  r.Error(mark, a.name + " (domain " + a.domain + ") and " + b.name + " (domain " + b.domain +
                    ") are in different domains and never learn each other's keys; " +
                    std::string(consequence));
  return false;
}

Duration LaterStart(const NodeDef& a, const NodeDef& b) { return std::max(a.start, b.start); }

void ReadTraffic(Reader& r, const Value& entry, Scenario& s) {
  auto f = r.Map(entry, entry.where, section::kTraffic);
  if (!f) return;
  Flow flow;
  flow.where = PositionOf(entry.mark);
  auto from_name = r.GetName(*f, "from");
  auto to_name = r.GetName(*f, "to");
  const NodeDef* from =
      from_name ? ResolveNode(r, s, *from_name, f->Own("from")->mark, entry.where) : nullptr;
  const NodeDef* to =
      to_name ? ResolveNode(r, s, *to_name, f->Own("to")->mark, entry.where) : nullptr;
  if (from != nullptr && to != nullptr) {
    if (from == to) {
      r.Error(f->Own("to")->mark, entry.where + " sends from " + from->name +
                                      " to itself; name another node in to");
    } else {
      SameDomain(r, *from, *to, entry.mark, "traffic between them cannot flow");
    }
  }
  for (const auto& [node, key] : {std::pair{from, "from"}, std::pair{to, "to"}}) {
    if (node == nullptr || !node->run) continue;
    r.Error(f->Own(key)->mark, node->name + " runs a program (run:), and traffic entries are "
                                            "punchlab's probes; the program's own packets are "
                                            "what the wire judges: remove this entry");
  }
  const Duration earliest = from != nullptr && to != nullptr ? LaterStart(*from, *to)
                                                             : Duration::Zero();
  flow.start = earliest;
  if (const Value* v = f->Own("start")) {
    if (auto t = r.DurationOf(*v)) {
      flow.start = *t;
      if (CheckWithinRun(r, s, *v, *t, false) && from != nullptr && to != nullptr) {
        CheckAfterStart(r, *v, *t, from->start >= to->start ? *from : *to,
                        "start the traffic later");
      }
    }
  }
  flow.stop = s.stop_time;
  if (const Value* v = f->Own("stop")) {
    if (auto t = r.DurationOf(*v)) {
      flow.stop = *t;
      if (CheckWithinRun(r, s, *v, *t, true) && flow.stop <= flow.start) {
        r.Error(v->mark, v->what() + ": " + t->ToString() + " is not after start (" +
                             flow.start.ToString() + ")");
      }
    }
  }
  bool size_ok = false;
  if (auto size = r.GetSize(*f, "size")) {
    flow.size_bytes = *size;
    size_ok = *size >= 1 && *size <= MaxFlowPacketSize();
    if (!size_ok) {
      r.Error(f->Own("size")->mark, "size in " + entry.where + ": " + std::to_string(*size) +
                                        "B does not fit; a packet carries 1B to " +
                                        std::to_string(MaxFlowPacketSize()) + "B");
    }
  }
  const Value* every = f->Own("every");
  const Value* rate = f->Own("rate");
  if (every != nullptr && rate != nullptr) {
    r.Error(rate->key_mark, entry.where + " gives both every and rate; give one of them");
  } else if (rate != nullptr) {
    auto bps = r.BitRate(*rate, false);
    if (bps) flow.rate_bps = *bps;
    if (bps && size_ok) {
      // size * 8 bits at `bps`, rounded up to whole nanoseconds; at most
      // 65434 B * 8 * 1e9, so no overflow.
      const uint64_t bits_ns = flow.size_bytes * 8 * 1000000000ull;
      flow.every = Duration::Nanos(static_cast<int64_t>((bits_ns + *bps - 1) / *bps));
    }
  } else if (auto d = r.GetDuration(*f, "every")) {
    flow.every = *d;
    if (*d <= Duration::Zero()) {
      r.Error(every->mark, "every in " + entry.where + " must be longer than 0s; write e.g. " +
                               every->key->example);
    }
  }
  auto idle_value = r.Get(*f, "idle");
  auto idle = idle_value ? r.List(*idle_value, entry.where + ".idle") : std::nullopt;
  std::vector<std::pair<Interval, YAML::Mark>> gaps;
  for (const Value& gap_entry : idle.value_or(std::vector<Value>{})) {
    auto g = r.Map(gap_entry, gap_entry.where, section::kIdle);
    if (!g) continue;
    auto at = r.GetDuration(*g, "at");
    auto length = r.GetDuration(*g, "for");
    if (!at || !length) continue;
    if (*length <= Duration::Zero()) {
      r.Error(g->Own("for")->mark, "for in " + gap_entry.where + " must be longer than 0s");
      continue;
    }
    if (*at < flow.start || *length > flow.stop - *at || *at >= flow.stop) {
      r.Error(gap_entry.mark, gap_entry.where + " (" + at->ToString() + " for " +
                                  length->ToString() + ") is not inside the flow (" +
                                  flow.start.ToString() + " to " + flow.stop.ToString() + ")");
      continue;
    }
    gaps.push_back({Interval{*at, *at + *length}, gap_entry.mark});
  }
  std::stable_sort(gaps.begin(), gaps.end(),
                   [](const auto& a, const auto& b) { return a.first.from < b.first.from; });
  for (size_t i = 1; i < gaps.size(); ++i) {
    if (gaps[i].first.from < gaps[i - 1].first.until) {
      r.Error(gaps[i].second, "idle gaps in " + entry.where + " overlap: the one at " +
                                  gaps[i].first.from.ToString() +
                                  " starts before the one at " +
                                  gaps[i - 1].first.from.ToString() + " ends (" +
                                  gaps[i - 1].first.until.ToString() + "); merge them");
    }
  }
  for (const auto& gap : gaps) flow.idle.push_back(gap.first);
  if (from != nullptr) flow.from = from->name;
  if (to != nullptr) flow.to = to->name;
  s.traffic.push_back(std::move(flow));
}

// Which actions and settings each target kind takes.
struct TargetRules {
  TargetKind kind;
  const char* key;
  std::vector<Action> actions;
  std::vector<std::string> settings;
};

const std::vector<TargetRules>& Targets() {
  static const std::vector<TargetRules> rules = {
      {TargetKind::kNode, "node", {Action::kRestart, Action::kLinkDown, Action::kLinkUp},
       {"latency", "jitter", "loss", "bandwidth"}},
      {TargetKind::kNat, "nat",
       {Action::kReboot, Action::kChangeAddress, Action::kLinkDown, Action::kLinkUp},
       {"mapping", "latency", "jitter", "loss", "bandwidth"}},
      {TargetKind::kFirewall, "firewall", {Action::kLinkDown, Action::kLinkUp},
       {"block_udp", "latency", "jitter", "loss", "bandwidth"}},
      {TargetKind::kDerpRegion, "derp_region", {Action::kDown, Action::kUp}, {"latency"}},
  };
  return rules;
}

constexpr std::string_view kSettingKeys[] = {"latency", "jitter",  "loss",
                                             "bandwidth", "mapping", "block_udp"};

std::string ActionList(const TargetRules& t) {
  std::string out;
  for (Action a : t.actions) out += (out.empty() ? "" : ", ") + std::string(ToString(a));
  return out;
}

std::string SettingList(const std::vector<std::string>& settings) {
  std::string out;
  for (const std::string& k : settings) out += (out.empty() ? "" : ", ") + k;
  return out;
}

void ReadEvent(Reader& r, const Value& entry, Scenario& s) {
  auto f = r.Map(entry, entry.where, section::kEvent);
  if (!f) return;
  Event event;
  event.where = PositionOf(entry.mark);
  auto at = r.GetDuration(*f, "at");
  if (at) {
    event.at = *at;
    CheckWithinRun(r, s, *f->Own("at"), *at, false);
  }

  std::vector<const TargetRules*> named;
  for (const TargetRules& t : Targets()) {
    if (f->Own(t.key) != nullptr) named.push_back(&t);
  }
  if (named.empty()) {
    r.Error(entry.mark, entry.where +
                            " names no target; add one of node: NAME, nat: NAME, firewall: NAME "
                            "or derp_region: NAME");
    return;
  }
  if (named.size() > 1) {
    r.Error(f->Own(named[1]->key)->key_mark,
            entry.where + " names two targets (" + named[0]->key + " and " + named[1]->key +
                "); an event hits one: split it into two events");
    return;
  }
  const TargetRules& target = *named[0];
  event.target_kind = target.kind;
  const Value& target_value = *f->Own(target.key);
  auto name = r.Name(target_value);
  if (!name) return;
  event.target = *name;
  bool known = true;
  const std::string other = OtherKind(s, *name);
  const std::string hint = other.empty() ? "" : "; '" + *name + "' is " + other;
  switch (target.kind) {
    case TargetKind::kNode:
      known = ResolveNode(r, s, *name, target_value.mark, entry.where) != nullptr;
      break;
    case TargetKind::kNat:
      known = s.FindNat(*name) != nullptr;
      if (!known) r.UnknownName(target_value.mark, "NAT", "NATs", entry.where, *name, Names(s.nats), hint);
      break;
    case TargetKind::kFirewall:
      known = s.FindFirewall(*name) != nullptr;
      if (!known) {
        r.UnknownName(target_value.mark, "firewall", "firewalls", entry.where, *name,
                      Names(s.firewalls), hint);
      }
      break;
    case TargetKind::kDerpRegion:
      known = s.FindDerpRegion(*name) != nullptr;
      if (!known) {
        r.UnknownName(target_value.mark, "DERP region", "DERP regions", entry.where, *name,
                      Names(s.derp_regions), hint);
      }
      break;
  }
  if (known && at && target.kind == TargetKind::kNode) {
    CheckAfterStart(r, *f->Own("at"), *at, *s.FindNode(*name),
                    "an event cannot hit a node before it runs");
  }

  // Action or settings, as this target takes them.
  std::vector<std::string> settings_given;
  bool settings_ok = true;
  for (std::string_view key : kSettingKeys) {
    const Value* v = f->Own(key);
    if (v == nullptr) continue;
    settings_given.emplace_back(key);
    if (std::find(target.settings.begin(), target.settings.end(), key) == target.settings.end()) {
      r.Error(v->key_mark, std::string(key) + " does not apply to a " + target.key + "; a " +
                               target.key + " event can set " + SettingList(target.settings));
      settings_ok = false;
    }
  }
  if (const Value* v = f->Own("action")) {
    auto action_name = r.Choice(*v);
    if (!action_name) return;
    for (Action a : {Action::kRestart, Action::kReboot, Action::kChangeAddress,
                     Action::kLinkDown, Action::kLinkUp, Action::kDown, Action::kUp}) {
      if (*action_name == ToString(a)) event.action = a;
    }
    if (std::find(target.actions.begin(), target.actions.end(), event.action) ==
        target.actions.end()) {
      r.Error(v->mark, *action_name + " does not apply to a " + target.key + "; a " +
                           target.key + "'s actions are " + ActionList(target));
      return;
    }
    if (!settings_given.empty()) {
      r.Error(v->key_mark, entry.where + " gives both an action and new settings (" +
                               SettingList(settings_given) + "); split it into two events");
      return;
    }
  } else if (settings_given.empty()) {
    r.Error(entry.mark, entry.where + " says nothing happens; give an action (" +
                            ActionList(target) + ") or new settings (" +
                            SettingList(target.settings) + ")");
    return;
  }
  if (settings_ok) {
    event.settings.latency = r.GetDuration(*f, "latency");
    event.settings.jitter = r.GetDuration(*f, "jitter");
    event.settings.loss = r.GetPercent(*f, "loss");
    event.settings.bandwidth_bps = r.GetBitRate(*f, "bandwidth", true);
    if (auto mapping = r.GetChoice(*f, "mapping")) {
      for (int i = 0; i < 3; ++i) {
        const auto d = static_cast<nat::Dependence>(i);
        if (*mapping == nat::ToString(d)) event.settings.mapping = d;
      }
    }
    event.settings.block_udp = r.GetBool(*f, "block_udp");
  }

  if (const Value* v = f->Own("for")) {
    const bool undoable = event.action == Action::kSet || event.action == Action::kLinkDown ||
                          event.action == Action::kDown;
    if (!undoable) {
      const bool is_up = event.action == Action::kLinkUp || event.action == Action::kUp;
      r.Error(v->key_mark,
              std::string("for does not apply to ") + ToString(event.action) +
                  (is_up ? "; to bring something back after a while, write link-down or down "
                           "with for"
                         : ": it happens once; remove for"));
      return;
    }
    if (auto d = r.DurationOf(*v)) {
      event.duration = *d;
      if (*d <= Duration::Zero()) {
        r.Error(v->mark, "for in " + entry.where + " must be longer than 0s");
      } else if (at && *at < s.stop_time && *d > s.stop_time - *at) {
        r.Error(v->mark, "for in " + entry.where + ": the event ends at " +
                             (*at + *d).ToString() + ", after stop_time (" +
                             s.stop_time.ToString() + "); shorten it or raise stop_time");
      }
    }
  }
  s.events.push_back(std::move(event));
}

// Checks that only `allowed` of the window/option keys are written for this check.
void CheckApplies(Reader& r, const Fields& f, const std::string& check,
                  const std::vector<std::string>& allowed, const std::string& advice) {
  for (const char* key : {"by", "from", "until", "over"}) {
    const Value* v = f.Own(key);
    if (v == nullptr || std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    r.Error(v->key_mark, std::string(key) + " does not apply to " + check + advice);
  }
}

void ReadExpectation(Reader& r, const Value& entry, Scenario& s) {
  auto f = r.Map(entry, entry.where, section::kExpect);
  if (!f) return;
  Expectation e;
  e.where = PositionOf(entry.mark);

  const NodeDef* a = nullptr;
  const NodeDef* b = nullptr;
  auto between_value = r.Get(*f, "between");
  if (between_value) {
    if (auto names = r.NameList(*between_value)) {
      if (names->size() != 2) {
        r.Error(between_value->mark, "between in " + entry.where +
                                         " must name exactly two nodes, like [laptop, server]");
      } else if ((*names)[0].first == (*names)[1].first) {
        r.Error((*names)[1].second, "between in " + entry.where + " names " +
                                        (*names)[0].first + " twice; name two different nodes");
      } else {
        a = ResolveNode(r, s, (*names)[0].first, (*names)[0].second, entry.where);
        b = ResolveNode(r, s, (*names)[1].first, (*names)[1].second, entry.where);
      }
    }
  }

  // Exactly one check per entry.
  std::vector<std::pair<CheckKind, const Value*>> checks;
  if (const Value* v = f->Own("path")) checks.emplace_back(CheckKind::kPath, v);
  if (const Value* v = f->Own("time_to_direct_max")) checks.emplace_back(CheckKind::kTimeToDirect, v);
  if (const Value* v = f->Own("rtt_min") ? f->Own("rtt_min") : f->Own("rtt_max")) {
    checks.emplace_back(CheckKind::kRtt, v);
  }
  if (const Value* v = f->Own("loss_min") ? f->Own("loss_min") : f->Own("loss_max")) {
    checks.emplace_back(CheckKind::kLoss, v);
  }
  if (checks.empty()) {
    r.Error(entry.mark, entry.where +
                            " checks nothing; give one of path, time_to_direct_max, "
                            "rtt_min/rtt_max or loss_min/loss_max");
    return;
  }
  if (checks.size() > 1) {
    r.Error(checks[1].second->key_mark,
            entry.where + " checks both " + checks[0].second->key_name + " and " +
                checks[1].second->key_name + "; give one check per entry: split it into two");
    return;
  }
  e.check = checks[0].first;
  const Value& check_value = *checks[0].second;

  switch (e.check) {
    case CheckKind::kPath:
      CheckApplies(r, *f, "path", {"by", "from", "until"}, "");
      if (f->Own("by") != nullptr && (f->Own("from") != nullptr || f->Own("until") != nullptr)) {
        r.Error(f->Own("by")->key_mark, entry.where +
                                            " gives both by and a window (from/until); give "
                                            "one of them");
      } else if (f->Own("by") == nullptr && f->Own("from") == nullptr) {
        r.Error(check_value.key_mark,
                entry.where + " does not say when; add by: 10s (the path at that time) or "
                              "from: 10s (throughout, until `until` or stop_time)");
      }
      break;
    case CheckKind::kTimeToDirect:
      CheckApplies(r, *f, "time_to_direct_max", {"from"},
                   "; from says when its clock starts");
      break;
    case CheckKind::kRtt:
    case CheckKind::kLoss:
      CheckApplies(r, *f, e.check == CheckKind::kRtt ? "rtt_min/rtt_max" : "loss_min/loss_max",
                   {"from", "until", "over"}, "; give a window with from and until");
      break;
  }

  if (auto path = r.GetChoice(*f, "path")) {
    for (PathKind p : {PathKind::kDirect, PathKind::kDerp, PathKind::kLocal, PathKind::kNone,
                       PathKind::kAsymmetric}) {
      if (*path == ToString(p)) e.path = p;
    }
  }
  if (auto over = r.GetChoice(*f, "over")) {
    for (PathKind p : {PathKind::kDirect, PathKind::kDerp, PathKind::kLocal}) {
      if (*over == ToString(p)) e.over = p;
    }
  }
  if (auto d = r.GetDuration(*f, "time_to_direct_max")) {
    e.time_to_direct_max = *d;
    if (*d <= Duration::Zero()) {
      r.Error(check_value.mark, "time_to_direct_max in " + entry.where +
                                    " must be longer than 0s");
    }
  }
  e.rtt_min = r.GetDuration(*f, "rtt_min");
  e.rtt_max = r.GetDuration(*f, "rtt_max");
  if (e.rtt_min && e.rtt_max && *e.rtt_min > *e.rtt_max) {
    r.Error(f->Own("rtt_max")->mark, "rtt_max in " + entry.where + " (" +
                                         e.rtt_max->ToString() + ") is below rtt_min (" +
                                         e.rtt_min->ToString() + ")");
  }
  if (auto loss = r.GetPercent(*f, "loss_min")) e.loss_min = *loss;
  if (auto loss = r.GetPercent(*f, "loss_max")) e.loss_max = *loss;
  if (e.loss_min > e.loss_max) {
    r.Error(f->Own("loss_max")->mark, "loss_max in " + entry.where + " is below loss_min");
  }

  // Times: inside the run, not before both nodes exist.
  const Duration earliest = a != nullptr && b != nullptr ? LaterStart(*a, *b) : Duration::Zero();
  const NodeDef* later = a != nullptr && b != nullptr ? (a->start >= b->start ? a : b) : nullptr;
  e.from = earliest;
  e.until = s.stop_time;
  if (const Value* v = f->Own("by")) {
    if (auto t = r.DurationOf(*v)) {
      e.by = *t;
      if (CheckWithinRun(r, s, *v, *t, true) && later != nullptr) {
        CheckAfterStart(r, *v, *t, *later, "nothing can be expected of it yet");
      }
    }
  }
  if (const Value* v = f->Own("from")) {
    if (auto t = r.DurationOf(*v)) {
      e.from = *t;
      if (CheckWithinRun(r, s, *v, *t, false) && later != nullptr) {
        CheckAfterStart(r, *v, *t, *later, "nothing can be expected of it yet");
      }
    }
  }
  if (const Value* v = f->Own("until")) {
    if (auto t = r.DurationOf(*v)) {
      e.until = *t;
      if (CheckWithinRun(r, s, *v, *t, true) && e.until <= e.from) {
        r.Error(v->mark, v->what() + ": " + t->ToString() + " is not after from (" +
                             e.from.ToString() + ")");
      }
    }
  }

  if (a == nullptr || b == nullptr) return;
  e.a = a->name;
  e.b = b->name;
  if ((e.check == CheckKind::kRtt || e.check == CheckKind::kLoss) && (a->run || b->run)) {
    r.Error(check_value.key_mark,
            check_value.key_name + " in " + entry.where + " needs punchlab's probes, and " +
                (a->run ? a->name : b->name) +
                " runs a program (run:); check path or time_to_direct_max instead");
    return;
  }
  const YAML::Mark& where = between_value->mark;
  const bool expects_reach = !(e.check == CheckKind::kPath && e.path == PathKind::kNone);
  if (expects_reach && !SameDomain(r, *a, *b, where, "only path: none can hold between them")) {
    return;
  }
  // The key that asks for a path: `path`, or `over` for rtt and loss.
  const Value& path_value = e.check == CheckKind::kPath || f->Own("over") == nullptr
                                ? check_value
                                : *f->Own("over");
  const bool wants_local = (e.check == CheckKind::kPath && e.path == PathKind::kLocal) ||
                           (e.over && *e.over == PathKind::kLocal);
  if (wants_local && (a->behind.empty() || a->behind != b->behind)) {
    auto place = [](const NodeDef& n) {
      return n.behind.empty() ? n.name + " is on the internet" : n.name + " is behind " + n.behind;
    };
    r.Error(path_value.mark, a->name + " and " + b->name + " share no LAN (" + place(*a) +
                                  ", " + place(*b) +
                                  "), so their path is never local; expect direct or derp");
  }
  const bool wants_derp = (e.check == CheckKind::kPath && e.path == PathKind::kDerp) ||
                          (e.over && *e.over == PathKind::kDerp);
  const bool relay_program = std::any_of(s.nodes.begin(), s.nodes.end(), [](const NodeDef& n) {
    return n.run && n.run->relay;
  });
  if (wants_derp && s.derp_regions.empty() && !relay_program) {
    r.Error(path_value.mark,
            "derp.regions is empty, so no path is ever derp; add a region or expect another path");
  }
  if (e.check == CheckKind::kLoss) {
    const bool has_traffic =
        std::any_of(s.traffic.begin(), s.traffic.end(), [&](const Flow& flow) {
          return (flow.from == a->name && flow.to == b->name) ||
                 (flow.from == b->name && flow.to == a->name);
        });
    if (!has_traffic) {
      r.Error(check_value.mark, "loss_max in " + entry.where + " needs traffic between " +
                                    a->name + " and " + b->name +
                                    "; add a traffic entry from one to the other");
    }
  }
  s.expectations.push_back(std::move(e));
}

template <typename ReadOne>
void ReadList(Reader& r, const Fields& top, std::string_view key, Scenario& s, ReadOne read) {
  auto value = r.Get(top, key);
  if (!value) return;
  auto entries = r.List(*value, std::string(key));
  for (const Value& entry : entries.value_or(std::vector<Value>{})) read(r, entry, s);
}

}  // namespace

void ReadActivity(Reader& r, const Fields& top, Scenario& s) {
  ReadList(r, top, "traffic", s, ReadTraffic);
  ReadList(r, top, "events", s, ReadEvent);
  ReadList(r, top, "expect", s, ReadExpectation);
}

}  // namespace scenario
}  // namespace punchlab
