#include "run-real/wire-paths.h"

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>

#include <nlohmann/json.hpp>

#include "link/wire-protocol.h"
#include "run-real/programs.h"

namespace punchlab::runreal {
namespace {

using scenario::PathKind;
constexpr int64_t kBinMs = link::kFlowBinNanos / 1000000;
constexpr int64_t kBinsPerSecond = 1000 / kBinMs;

struct Row {
  int64_t bin_ms;  // relative to the epoch
  std::string src;
  std::string dst;
  uint64_t packets;
  uint64_t bytes;
};

std::vector<Row> Rows(const nlohmann::json& dir, int64_t epoch_ms) {
  std::vector<Row> rows;
  if (!dir.is_array()) throw std::invalid_argument("wire flows: a direction is not a list");
  for (const auto& r : dir) {
    if (!r.is_array() || r.size() != 5) throw std::invalid_argument("wire flows: a bad row");
    rows.push_back({r[0].get<int64_t>() - epoch_ms, r[1].get<std::string>(),
                    r[2].get<std::string>(), r[3].get<uint64_t>(), r[4].get<uint64_t>()});
  }
  return rows;
}

int Rank(PathKind p) {
  return p == PathKind::kDirect || p == PathKind::kLocal ? 2 : p == PathKind::kDerp ? 1 : 0;
}

WireView ReadWireViewOrThrow(const scenario::Scenario& s, const LabPlan& plan,
                             const std::string& flows_json, int64_t epoch_monotonic_ms);

}  // namespace

WireView ReadWireView(const scenario::Scenario& s, const LabPlan& plan,
                      const std::string& flows_json, int64_t epoch_monotonic_ms) {
  try {
    return ReadWireViewOrThrow(s, plan, flows_json, epoch_monotonic_ms);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("wire flows: ") + e.what());
  }
}

