#include "results/evaluate.h"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "results/format.h"

namespace punchlab {
namespace results {
namespace {

using scenario::CheckKind;
using scenario::Expectation;

bool IsDirect(PathKind p) { return p == PathKind::kDirect || p == PathKind::kLocal; }

// The pair's state from each side's path toward the other.
PathKind PairState(PathKind ab, PathKind ba) {
  if (ab == ba) return ab;
  if (ab == PathKind::kNone || ba == PathKind::kNone) return PathKind::kNone;
  return PathKind::kAsymmetric;
}

// The pair's path as a step function: each segment holds from its start until
// the next one's. The first segment starts at 0 with "none".
class PairPath {
 public:
  // `mine`: the pair's timeline entries (either direction), in timeline order.
  PairPath(std::vector<const PathChange*> mine, const std::string& a) {
    std::stable_sort(mine.begin(), mine.end(),
                     [](const PathChange* x, const PathChange* y) { return x->at < y->at; });
    segments_.push_back({Duration::Zero(), PathKind::kNone});
    PathKind ab = PathKind::kNone;
    PathKind ba = PathKind::kNone;
    for (size_t i = 0; i < mine.size();) {
      // Entries at the same instant apply together: no transient disagreement.
      const Duration at = mine[i]->at;
      for (; i < mine.size() && mine[i]->at == at; ++i) {
        (mine[i]->node == a ? ab : ba) = mine[i]->path;
      }
      const PathKind pair = PairState(ab, ba);
      if (pair == segments_.back().path) continue;
      if (segments_.back().start == at) {
        segments_.back().path = pair;
        // Merging into the previous segment keeps the list minimal.
        if (segments_.size() > 1 && segments_[segments_.size() - 2].path == pair) {
          segments_.pop_back();
        }
      } else {
        segments_.push_back({at, pair});
      }
    }
  }

  struct Segment {
    Duration start;
    PathKind path;
  };

  PathKind At(Duration t) const { return segments_[IndexAt(t)].path; }

  // The first instant in [from, until) at which `pred` holds, if any.
  template <typename Pred>
  std::optional<Duration> FirstWhere(Duration from, Duration until, Pred pred) const {
    if (from >= until) return std::nullopt;
    size_t i = IndexAt(from);
    if (pred(segments_[i].path)) return from;
    for (++i; i < segments_.size() && segments_[i].start < until; ++i) {
      if (pred(segments_[i].path)) return segments_[i].start;
    }
    return std::nullopt;
  }

 private:
  size_t IndexAt(Duration t) const {
    size_t i = 0;
    while (i + 1 < segments_.size() && segments_[i + 1].start <= t) ++i;
    return i;
  }

  std::vector<Segment> segments_;
};

// Each unordered pair's timeline entries and probes, gathered in one pass so
// that judging and summarising many pairs does not rescan the whole run per pair.
class PairIndex {
 public:
  using Key = std::pair<std::string, std::string>;  // (smaller name, larger name)
  struct Entry {
    std::vector<const PathChange*> changes;
    std::vector<const Probe*> probes;
    std::vector<const WireSample*> wire;  // in time order
    // A program node's side: its timeline is the wire's view (reason
    // "wire"), and no probes cross: times to direct come from the wire.
    bool JudgedByWire() const {
      return probes.empty() && std::any_of(changes.begin(), changes.end(), [](const PathChange* c) {
               return c->reason == "wire";
             });
    }
  };

