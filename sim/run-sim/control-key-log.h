// `--pcap`'s control key log: every control frame the run's machines seal
// (the control server and every node's ControlClient), as
// "<nonce hex> <message hex>" lines, the disco key log's format. Written as
// pcap/control-keys.log; analysis/wireshark/punchlab.lua reads it
// (-o punchlab_control.keylog:PATH) to show each sealed control message.
#pragma once

#include <string>

#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

class ControlKeyLog {
 public:
  // Hooks into the world's control server and nodes; before the run starts.
  // Must outlive the run.
  explicit ControlKeyLog(ScenarioWorld& world);
  ControlKeyLog(const ControlKeyLog&) = delete;
  ControlKeyLog& operator=(const ControlKeyLog&) = delete;

  const std::string& Text() const { return text_; }

 private:
  std::string text_;
};

}  // namespace runsim
}  // namespace punchlab
