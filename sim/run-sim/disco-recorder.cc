#include "run-sim/disco-recorder.h"

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "ns3/callback.h"
#include "ns3/simulator.h"
#include "results/disco-step.h"

namespace punchlab {
namespace runsim {

DiscoRecorder::DiscoRecorder(ScenarioWorld& world, results::Results& results)
    : world_(world), results_(results) {
  for (size_t i = 0; i < world_.nodes.size(); ++i) {
    world_.nodes[i].app->TraceConnectWithoutContext(
        "DiscoLog", ns3::Callback<void, const node::EventBody&>([this, i](const node::EventBody& e) {
          if (const auto* sent = std::get_if<node::DiscoSent>(&e)) {
            const std::string line = results::DiscoKeyLogLine(*sent);
            if (!line.empty()) key_log_ += line + "\n";
          }
          std::optional<results::NodeDiscoStep> step = results::DiscoStepOf(e);
          if (!step) return;
          if (step->step.what != results::DiscoStepKind::kPortMap) {
            const WorldNode* peer = world_.FindNodeByKey(step->peer);
            if (peer == nullptr) return;  // not one of the scenario's nodes: cannot happen
            step->step.peer = peer->name;
          }
          step->step.at = Duration::Nanos(ns3::Simulator::Now().GetNanoSeconds());
          step->step.node = world_.nodes[i].name;
          results_.disco_log.push_back(std::move(step->step));
        }));
  }
}

}  // namespace runsim
}  // namespace punchlab
