#include "run-real/node-log.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cmath>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "punchlab/endpoint.h"

namespace punchlab::runreal {
namespace {

using json = nlohmann::json;
using scenario::PathKind;

std::optional<std::string> Text(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<double> Number(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<uint64_t> Unsigned(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

Duration FromMs(double ms) { return Duration::Nanos(std::llround(ms * 1e6)); }

size_t NodeIndex(const scenario::Scenario& s, const std::string& name) {
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    if (s.nodes[i].name == name) return i;
  }
  return s.nodes.size();
}

// Everything one node's runs showed, before it goes into the Results.
class NodeLogReader {
 public:
  NodeLogReader(const scenario::Scenario& s, const NodeDirectory& dir,
                const scenario::PathClassifier& paths, std::string node,
                results::Results& results)
      : s_(s), dir_(dir), paths_(paths), node_(std::move(node)), results_(results) {
    for (size_t i = 0; i < s_.traffic.size(); ++i) {
      if (s_.traffic[i].from == node_) flow_to_.emplace(static_cast<uint32_t>(i), s_.traffic[i].to);
    }
  }

  void Read(const std::vector<ProcessRun>& runs) {
    for (size_t r = 0; r < runs.size(); ++r) {
      std::istringstream in(runs[r].out);
      std::string line;
      while (std::getline(in, line)) {
        if (line.empty()) continue;
        const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object()) {
          ++unparsed_;
          continue;
        }
        if (Text(j, "event") == "started") Started(j, r, runs[r].due);
        Line(j);
      }
      if (runs[r].stopped_at) EndRun(*runs[r].stopped_at);
    }
    for (auto& [key, probe] : probes_) {
      if (probe.sent_at < s_.stop_time) results_.probes.push_back(std::move(probe));
    }
    if (unparsed_ > 0) {
      results_.notes.push_back("node " + node_ + ": " + std::to_string(unparsed_) +
                               " output lines were not JSON objects (or lacked a field) and were ignored");
    }
    if (unknown_peer_lines_ > 0) {
      results_.notes.push_back("node " + node_ + ": " + std::to_string(unknown_peer_lines_) +
                               " lines named a peer or flow that is not in the scenario");
    }
  }

 private:
  void Line(const json& j) {
    const auto event = Text(j, "event");
    const auto at_ms = Number(j, "at_ms");
    if (!event || !at_ms) {
      ++unparsed_;
      return;
    }
    const Duration at = FromMs(*at_ms);
    if (*event == "peer_added") {
      Path(j, at, Text(j, "path"), "peer-added");
    } else if (*event == "path_changed") {
      const auto reason = Text(j, "reason");
      Path(j, at, Text(j, "to"), reason ? *reason : "");
    } else if (*event == "peer_removed") {
      Path(j, at, std::string("none"), "peer-removed");
    } else if (*event == "probe_sent") {
      ProbeSent(j, at);
    } else if (*event == "echo_received") {
      EchoReceived(j, at);
    } else if (*event == "summary") {
      Summary(j);
    } else if (*event == "disco") {
      Disco(j, at);
    }
  }

  // The real lab's own start skew, which the simulation does not have: a
  // run that started well after its instant (a loaded machine) says so, or a
  // late first ping that died at a peer's NAT looks like the model's fault.
  void Started(const json& j, size_t run, Duration due) {
    const auto at_ms = Number(j, "at_ms");
    if (!at_ms) return;  // counted by Line
    const Duration late = FromMs(*at_ms) - due;
    if (late < kLateStartNote) return;
    results_.notes.push_back("node " + node_ + (run > 0 ? " (run " + std::to_string(run) + ")" : "") +
                             " started " + late.ToString() + " after its instant " + due.ToString() +
                             " (the lab's own start skew; the simulation starts it on time)");
  }

  // A step of the disco log (punchlab-node --disco-log: results/disco-step.h).
  void Disco(const json& j, Duration at) {
    const auto key = Text(j, "peer");
    const auto peer = key ? dir_.name_by_key.find(*key) : dir_.name_by_key.end();
    const auto what = Text(j, "what");
    const std::optional<results::DiscoStepKind> kind =
        what ? results::ParseDiscoStepKind(*what) : std::nullopt;
    const auto via = Text(j, "via");
    const auto endpoint = Text(j, "endpoint");
    const auto txid = Text(j, "txid");
    const auto reason = Text(j, "reason");
    if (!kind || !via || !endpoint || !txid || !reason) {
      ++unparsed_;
      return;
    }
    // (value_or: GCC 12 sees the optional as maybe unset past the check.)
    const results::DiscoStepKind k = kind.value_or(results::DiscoStepKind::kPortMap);
    if (k == results::DiscoStepKind::kPortMap) {  // the node's own step: no peer
      results_.disco_log.push_back({at, node_, "", k, *via, *endpoint, *txid, *reason});
      return;
    }
    if (peer == dir_.name_by_key.end()) {
      ++unknown_peer_lines_;
      return;
    }
    results_.disco_log.push_back({at, node_, peer->second, k, *via, *endpoint, *txid, *reason});
  }

  void Path(const json& j, Duration at, const std::optional<std::string>& path,
            const std::string& reason) {
    const auto key = Text(j, "peer");
    const auto peer = key ? dir_.name_by_key.find(*key) : dir_.name_by_key.end();
    if (peer == dir_.name_by_key.end() || !path) {
      ++unknown_peer_lines_;
      return;
    }
    results::PathChange c;
    c.at = at;
    c.node = node_;
    c.peer = peer->second;
    c.path = ClassifyPath(paths_, node_, c.peer, *path);
    c.detail = *path;
    c.reason = reason;
    current_[c.peer] = c.path;
    results_.timeline.push_back(std::move(c));
  }

  void EndRun(Duration at) {
    for (auto& [peer, path] : current_) {
      if (path == PathKind::kNone) continue;
      results_.timeline.push_back({at, node_, peer, PathKind::kNone, "none", "restart"});
      path = PathKind::kNone;
    }
  }

  void ProbeSent(const json& j, Duration at) {
    const auto flow = Unsigned(j, "flow");
    const auto seq = Unsigned(j, "seq");
    const auto path = Text(j, "path");
    const auto result = Text(j, "result");
    const std::optional<node::SendResult> sent = result ? ParseSendResult(*result) : std::nullopt;
    const auto to = flow ? flow_to_.find(static_cast<uint32_t>(*flow)) : flow_to_.end();
    if (!seq || !path || to == flow_to_.end()) {
      ++unknown_peer_lines_;
      return;
    }
    if (!sent) {
      ++unparsed_;
      return;
    }
    results::Probe p;
    p.sent_at = at;
    p.src = node_;
    p.dst = to->second;
    p.seq = *seq;
    // As the simulation counts its probes (PathClassifier::ClassifyProbe).
    const std::optional<node::Path> parsed = ParsePath(*path);
    const size_t from = paths_.NodeIndex(node_);
    const size_t dst = paths_.NodeIndex(p.dst);
    p.path = parsed && from < paths_.size() && dst < paths_.size()
                 ? paths_.ClassifyProbe(from, dst, *sent, *parsed)
                 : PathKind::kNone;
    probes_[{*flow, *seq}] = std::move(p);
  }

  void EchoReceived(const json& j, Duration at) {
    const auto flow = Unsigned(j, "flow");
    const auto seq = Unsigned(j, "seq");
    if (!flow || !seq) {
      ++unparsed_;
      return;
    }
    const auto it = probes_.find({*flow, *seq});
    // An echo of a probe this node never reported sending (its run ended
    // between sending and printing) has nothing to complete.
    if (it == probes_.end() || it->second.echoed_at) return;
    it->second.echoed_at = at;
    const auto path = Text(j, "path");
    it->second.echo_path =
        path ? ClassifyPath(paths_, node_, it->second.dst, *path) : PathKind::kNone;
  }

  void Summary(const json& j) {
    auto& counters = results_.counters["node/" + node_];
    for (const auto& [key, value] : j.items()) {
      if (key == "portmap" && value.is_object()) {
        // results/portmap-counters.h: the group both runners name alike.
        auto& portmap = results_.counters["portmap/" + node_];
        for (const auto& [name, n] : value.items()) {
          if (n.is_number_unsigned()) portmap[name] += n.get<uint64_t>();
        }
        continue;
      }
      if (key == "at_ms" || !value.is_number_unsigned()) continue;
      counters[key] += value.get<uint64_t>();
    }
    ++counters["process_runs"];
  }

  const scenario::Scenario& s_;
  const NodeDirectory& dir_;
  const scenario::PathClassifier& paths_;
  std::string node_;
  results::Results& results_;
  std::map<uint32_t, std::string> flow_to_;
  std::map<std::pair<uint64_t, uint64_t>, results::Probe> probes_;
  std::map<std::string, PathKind> current_;
  uint64_t unparsed_ = 0;
  uint64_t unknown_peer_lines_ = 0;
};

}  // namespace

std::optional<node::SendResult> ParseSendResult(const std::string& text) {
  using node::SendResult;
  for (SendResult r : {SendResult::kDirect, SendResult::kDerp, SendResult::kQueued,
                       SendResult::kUnknownPeer, SendResult::kNoRoute, SendResult::kTooLarge,
                       SendResult::kDropped}) {
    if (text == node::SendResultName(r)) return r;
  }
  return std::nullopt;
}

std::optional<node::Path> ParsePath(const std::string& text) {
  if (text == "none") return node::Path::None();
  if (text.rfind("derp ", 0) == 0) {
    const std::string id = text.substr(5);
    const size_t sign = !id.empty() && id[0] == '-' ? 1 : 0;
    const bool digits = id.size() > sign && id.size() <= sign + 9 &&
                        std::all_of(id.begin() + static_cast<std::ptrdiff_t>(sign), id.end(),
                                    [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits) return std::nullopt;
    return node::Path::Derp(static_cast<node::RegionId>(std::stol(id)));
  }
  if (text.rfind("direct ", 0) == 0) {
    const std::optional<Endpoint> ep = Endpoint::Parse(text.substr(7));
    if (ep) return node::Path::Direct(*ep);
  }
  return std::nullopt;
}

PathKind ClassifyPath(const scenario::PathClassifier& paths, const std::string& node,
                      const std::string& peer, const std::string& path_text) {
  const std::optional<node::Path> path = ParsePath(path_text);
  const size_t from = paths.NodeIndex(node);
  const size_t to = paths.NodeIndex(peer);
  if (!path || from == paths.size() || to == paths.size()) return PathKind::kNone;
  return paths.Classify(from, to, *path);
}

void CollectNodeLog(const scenario::Scenario& scenario, const NodeDirectory& directory,
                    const scenario::PathClassifier& paths, const std::string& node,
                    const std::vector<ProcessRun>& runs, results::Results& results) {
  NodeLogReader(scenario, directory, paths, node, results).Read(runs);
}

void FinishObservations(const scenario::Scenario& s, results::Results& results) {
  const auto index = [&](const std::string& name) { return NodeIndex(s, name); };
  std::stable_sort(results.timeline.begin(), results.timeline.end(),
                   [&](const results::PathChange& x, const results::PathChange& y) {
                     if (x.at != y.at) return x.at < y.at;
                     if (x.node != y.node) return index(x.node) < index(y.node);
                     return index(x.peer) < index(y.peer);
                   });
  std::stable_sort(results.probes.begin(), results.probes.end(),
                   [&](const results::Probe& x, const results::Probe& y) {
                     if (x.sent_at != y.sent_at) return x.sent_at < y.sent_at;
                     if (x.src != y.src) return index(x.src) < index(y.src);
                     if (x.dst != y.dst) return index(x.dst) < index(y.dst);
                     return x.seq < y.seq;
                   });
  // Each node's steps are in its own order; merged by time, a node's steps
  // at one instant keep that order.
  std::stable_sort(results.disco_log.begin(), results.disco_log.end(),
                   [&](const results::DiscoStep& x, const results::DiscoStep& y) {
                     if (x.at != y.at) return x.at < y.at;
                     return index(x.node) < index(y.node);
                   });
}

}  // namespace punchlab::runreal
