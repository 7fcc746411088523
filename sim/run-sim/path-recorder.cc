#include "run-sim/path-recorder.h"

#include "ns3/callback.h"
#include "ns3/simulator.h"

namespace punchlab {
namespace runsim {

PathRecorder::PathRecorder(ScenarioWorld& world, results::Results& results)
    : world_(world), results_(results) {
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
  results::PathChange c;
  c.at = Duration::Nanos(ns3::Simulator::Now().GetNanoSeconds());
  c.node = from.name;
  c.peer = to->name;
  c.path = world_.paths().Classify(node, world_.IndexOf(*to), path);
  c.detail = path.ToString();
  c.reason = reason;
  results_.timeline.push_back(std::move(c));
}

}  // namespace runsim
}  // namespace punchlab