  // Gathered in a hash map (one lookup per probe: a crowd of 10,000 has
  // 1.77 M probes in 15,000 pairs, and a std::map of name pairs spent
  // seconds on its string comparisons), then kept ordered by name for
  // all(). The vectors keep the run's order either way.
  explicit PairIndex(const Results& in) {
    std::unordered_map<Key, Entry, KeyHash> gathered;
    for (const PathChange& c : in.timeline) {
      if (c.node != c.peer) gathered[KeyOf(c.node, c.peer)].changes.push_back(&c);
    }
    for (const Probe& p : in.probes) {
      if (p.src != p.dst) gathered[KeyOf(p.src, p.dst)].probes.push_back(&p);
    }
    for (const WireSample& w : in.wire) {
      const auto it = gathered.find(KeyOf(w.from, w.to));
      if (it != gathered.end()) it->second.wire.push_back(&w);
    }
    for (auto& [key, entry] : gathered) pairs_.emplace(key, std::move(entry));
  }

  static Key KeyOf(const std::string& x, const std::string& y) { return std::minmax(x, y); }
  const Entry& Of(const std::string& a, const std::string& b) const {
    static const Entry kNone;
    const auto it = pairs_.find(KeyOf(a, b));
    return it == pairs_.end() ? kNone : it->second;
  }
  const std::map<Key, Entry>& all() const { return pairs_; }

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const {
      const size_t a = std::hash<std::string>()(k.first);
      return a ^ (std::hash<std::string>()(k.second) + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    }
  };

