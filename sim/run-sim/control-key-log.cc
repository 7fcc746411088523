#include "run-sim/control-key-log.h"

#include "results/key-log.h"

namespace punchlab {
namespace runsim {

ControlKeyLog::ControlKeyLog(ScenarioWorld& world) {
  const control::KeyLog log = [this](ByteView nonce, ByteView message) {
    text_ += results::KeyLogLine(nonce, message) + "\n";
  };
  world.control->SetKeyLog(log);
  for (WorldNode& n : world.nodes) n.app->SetControlKeyLog(log);
}

}  // namespace runsim
}  // namespace punchlab
