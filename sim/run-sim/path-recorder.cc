#include "run-sim/path-recorder.h"

#include <algorithm>

#include "ns3/callback.h"
#include "ns3/simulator.h"

namespace punchlab {
namespace runsim {

namespace {

std::pair<size_t, size_t> KeyOf(size_t x, size_t y) { return std::minmax(x, y); }

uint64_t PossiblePairs(const scenario::Scenario& s) {
  std::map<std::string, uint64_t> per_domain;
  for (const scenario::NodeDef& n : s.nodes) ++per_domain[n.domain];
  uint64_t pairs = 0;
  for (const auto& [domain, n] : per_domain) pairs += n * (n - 1) / 2;
  return pairs;
}

}  // namespace

PathRecorder::PathRecorder(ScenarioWorld& world, results::Results& results)
    : world_(world), results_(results) {
  const scenario::Scenario& s = world_.scenario();
  summarise_ = PossiblePairs(s) > kListEveryPairUpTo;
  if (summarise_) {
    auto list = [&](const std::string& a, const std::string& b) {
      const WorldNode* x = world_.FindNode(a);
      const WorldNode* y = world_.FindNode(b);
      if (x && y) listed_.insert(KeyOf(world_.IndexOf(*x), world_.IndexOf(*y)));
    };
    for (const scenario::Flow& f : s.traffic) list(f.from, f.to);
    for (const scenario::Expectation& e : s.expectations) list(e.a, e.b);
  }
  for (size_t i = 0; i < world_.nodes.size(); ++i) {
    ns3::Ptr<ns3::NodeApplication> app = world_.nodes[i].app;
    app->TraceConnectWithoutContext(
        "PeerAdded", ns3::Callback<void, const NodePublicKey&, const node::Path&>(
                         [this, i](const NodePublicKey& peer, const node::Path& path) {
                           Record(i, peer, path, "peer-added");
                         }));
    app->TraceConnectWithoutContext(
        "PathChanged",
        ns3::Callback<void, const NodePublicKey&, const node::Path&, const node::Path&,
                      const std::string&>([this, i](const NodePublicKey& peer, const node::Path&,
                                                    const node::Path& to,
                                                    const std::string& reason) {
          Record(i, peer, to, reason);
        }));
    app->TraceConnectWithoutContext(
        "PeerRemoved", ns3::Callback<void, const NodePublicKey&>([this, i](const NodePublicKey& peer) {
          Record(i, peer, node::Path::None(), "peer-removed");
        }));
  }
}

void PathRecorder::NodeRestarting(size_t node) {
  const node::Node* machine = world_.nodes[node].app->GetMachine();
  if (machine == nullptr) return;
  for (const NodePublicKey& peer : machine->Peers()) {
    Record(node, peer, node::Path::None(), "restart");
  }
}

void PathRecorder::Record(size_t node, const NodePublicKey& peer, const node::Path& path,
                          const std::string& reason) {
  const WorldNode& from = world_.nodes[node];
  const WorldNode* to = world_.FindNodeByKey(peer);
  if (to == nullptr) return;  // not one of the scenario's nodes: cannot happen in a world we built
  const size_t peer_index = world_.IndexOf(*to);
  const results::PathKind kind = world_.paths().Classify(node, peer_index, path);
  if (summarise_ && listed_.count(KeyOf(node, peer_index)) == 0) {
    ++unlisted_;
    if (kind == results::PathKind::kDirect || kind == results::PathKind::kLocal) ++unlisted_direct_;
    return;
  }
  results::PathChange c;
  c.at = Duration::Nanos(ns3::Simulator::Now().GetNanoSeconds());
  c.node = from.name;
  c.peer = to->name;
  c.path = kind;
  c.detail = path.ToString();
  c.reason = reason;
  results_.timeline.push_back(std::move(c));
}

std::map<std::string, uint64_t> PathRecorder::Counters() const {
  if (!summarise_) return {};
  return {{"unlisted_direct_entries", unlisted_direct_}, {"unlisted_entries", unlisted_}};
}

}  // namespace runsim
}  // namespace punchlab