  std::map<Key, Entry> pairs_;
};

RttPercentiles Percentiles(std::vector<Duration> rtts) {
  RttPercentiles r;
  r.samples = rtts.size();
  if (rtts.empty()) return r;
  std::sort(rtts.begin(), rtts.end());
  const auto rank = [&](uint64_t pct) { return rtts[(pct * rtts.size() + 99) / 100 - 1]; };
  r.min = rtts.front();
  r.p50 = rank(50);
  r.p90 = rank(90);
  r.p99 = rank(99);
  r.max = rtts.back();
  return r;
}

std::string PairName(const Expectation& e) { return e.a + "-" + e.b; }

std::string Window(const Expectation& e) {
  return " from " + e.from.ToString() + " until " + e.until.ToString();
}

std::string Over(const Expectation& e) {
  return e.over ? std::string(" over ") + scenario::ToString(*e.over) : "";
}

std::string DescribeExpectation(const Expectation& e) {
  const std::string pair = PairName(e);
  switch (e.check) {
    case CheckKind::kPath:
      return pair + " path " + scenario::ToString(e.path) +
             (e.by ? " by " + e.by->ToString() : Window(e));
    case CheckKind::kTimeToDirect:
      return pair + " time to direct <= " + e.time_to_direct_max.ToString() + " from " +
             e.from.ToString();
    case CheckKind::kRtt: {
      std::string bound;
      if (e.rtt_min && e.rtt_max) {
        bound = "in [" + e.rtt_min->ToString() + ", " + e.rtt_max->ToString() + "]";
      } else if (e.rtt_max) {
        bound = "<= " + e.rtt_max->ToString();
      } else if (e.rtt_min) {
        bound = ">= " + e.rtt_min->ToString();
      }
      return pair + " every rtt " + bound + Over(e) + Window(e);
    }
    case CheckKind::kLoss: {
      std::string bound;
      if (e.loss_min > 0 && e.loss_max < 1) {
        bound = "in [" + FormatPercent(e.loss_min) + ", " + FormatPercent(e.loss_max) + "]";
      } else if (e.loss_min > 0) {
        bound = ">= " + FormatPercent(e.loss_min);
      } else {
        bound = "<= " + FormatPercent(e.loss_max);
      }
      return pair + " loss " + bound + Over(e) + Window(e);
    }
  }
  return pair;
}

// "none" means they cannot reach each other: a round trip of a probe sent in
// the window says otherwise, whatever the nodes believed.
void NoRoundTripWhileNone(const Expectation& e, const std::vector<const Probe*>& probes,
                          ExpectationResult& r) {
  uint64_t completed = 0;
  const Probe* first = nullptr;
  for (const Probe* p : probes) {
    if (p->sent_at < e.from || p->sent_at >= e.until || !p->echoed_at) continue;
    if (first == nullptr || p->sent_at < first->sent_at) first = p;
    ++completed;
  }
  if (completed == 0) return;
  r.ok = false;
  r.observed += " by the nodes, but " + std::to_string(completed) +
                " round trips completed (first sent at " + FormatSeconds(first->sent_at) +
                ", " + ToString(*first->RoundTrip()) + ")";
}

void CheckPathBy(const Expectation& e, const PairPath& path, ExpectationResult& r) {
  const Duration by = *e.by;
  const PathKind seen = path.At(by);
  r.ok = seen == e.path;
  r.observed = std::string(scenario::ToString(seen)) + " at " + FormatSeconds(by);
  if (r.ok) return;
  const auto later =
      path.FirstWhere(by, Duration::Max(), [&](PathKind p) { return p == e.path; });
  r.observed += later ? " (" + std::string(scenario::ToString(e.path)) + " from " +
                            FormatSeconds(*later) + ")"
                      : " (never " + std::string(scenario::ToString(e.path)) + " after)";
}

void CheckPathThroughout(const Expectation& e, const PairPath& path,
                         const std::vector<const Probe*>& probes, ExpectationResult& r) {
  const auto deviation =
      path.FirstWhere(e.from, e.until, [&](PathKind p) { return p != e.path; });
  r.ok = !deviation;
  if (r.ok) {
    r.observed = std::string(scenario::ToString(e.path)) + " throughout";
    if (e.path == PathKind::kNone) NoRoundTripWhileNone(e, probes, r);
    return;
  }
  const PathKind seen = path.At(*deviation);
  r.observed = std::string(scenario::ToString(seen)) + " from " + FormatSeconds(*deviation);
  const auto back = path.FirstWhere(*deviation, e.until, [&](PathKind p) { return p == e.path; });
  r.observed += back ? " until " + FormatSeconds(*back) : " to the end of the window";
}

// The first probe sent in [from, until) whose both legs crossed the direct
// (or local) path, if any.
const Probe* FirstDirectRoundTrip(const std::vector<const Probe*>& probes, Duration from,
                                  Duration until) {
  const Probe* first = nullptr;
  for (const Probe* p : probes) {
    if (p->sent_at < from || p->sent_at >= until || !p->CrossedDirectBothWays()) continue;
    if (first == nullptr || p->sent_at < first->sent_at) first = p;
  }
  return first;
}

// A program pair: from `from` until both sides' packets reached each other
// directly (the wire's view, wire-paths.h).
void CheckTimeToDirectOnWire(const Expectation& e, const PairPath& path, Duration stop,
                             ExpectationResult& r) {
  const auto direct = path.FirstWhere(e.from, stop, IsDirect);
  if (!direct) {
    r.ok = false;
    r.observed = "never direct (the wire carried no packets directly both ways from " +
                 FormatSeconds(e.from) + ")";
    return;
  }
  const Duration took = *direct - e.from;
  r.ok = took <= e.time_to_direct_max;
  r.observed_value = took.seconds();
  r.observed = FormatSeconds(took) + " (the wire carried packets " +
               scenario::ToString(path.At(*direct)) + " both ways from " +
               FormatSeconds(*direct) + ")";
}

void CheckTimeToDirect(const Expectation& e, const PairPath& path,
                       const std::vector<const Probe*>& probes, Duration stop,
                       ExpectationResult& r) {
  const Probe* direct = FirstDirectRoundTrip(probes, e.from, stop);
  const auto believed = path.FirstWhere(e.from, stop, IsDirect);
  const std::string nodes =
      believed ? "; the nodes were on " + std::string(scenario::ToString(path.At(*believed))) +
                     " from " + FormatSeconds(*believed)
               : "";
  if (direct == nullptr) {
    r.ok = false;
    const auto sent = std::count_if(probes.begin(), probes.end(), [&](const Probe* p) {
      return p->sent_at >= e.from && p->sent_at < stop;
    });
    r.observed = "never direct (none of " + std::to_string(sent) + " probes sent from " +
                 FormatSeconds(e.from) + " crossed the direct path both ways" + nodes + ")";
    return;
  }
  const Duration took = direct->sent_at - e.from;
  r.ok = took <= e.time_to_direct_max;
  r.observed_value = took.seconds();
  r.observed = FormatSeconds(took) + " (first round trip direct both ways: probe sent at " +
               FormatSeconds(direct->sent_at) + nodes + ")";
}

bool InWindow(const Expectation& e, const Probe& p) {
  return p.sent_at >= e.from && p.sent_at < e.until;
}

// `over` for an RTT check: both legs took that path.
bool RoundTripOver(const Expectation& e, const Probe& p) {
  if (!e.over) return true;
  const std::optional<RoundTripPath> trip = p.RoundTrip();
  switch (*e.over) {
    case PathKind::kDirect: return trip == RoundTripPath::kDirect;
    case PathKind::kLocal: return trip == RoundTripPath::kLocal;
    case PathKind::kDerp: return trip == RoundTripPath::kDerp;
    default: return false;  // the loader allows only the three above
  }
}

void CheckRtt(const Expectation& e, const std::vector<const Probe*>& probes,
              ExpectationResult& r) {
  std::vector<Duration> rtts;
  const Probe* first_bad = nullptr;
  uint64_t bad = 0;
  for (const Probe* q : probes) {
    const Probe& p = *q;
    if (!InWindow(e, p) || !p.echoed_at || !RoundTripOver(e, p)) continue;
    rtts.push_back(p.Rtt());
    if ((e.rtt_min && p.Rtt() < *e.rtt_min) || (e.rtt_max && p.Rtt() > *e.rtt_max)) {
      if (first_bad == nullptr) first_bad = &p;
      ++bad;
    }
  }
  if (rtts.empty()) {
    r.ok = false;
    r.observed = "no samples";
    return;
  }
  const RttPercentiles pct = Percentiles(rtts);
  r.ok = bad == 0;
  r.observed_value = (e.rtt_max ? pct.max : pct.min).seconds();
  r.observed = std::to_string(pct.samples) + " samples, min " + FormatMillis(pct.min) +
               ", p50 " + FormatMillis(pct.p50) + ", max " + FormatMillis(pct.max);
  if (!r.ok) {
    r.observed += "; " + std::to_string(bad) + " outside, first " +
                  FormatMillis(first_bad->Rtt()) + " sent at " +
                  FormatSeconds(first_bad->sent_at);
  }
}

void CheckLoss(const Expectation& e, const std::vector<const Probe*>& probes, Duration stop,
               ExpectationResult& r) {
  const Duration settled = stop - kInFlightGrace;
  uint64_t sent = 0;
  uint64_t lost = 0;
  for (const Probe* q : probes) {
    const Probe& p = *q;
    if (!InWindow(e, p) || (e.over && p.path != *e.over) || p.sent_at >= settled) continue;
    ++sent;
    if (!p.echoed_at) ++lost;
  }
  if (sent == 0) {
    r.ok = false;
    r.observed = "no samples";
    return;
  }
  const double fraction = static_cast<double>(lost) / static_cast<double>(sent);
  r.ok = fraction >= e.loss_min && fraction <= e.loss_max;
  r.observed_value = fraction;
  r.observed = FormatPercent(fraction) + " lost (" + std::to_string(lost) + " of " +
               std::to_string(sent) + " probes)";
}

PairSummary Summarize(const Results& in, const std::string& a, const std::string& b,
                      const PairIndex::Entry& entry) {
  PairSummary s;
  s.a = a;
  s.b = b;
  const PairPath path(entry.changes, a);
  // The last instant of the run: an entry at stop_time itself ("stopped")
  // describes no time the run had.
  s.final_path = in.stop_time > Duration::Zero()
                     ? path.At(in.stop_time - Duration::Nanos(1))
                     : PathKind::kNone;
  std::map<RoundTripPath, std::vector<Duration>> rtts;
  const Duration settled = in.stop_time - kInFlightGrace;
  for (const Probe* q : entry.probes) {
    const Probe& p = *q;
    ++s.probes_sent;
    if (!s.first_send || p.sent_at < *s.first_send) s.first_send = p.sent_at;
    if (p.echoed_at) {
      rtts[*p.RoundTrip()].push_back(p.Rtt());
    } else if (p.sent_at < settled) {
      ++s.probes_lost;
    }
  }
  if (const Probe* direct = FirstDirectRoundTrip(entry.probes, Duration::Zero(), in.stop_time)) {
    s.direct_at = direct->sent_at;
    s.time_to_direct = direct->sent_at - *s.first_send;
  }
  for (auto& [kind, samples] : rtts) s.rtt[kind] = Percentiles(std::move(samples));
  if (entry.JudgedByWire()) {
    // No probes: the first packet either way that reached the other, and
    // the first instant both went direct.
    if (!entry.wire.empty()) s.first_send = entry.wire.front()->at;
    s.direct_at = path.FirstWhere(Duration::Zero(), in.stop_time, IsDirect);
    if (s.first_send && s.direct_at) {
      s.time_to_direct = std::max(Duration::Zero(), *s.direct_at - *s.first_send);
    }
  }
  return s;
}



// "nat home reboot", "firewall fw set block_udp=false latency=20ms".
std::string DescribeEvent(const scenario::Event& ev) {
  std::string what = std::string(scenario::ToString(ev.target_kind)) + " " + ev.target + " " +
                     scenario::ToString(ev.action);
  const scenario::Settings& s = ev.settings;
  if (s.latency) what += " latency=" + s.latency->ToString();
  if (s.jitter) what += " jitter=" + s.jitter->ToString();
  if (s.loss) what += " loss=" + FormatPercent(*s.loss);
  if (s.bandwidth_bps) what += " bandwidth=" + std::to_string(*s.bandwidth_bps) + "bit/s";
  if (s.mapping) what += " mapping=" + std::string(nat::ToString(*s.mapping));
  if (s.block_udp) what += std::string(" block_udp=") + (*s.block_udp ? "true" : "false");
  return what;
}

std::string DescribeRun(const ProgramReport& p) {
  switch (p.status) {
    case ProgramReport::Status::kRan: return "ran until stopped";
    case ProgramReport::Status::kExited:
      return "exited by itself at " + FormatSeconds(*p.exited_at) + " (status " +
             std::to_string(*p.exit_code) + ")" + (p.detail.empty() ? "" : ": " + p.detail);
    case ProgramReport::Status::kNeverStarted: return "never started: " + p.detail;
    case ProgramReport::Status::kOutputFlood:
      return "flooded its output (" + std::to_string(p.output_bytes) +
             " bytes) and was killed" + (p.exited_at ? " at " + FormatSeconds(*p.exited_at) : "");
  }
  return "?";
}

// The checks every program node gets: how it ends, the lines it must print,
// that it does not flood the network.
void CheckProgram(const scenario::NodeDef& node, const std::vector<ProgramReport>& all,
                  std::vector<ExpectationResult>& out) {
  const scenario::Program& program = *node.run;
  std::vector<const ProgramReport*> runs;
  for (const ProgramReport& p : all) {
    if (p.node == node.name) runs.push_back(&p);
  }
  const std::string name = "program " + node.name;
  ExpectationResult life;
  life.where = program.where;
  if (runs.empty()) {
    life.text = name + (program.expect_exit ? " exits with status " +
                                                  std::to_string(*program.expect_exit)
                                            : " runs until stop_time");
    life.observed = "never run";
    out.push_back(std::move(life));
    return;
  }
  if (program.expect_exit) {
    const ProgramReport& last = *runs.back();
    life.text = name + " exits with status " + std::to_string(*program.expect_exit);
    life.ok = last.status == ProgramReport::Status::kExited &&
              last.exit_code == *program.expect_exit;
    life.observed = last.status == ProgramReport::Status::kRan ? "still running at stop_time"
                                                               : DescribeRun(last);
  } else {
    life.text = name + " runs until stop_time";
    life.ok = true;
    life.observed = "ran until stopped";
    for (const ProgramReport* p : runs) {
      if (p->status == ProgramReport::Status::kRan) continue;
      life.ok = false;
      life.observed = DescribeRun(*p);
      break;
    }
  }
  out.push_back(std::move(life));

  for (size_t i = 0; i < program.expect_output.size(); ++i) {
    ExpectationResult r;
    r.where = program.where;
    r.text = name + " prints a line matching /" + program.expect_output[i] + "/";
    uint64_t bytes = 0;
    for (const ProgramReport* p : runs) {
      bytes += p->output_bytes;
      if (!r.ok && i < p->output_matches.size() && p->output_matches[i]) {
        r.ok = true;
        r.observed = "\"" + *p->output_matches[i] + "\"";
      }
    }
    if (!r.ok) r.observed = "no line matched (" + std::to_string(bytes) + " bytes of output)";
    out.push_back(std::move(r));
  }

  ExpectationResult rate;
  rate.where = program.where;
  rate.text = name + " sends at most " + std::to_string(program.max_packet_rate) + " packets/s";
  const ProgramReport* peak = runs.front();
  for (const ProgramReport* p : runs) {
    if (p->peak_packet_rate > peak->peak_packet_rate) peak = p;
  }
  rate.ok = peak->peak_packet_rate <= program.max_packet_rate;
  rate.observed_value = static_cast<double>(peak->peak_packet_rate);
  rate.observed = "peak " + std::to_string(peak->peak_packet_rate) + " packets/s" +
                  (peak->peak_at ? " at " + FormatSeconds(*peak->peak_at) : "") +
                  (rate.ok ? "" : ": a flood");
  out.push_back(std::move(rate));
}

}  // namespace

void EvaluateExpectations(const scenario::Scenario& scenario, Results& results) {
  results.events.clear();
  for (const scenario::Event& ev : scenario.events) {
    EventMark m;
    m.at = ev.at;
    if (ev.duration) m.until = ev.at + *ev.duration;
    m.what = DescribeEvent(ev);
    results.events.push_back(std::move(m));
  }
  const PairIndex index(results);
  results.expectations.clear();
  for (const Expectation& e : scenario.expectations) {
    ExpectationResult r;
    r.where = e.where;
    r.text = DescribeExpectation(e);
    const PairIndex::Entry& entry = index.Of(e.a, e.b);
    const PairPath path(entry.changes, e.a);
    switch (e.check) {
      case CheckKind::kPath:
        if (e.by) {
          CheckPathBy(e, path, r);
        } else {
          CheckPathThroughout(e, path, entry.probes, r);
        }
        break;
      case CheckKind::kTimeToDirect:
        if (entry.JudgedByWire()) {
          CheckTimeToDirectOnWire(e, path, results.stop_time, r);
        } else {
          CheckTimeToDirect(e, path, entry.probes, results.stop_time, r);
        }
        break;
      case CheckKind::kRtt: CheckRtt(e, entry.probes, r); break;
      case CheckKind::kLoss: CheckLoss(e, entry.probes, results.stop_time, r); break;
    }
    results.expectations.push_back(std::move(r));
  }
  for (const scenario::NodeDef& node : scenario.nodes) {
    if (node.run) CheckProgram(node, results.programs, results.expectations);
  }

  results.pairs.clear();
  for (const auto& [key, entry] : index.all()) {
    results.pairs.push_back(Summarize(results, key.first, key.second, entry));
  }
}

}  // namespace results
}  // namespace punchlab