namespace {

WireView ReadWireViewOrThrow(const scenario::Scenario& s, const LabPlan& plan,
                             const std::string& flows_json, int64_t epoch_monotonic_ms) {
  const nlohmann::json flows = nlohmann::json::parse(flows_json);
  if (!flows.is_object()) throw std::invalid_argument("wire flows: not a JSON object");
  const size_t n = s.nodes.size();
  std::vector<std::vector<Row>> received(n);  // delivered to node i
  std::vector<std::vector<Row>> sent(n);      // delivered from node i into its network
  WireView view;
  for (size_t i = 0; i < n; ++i) {
    const auto it = flows.find(plan.nodes[i].uplink.label);
    if (it == flows.end()) continue;
    sent[i] = Rows(it->at("ab"), epoch_monotonic_ms);       // a: the node's end
    received[i] = Rows(it->at("ba"), epoch_monotonic_ms);
  }
  for (const auto& [label, link] : flows.items()) {
    view.untracked += link.value("untracked_ab", uint64_t{0}) + link.value("untracked_ba", uint64_t{0});
  }

  // Relays: DERP servers and relay programs, by the address peers send to.
  std::set<std::string> relays;
  for (const HostPlan& d : plan.derp) relays.insert(d.uplink.address);
  std::vector<bool> is_relay(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (s.nodes[i].run && s.nodes[i].run->relay) {
      is_relay[i] = true;
      relays.insert(PublicAddress(s, plan, i));
    }
  }
  // Services (a coordination server) carry no path between nodes: what
  // they exchange with a peer is neither direct nor relayed.
  std::vector<bool> is_service(n, false);
  for (size_t i = 0; i < n; ++i) is_service[i] = s.nodes[i].run && s.nodes[i].run->service;
  std::vector<std::string> own(n);
  std::vector<std::string> pub(n);
  for (size_t i = 0; i < n; ++i) {
    own[i] = plan.nodes[i].uplink.address;
    pub[i] = PublicAddress(s, plan, i);
  }
  const auto window_of = [&](size_t i) {
    return s.nodes[i].run ? s.nodes[i].run->path_window : scenario::Program{}.path_window;
  };

  // (bin, from, to, path) -> packets, bytes
  std::map<std::tuple<int64_t, size_t, size_t, PathKind>, std::pair<uint64_t, uint64_t>> counts;
  for (size_t x = 0; x < n; ++x) {
    for (const Row& r : received[x]) {
      if (is_service[x]) break;
      if (relays.count(r.src) != 0) {
        // Relayed: from every peer that sent to this relay within its window.
        for (size_t p = 0; p < n; ++p) {
          if (p == x || is_relay[p] || is_service[p]) continue;
          const int64_t window_ms = window_of(p).nanos() / 1000000;
          const bool sent_there = std::any_of(sent[p].begin(), sent[p].end(), [&](const Row& o) {
            return o.dst == r.src && o.bin_ms <= r.bin_ms && o.bin_ms >= r.bin_ms - window_ms;
          });
          if (!sent_there) continue;
          auto& c = counts[{r.bin_ms, p, x, PathKind::kDerp}];
          c.first += r.packets;
          c.second += r.bytes;
        }
        continue;
      }
      for (size_t p = 0; p < n; ++p) {
        if (p == x || is_relay[p] || is_relay[x] || is_service[p]) continue;
        PathKind kind = PathKind::kNone;
        const bool same_lan = !s.nodes[p].behind.empty() && s.nodes[p].behind == s.nodes[x].behind;
        if (r.src == own[p] && same_lan) {
          kind = PathKind::kLocal;
        } else if (r.src == pub[p]) {
          kind = PathKind::kDirect;
        } else {
          continue;
        }
        auto& c = counts[{r.bin_ms, p, x, kind}];
        c.first += r.packets;
        c.second += r.bytes;
      }
    }
    uint64_t peak = 0;
    int64_t peak_bin = 0;
    std::map<int64_t, uint64_t> per_bin;
    for (const Row& r : sent[x]) per_bin[r.bin_ms] += r.packets;
    for (const auto& [bin, packets] : per_bin) {
      if (packets > peak) {
        peak = packets;
        peak_bin = bin;
      }
    }
    view.peak_send_rate[s.nodes[x].name] = {peak * kBinsPerSecond,
                                            Duration::Millis(std::max<int64_t>(0, peak_bin))};
  }
  for (const auto& [key, c] : counts) {
    const auto& [bin, p, x, kind] = key;
    view.samples.push_back({Duration::Millis(bin), s.nodes[p].name, s.nodes[x].name, kind,
                            c.first, c.second});
  }

  // Program nodes' timelines toward every other (non-relay) node.
  for (size_t x = 0; x < n; ++x) {
    if (!s.nodes[x].run || is_relay[x] || is_service[x]) continue;
    const Duration window = window_of(x);
    for (size_t p = 0; p < n; ++p) {
      if (p == x || is_relay[p] || is_service[p]) continue;
      // Deliveries from x to p, in time order: when each kind was last seen.
      std::vector<std::pair<Duration, PathKind>> seen;
      for (const auto& [key, c] : counts) {
        if (std::get<1>(key) == x && std::get<2>(key) == p) {
          seen.emplace_back(Duration::Millis(std::get<0>(key)), std::get<3>(key));
        }
      }
      std::vector<Duration> instants;
      for (const auto& [at, kind] : seen) {
        instants.push_back(at);
        instants.push_back(at + Duration::Millis(kBinMs) + window);
      }
      std::sort(instants.begin(), instants.end());
      std::map<PathKind, Duration> last;  // kind -> end of its last bin seen so far
      size_t next = 0;
      PathKind current = PathKind::kNone;
      for (const Duration t : instants) {
        for (; next < seen.size() && seen[next].first <= t; ++next) {
          last[seen[next].second] = seen[next].first + Duration::Millis(kBinMs);
        }
        PathKind best = PathKind::kNone;
        for (const auto& [kind, end] : last) {
          if (t < end + window && Rank(kind) > Rank(best)) best = kind;
        }
        if (best == current) continue;
        current = best;
        results::PathChange c;
        c.at = std::max(t, Duration::Zero());
        c.node = s.nodes[x].name;
        c.peer = s.nodes[p].name;
        c.path = best;
        c.detail = best == PathKind::kNone    ? "none"
                   : best == PathKind::kLocal ? "local " + own[x]
                   : best == PathKind::kDirect ? "direct " + pub[x]
                                              : "derp (through a relay)";
        c.reason = "wire";
        view.timeline.push_back(std::move(c));
      }
    }
  }
  return view;
}

}  // namespace
}  // namespace punchlab::runreal
